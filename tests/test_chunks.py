"""How inputs are split: views in order, whole groups balanced by size, nothing written back."""

import os

import numpy as np
import pandas as pd
import pytest

from pdpar.options import Options
from pdpar.plan import Measurement, Sample, measured
from pdpar.plan.bounds import next_probe, size_chunks, weighted_bounds
from pdpar.plan.costs import COSTS, using
from pdpar.plan.policy import plan_call

CHUNKS_PER_WORKER = COSTS.chunks_per_worker
DISPATCH_SECONDS = COSTS.dispatch_seconds
MAX_CHUNK_BYTES = COSTS.max_chunk_bytes
MAX_OVERHEAD = COSTS.max_overhead
PROBE_SECONDS = COSTS.probe_seconds
TARGET_CHUNK_SECONDS = COSTS.target_chunk_seconds


@pytest.fixture(autouse=True)
def _costs_as_documented():
    """Chunk sizes computed from the documented costs, not from what this process measured."""
    with using(COSTS):
        yield


def row_pid(row):
    return os.getpid()


def test_results_come_back_in_input_order_with_many_small_chunks(backend):
    df = pd.DataFrame({"x": np.arange(300)}, index=np.arange(300)[::-1] * 3)
    got = df.par(backend=backend, chunksize=4).apply(lambda r: r["x"] + 0.5, axis=1)
    pd.testing.assert_series_equal(got, df.apply(lambda r: r["x"] + 0.5, axis=1))


def test_processes_backend_runs_in_other_processes():
    df = pd.DataFrame({"x": np.arange(40)})
    pids = df.par(backend="processes", chunksize=5).apply(row_pid, axis=1)
    assert os.getpid() not in set(pids)


def test_named_backend_is_used_even_for_one_row():
    df = pd.DataFrame({"x": [1]})
    assert df.par(backend="processes", n_jobs=2).apply(row_pid, axis=1).iloc[0] != os.getpid()


def test_a_group_is_never_split_across_chunks(backend):
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"k": rng.integers(0, 30, 500), "x": rng.random(500)})
    sizes = df.par(backend=backend, chunksize=4).groupby("k").apply(len)
    pd.testing.assert_series_equal(sizes, df.groupby("k").apply(len))


def test_groups_are_balanced_by_rows_with_many_groups_per_chunk():
    sizes = np.array([1000] + [10] * 400 + [1000])
    bounds = weighted_bounds(sizes, 8)
    assert bounds[0][0] == 0 and bounds[-1][1] == len(sizes)
    assert all(a < b for a, b in bounds)
    assert all(b1 == a2 for (_, b1), (a2, _) in zip(bounds, bounds[1:]))
    loads = [int(sizes[a:b].sum()) for a, b in bounds]
    assert max(loads) <= 2 * sizes.sum() / 8 + 1000
    assert max(b - a for a, b in bounds) > 1  # many groups share a chunk


def test_automatic_chunks_are_sized_after_measuring_in_the_caller():
    plan = plan_call("rows", 10_000, Options(backend="threads", n_jobs=2))
    assert plan.bounds is None  # to be sized from a measurement
    # the measuring chunks grow from one unit and stay below a share of one chunk
    sizes, samples = [], []
    while size := next_probe(plan, 10_000, Measurement(tuple(samples))):
        sizes.append(size)
        samples.append(Sample(size, size, 1e-6 * size, 1e-6 * size))
    assert sizes[0] == 1 and sizes == sorted(sizes) and sum(sizes) == 10_000 // 32
    assert next_probe(plan, 10_000, measured(4, PROBE_SECONDS)) == 0


@pytest.mark.parametrize("fixed, per_unit", [(0.5e-3, 10e-6), (1e-3, 2e-6), (0.3e-3, 5e-3),
                                              (0.0, 1e-4)])
def test_measuring_takes_few_chunks_and_little_more_than_its_time(fixed, per_unit):
    plan = plan_call("rows", 100_000, Options(backend="processes", n_jobs=2))
    limit = 100_000 // 32
    sizes, samples = [], []
    while size := next_probe(plan, 100_000, Measurement(tuple(samples))):
        sizes.append(size)
        took = fixed + per_unit * size  # pandas' set-up of the chunk, then the units
        samples.append(Sample(size, size, took, took))
    done, seconds = sum(sizes), sum(s.wall for s in samples)
    assert sizes[0] == 1 and done <= limit
    assert len(sizes) <= 4  # each chunk pays pandas' set-up again
    # measured all it may, or until a chunk as large as those before would not fit the time
    assert done == limit or seconds + fixed + per_unit * done > PROBE_SECONDS
    assert seconds <= PROBE_SECONDS  # never more than set aside: the workers wait meanwhile


