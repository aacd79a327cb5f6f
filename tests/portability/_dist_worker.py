"""Subprocess worker for test_distribution.py: one SGD step, single vs. two devices.

Run as ``python -m tests.portability._dist_worker BACKEND OUT_DIR`` from the
repository root. Device setup is process-wide (TensorFlow's logical devices
must be configured before its runtime starts; ``XLA_FLAGS`` must be set before
JAX starts), which is why this runs in its own process.

For every layer case not skipped on BACKEND it builds a small functional
model, takes one SGD step on the same batch of 8 from the same initial
weights, once on a single device and once distributed over two devices
(``tf.distribute.MirroredStrategy`` on TensorFlow, ``keras.distribution.
DataParallel`` on JAX), and writes ``<case id>.npz`` with the initial, the
single-device and the distributed weights. The comparison happens in the test.
"""

import json
import os
import sys


def _setup(backend):
    os.environ["KERAS_BACKEND"] = backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if backend == "jax":
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=2").strip()
        import jax

        jax.config.update("jax_platforms", "cpu")
    elif backend == "tensorflow":
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
        )
    else:
        raise SystemExit(f"no distribution test for backend {backend!r}")


def main(backend, out_dir):
    _setup(backend)
    import keras
    import numpy as np

    from tests.cases import ALL_CASES
    from tests import _helpers

    if backend == "tensorflow":
        import tensorflow as tf

        strategy = tf.distribute.MirroredStrategy([d.name for d in tf.config.list_logical_devices("CPU")])
        replicas = strategy.num_replicas_in_sync
        scope = strategy.scope
        distribution = None
    else:
        import contextlib

        devices = keras.distribution.list_devices("cpu")
        distribution = keras.distribution.DataParallel(devices=devices)
        replicas = len(devices)
        scope = contextlib.nullcontext

    report = {"replicas": replicas, "cases": []}
    for case in ALL_CASES:
        if backend in case.skip_backends:
            continue
        rng = np.random.default_rng(7)
        arrays = case.inputs(rng, batch=8)
        x = case.pack(arrays)

        def fit(model, y):
            model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
            model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
            return [np.asarray(w) for w in model.get_weights()]

        keras.utils.set_random_seed(0)
        single = _helpers.model(case)
        y = _helpers.targets(single, rng, 8)
        init = [np.array(w) for w in single.get_weights()]
        single_weights = fit(single, y)

        if distribution is not None:
            keras.distribution.set_distribution(distribution)
        try:
            with scope():
                dist = _helpers.model(case)
                dist.set_weights(init)
                if distribution is not None:
                    report.setdefault("variable_devices", {})[case.id] = sorted(
                        {len(v.value.sharding.device_set) for v in dist.weights}
                    )
                dist_weights = fit(dist, y)
        finally:
            if distribution is not None:
                keras.distribution.set_distribution(None)
        arrays_out = {}
        for tag, ws in (("init", init), ("single", single_weights), ("dist", dist_weights)):
            for k, w in enumerate(ws):
                arrays_out[f"{tag}_{k}"] = w
        np.savez(os.path.join(out_dir, f"{case.id}.npz"), **arrays_out)
        report["cases"].append(case.id)
        keras.backend.clear_session()
    with open(os.path.join(out_dir, "report.json"), "w") as f:
        json.dump(report, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
