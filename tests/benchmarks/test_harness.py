"""The timing harness: interleaved rounds and the ratio convention."""

import time

import pytest

from benchmarks.harness import Row, Timing, measure_interleaved, round_ratios


def test_measure_interleaved_runs_every_function_round_by_round():
    calls = []
    fns = {name: (lambda name=name: calls.append(name)) for name in "abc"}
    times = measure_interleaved(fns, warmup=1, repeats=4)
    assert set(times) == {"a", "b", "c"} and all(t.repeats == 4 for t in times.values())
    assert calls[:3] == ["a", "b", "c"]  # warm-up
    rounds = [calls[3 + 3 * r : 6 + 3 * r] for r in range(4)]
    assert all(sorted(r) == ["a", "b", "c"] for r in rounds)
    assert [r[0] for r in rounds] == ["a", "b", "c", "a"]  # the order rotates


def test_slower_function_gets_the_larger_median_and_ratio_is_baseline_over_ours():
    times = measure_interleaved({"fast": lambda: None, "slow": lambda: time.sleep(0.01)}, warmup=0, repeats=3)
    assert times["slow"].median >= 0.01 > times["fast"].median
    row = Row("w", ours=times["fast"], baseline=times["slow"], floor=1.0)
    assert row.ratio > 1 and row.meets_floor
    assert Row("w", Timing(2.0, 0, 1), Timing(1.0, 0, 1), floor=1.0).meets_floor is False


def test_timing_keeps_its_samples_best_and_round_ratios():
    run = object()
    ours, baseline = Timing.of([1.0, 3.0, 2.0], run), Timing.of([4.0, 3.0, 2.0], run)
    assert (ours.median, ours.spread, ours.repeats, ours.best) == (2.0, 2.0, 3, 1.0)
    assert round_ratios(ours, baseline) == [1.0, 1.0, 4.0]  # 4/1, 3/3, 2/2, sorted
    times = measure_interleaved({"a": lambda: None, "b": lambda: time.sleep(0.002)}, warmup=0, repeats=3)
    assert len(times["b"].samples) == 3 and min(times["b"].samples) == times["b"].best >= 0.002
    assert all(r > 1 for r in round_ratios(times["a"], times["b"]))
    with pytest.raises(ValueError, match="same measure_interleaved run"):
        round_ratios(ours, Timing.of([1.0], run))


def test_tables_show_the_rounds_ratio_range_only_for_paired_timings():
    from benchmarks.harness import Table

    times = measure_interleaved({"a": lambda: None, "b": lambda: time.sleep(0.002)}, warmup=0, repeats=3)
    other = measure_interleaved({"a": lambda: None}, warmup=0, repeats=3)
    ratios = round_ratios(times["a"], times["b"])
    with pytest.raises(ValueError, match="same measure_interleaved run"):
        round_ratios(other["a"], times["b"])  # same length, another run: rounds do not pair
    table = Table("t", "a", "b", [Row("paired", times["a"], times["b"]), Row("not", other["a"], times["b"])]).markdown()
    assert "| rounds' ratios |" in table
    assert f"| {ratios[0]:.2f}x-{ratios[-1]:.2f}x |" in table.splitlines()[4]
    assert table.splitlines()[5].endswith("|  |")  # unpaired row: empty cell
    assert "rounds' ratios" not in Table("t", "a", "b", [Row("not", other["a"], times["b"])]).markdown()