def _sized(backend="processes", n_jobs=2, n=1_000_000, probed=1000, unit_seconds=1e-5,
           nbytes=0, weights=None):
    plan = plan_call("rows", n, Options(backend=backend, n_jobs=n_jobs))
    seconds = probed * unit_seconds
    return size_chunks(plan, n, measured(probed, seconds), nbytes, weights)


def _cover(plan, n, probed):
    assert plan.bounds[0][0] == probed and plan.bounds[-1][1] == n
    assert all(b1 == a2 for (_, b1), (a2, _) in zip(plan.bounds, plan.bounds[1:]))


def test_every_worker_gets_several_chunks():
    plan = _sized(unit_seconds=1e-5)  # 10 s of work: chunks of about TARGET_CHUNK_SECONDS
    _cover(plan, 1_000_000, 1000)
    assert plan.n_chunks >= CHUNKS_PER_WORKER * 2
    largest = max(b - a for a, b in plan.bounds)
    assert largest * 1e-5 == pytest.approx(TARGET_CHUNK_SECONDS, rel=0.05)
    assert plan.unit_seconds == pytest.approx(1e-5)


def test_the_last_round_of_chunks_is_cut_smaller_so_the_workers_finish_together():
    plan = _sized(unit_seconds=1e-5)  # 10 s of work on 2 workers
    sizes = [b - a for a, b in plan.bounds]
    bulk = sizes[0]
    assert all(size == pytest.approx(bulk, abs=1) for size in sizes[:-6])
    assert sizes[-6:-4] == pytest.approx([bulk / 2] * 2, abs=1)
    assert sizes[-4:] == pytest.approx([bulk / 4] * 4, abs=1)
    assert plan.n_chunks % 2 == 0  # still whole rounds


def test_the_last_round_is_not_cut_when_smaller_chunks_would_not_pay_for_dispatch():
    plan = _sized(unit_seconds=2.5e-7)  # 0.25 s: 8 chunks, each just worth its dispatch
    sizes = [b - a for a, b in plan.bounds]
    assert max(sizes) - min(sizes) <= 1


def test_group_chunks_end_smaller_too_and_stay_balanced_by_rows():
    weights = np.full(20_000, 100)
    plan = plan_call("groups", len(weights), Options(backend="processes", n_jobs=2))
    plan = size_chunks(plan, len(weights), measured(100, 0.01, weight=10_100), 0, weights)
    _cover(plan, len(weights), 100)
    loads = [int(weights[a:b].sum()) for a, b in plan.bounds]
    assert loads[-1] == pytest.approx(loads[0] / 4, rel=0.05)


def test_dispatch_stays_a_small_share_of_each_chunk():
    # 40 ms of work in all: the chunks would be too short to pay for their dispatch
    plan = _sized(unit_seconds=4e-8)
    assert plan.n_chunks == 2  # one per worker, never fewer
    # 0.1 s in all: fewer than four chunks per worker, each still worth its dispatch (3),
    # in whole rounds of the 2 workers: 3 equal chunks would take as long as 4
    plan = _sized(unit_seconds=1e-7)
    assert int(0.1 / (DISPATCH_SECONDS["processes"] / MAX_OVERHEAD)) == 3
    assert plan.n_chunks == 2
    # 0.25 s: 8 chunks (4 per worker) are each worth their dispatch; 0.22 s: 7 are, in rounds: 6
    plan = _sized(unit_seconds=2.5e-7)
    assert int(0.25 / (DISPATCH_SECONDS["processes"] / MAX_OVERHEAD)) == 8
    assert plan.n_chunks == 8
    plan = _sized(unit_seconds=2.2e-7)
    assert int(0.22 / (DISPATCH_SECONDS["processes"] / MAX_OVERHEAD)) == 7
    assert plan.n_chunks == 6


def test_chunks_are_small_enough_to_keep_memory_bounded():
    plan = _sized(unit_seconds=4e-8, nbytes=40 * MAX_CHUNK_BYTES)
    assert plan.n_chunks >= 40


def test_group_chunks_are_sized_by_rows():
    weights = np.array([10] * 1000 + [1000] * 10)
    plan = plan_call("groups", len(weights), Options(backend="processes", n_jobs=2))
    plan = size_chunks(plan, len(weights), measured(100, 0.01, weight=1100), 0, weights)
    _cover(plan, len(weights), 100)
    loads = [int(weights[a:b].sum()) for a, b in plan.bounds]
    assert max(loads) <= 1000 + weights[100:].sum() / plan.n_chunks


