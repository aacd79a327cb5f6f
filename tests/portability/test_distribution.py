"""Distribution: one training step on two devices equals the single-device step.

For every layer case, ``_dist_worker`` (run in a subprocess, because device
setup is process-wide) takes one SGD step from the same initial weights on the
same batch, on one device and on two: ``tf.distribute.MirroredStrategy`` over
two logical CPU devices (TensorFlow backend) and
``keras.distribution.DataParallel`` over two JAX host devices
(``XLA_FLAGS=--xla_force_host_platform_device_count=2``, JAX backend). The
single-device step is the oracle: the distributed weights must match it.

Each strategy is tested when the suite runs on its backend, so a CI run over
the three backends tests each once.
"""

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from tests._helpers import BACKEND
from tests.cases import ALL_CASES
from tests import _helpers

# One subprocess fits every case; keep all of this module's tests on one xdist worker.
pytestmark = pytest.mark.xdist_group("distribution")

ROOT = pathlib.Path(__file__).resolve().parents[2]
STRATEGY = {"tensorflow": "tf.distribute.MirroredStrategy", "jax": "keras.distribution.DataParallel"}

pytestmark = pytest.mark.skipif(
    BACKEND not in STRATEGY,
    reason=f"distribution is tested on tensorflow ({STRATEGY['tensorflow']}) and jax ({STRATEGY['jax']}); "
    f"Keras has no multi-device strategy for {BACKEND}",
)


@pytest.fixture(scope="module")
def worker_output(tmp_path_factory):
    out = tmp_path_factory.mktemp(f"dist_{BACKEND}")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    proc = subprocess.run(
        [sys.executable, "-m", "tests.portability._dist_worker", BACKEND, str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, f"distribution worker failed:\n{proc.stderr[-4000:]}"
    with open(out / "report.json") as f:
        return out, json.load(f)


def _load(out, case):
    data = np.load(out / f"{case.id}.npz")
    count = len([k for k in data.files if k.startswith("init_")])
    return [[data[f"{tag}_{k}"] for k in range(count)] for tag in ("init", "single", "dist")]


def test_two_replicas(worker_output):
    _, report = worker_output
    assert report["replicas"] == 2
    if BACKEND == "jax":
        # every variable is laid out over (replicated on) both devices
        # (a weightless layer has no variable to place)
        assert all(devices in ([2], []) for devices in report["variable_devices"].values()), report["variable_devices"]
    assert report["cases"] == [c.id for c in ALL_CASES if BACKEND not in c.skip_backends]


@pytest.mark.parametrize("case", _helpers.params())
def test_one_step_matches_single_device(case, worker_output):
    out, _ = worker_output
    init, single, dist = _load(out, case)
    assert len(dist) == len(single) == len(init)
    if case.stochastic_training or case.batch_statistics:
        # replicas draw other noise, or normalise with their share of the batch: the step must run and stay finite
        assert all(np.all(np.isfinite(d)) for d in dist)
        return
    for k, (s, d) in enumerate(zip(single, dist)):
        np.testing.assert_allclose(d, s, rtol=1e-4, atol=1e-6, err_msg=f"{case.id} weight {k} ({STRATEGY[BACKEND]})")
    if case.trainable:
        moved = max(float(np.max(np.abs(s - i))) for s, i in zip(single, init))
        assert moved > 1e-4, f"{case.id}: the training step did not change the weights"
