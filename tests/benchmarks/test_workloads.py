"""Every public layer has a benchmark workload, so comparison (f) covers it."""

from benchmarks import bench_jit


def test_every_public_layer_has_a_jit_workload():
    missing = sorted(set(bench_jit.public_layers()) - set(bench_jit.WORKLOADS))
    assert not missing, f"add these layers to benchmarks/bench_jit.py WORKLOADS: {missing}"


def test_workloads_name_existing_layers():
    stale = sorted(set(bench_jit.WORKLOADS) - set(bench_jit.public_layers()))
    assert not stale, f"WORKLOADS names layers that are not public: {stale}"