def test_explicit_chunksize_counts_units():
    plan = plan_call("groups", 10, Options(backend="threads", chunksize=3))
    assert plan.bounds == ((0, 3), (3, 6), (6, 9), (9, 10))


def test_auto_decides_before_measuring_only_when_there_is_nothing_to_share():
    assert plan_call("rows", 1, Options(n_jobs=2)).plain
    assert plan_call("rows", 100_000, Options(n_jobs=1)).plain
    plan = plan_call("rows", 100, Options(n_jobs=2))
    assert plan.backend == "auto" and plan.bounds is None  # decided after measuring


def test_n_jobs_minus_one_honours_the_environment(monkeypatch):
    monkeypatch.setenv("PDPAR_N_JOBS", "3")
    assert plan_call("rows", 100, Options(backend="threads")).n_jobs == 3
    monkeypatch.setenv("PDPAR_N_JOBS", "many")
    with pytest.raises(ValueError, match="PDPAR_N_JOBS"):
        plan_call("rows", 100, Options(backend="threads"))


def mutate_row(row):
    row["x"] = -1
    return row["x"]


def mutate_group(group):
    group["x"] = -1
    return group


def test_input_is_never_written(backend):
    df = pd.DataFrame({"x": np.arange(20.0), "k": np.arange(20) % 3})
    before = df.copy()
    df.par(backend=backend, chunksize=3).apply(mutate_row, axis=1)
    df.par(backend=backend, chunksize=1).groupby("k").apply(mutate_group)
    pd.testing.assert_frame_equal(df, before)


@pytest.mark.parametrize(("rows", "task"), [("series", "record_frame_chunk"),
                                           ("auto", "cheap_frame_chunk")])
def test_chunks_are_views_of_the_input(rows, task):
    from pdpar.kinds import rows as frame

    seen = []

    def spy(piece, *rest):
        seen.append(np.shares_memory(piece["x"].to_numpy(), df["x"].to_numpy()))
        return original(piece, *rest)

    df = pd.DataFrame({"x": np.arange(20.0)})
    original = getattr(frame, task)
    setattr(frame, task, spy)
    try:
        df.par(backend="serial", chunksize=5, rows=rows).apply(lambda r: r["x"], axis=1)
    finally:
        setattr(frame, task, original)
    assert seen == [True] * 4


def test_process_pool_stays_warm_between_calls():
    df = pd.DataFrame({"x": np.arange(40)})
    first = set(df.par(backend="processes", n_jobs=2, chunksize=5).apply(row_pid, axis=1))
    second = set(df.par(backend="processes", n_jobs=2, chunksize=5).apply(row_pid, axis=1))
    assert first & second


def test_joblib_calls_between_pdpar_calls_leave_both_pools_warm():
    # joblib.Parallel keeps its workers only while its arguments stay the same; pdpar's pool
    # is its own, so a program alternating the two restarts neither
    from joblib import Parallel, delayed

    df = pd.DataFrame({"x": np.arange(40)})
    ours, theirs = [], []
    for _ in range(3):
        ours.append(set(df.par(backend="processes", n_jobs=2, chunksize=5)
                        .apply(row_pid, axis=1)))
        theirs.append(set(Parallel(n_jobs=2)(delayed(os.getpid)() for _ in range(8))))
    # the same two workers (at most) served every call of each: none was started again
    assert len(set().union(*ours)) <= 2 and len(set().union(*theirs)) <= 2
    assert not set().union(*ours) & set().union(*theirs)


def test_measuring_stops_when_the_time_left_holds_less_than_was_measured():
    # measured on W1 (200,000 rows): 1, 32 and 1,056 rows took 17 ms of the 20 ms; a chunk
    # of three times as many rows took another 75 ms while the workers waited
    plan = plan_call("rows", 200_000, Options(backend="processes", n_jobs=2))
    samples = (Sample(1, 1, 0.55e-3, 0.55e-3), Sample(32, 32, 1.17e-3, 1.17e-3),
               Sample(1056, 1056, 15.5e-3, 15.5e-3))
    assert next_probe(plan, 200_000, Measurement(samples[:2])) <= 1056
    assert next_probe(plan, 200_000, Measurement(samples)) == 0


def test_a_function_that_seems_to_wait_is_measured_on_enough_units_to_tell():
    plan = plan_call("elements", 10_000, Options(n_jobs=2))
    one_slow_unit = measured(1, 0.015, cpu=0.001)  # 15 ms of wall, 1 ms on the CPU
    assert next_probe(plan, 10_000, one_slow_unit) == COSTS.wait_evidence_units - 1
    computing = measured(1, 0.015)  # 15 ms on the CPU: the probe time is nearly spent
    assert next_probe(plan, 10_000, computing) == 0
