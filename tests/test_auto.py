"""The automatic backend: the policy as a pure function of measurements, and real calls that
must go to threads, to processes, or stay in the calling process."""

import os
import time

import numpy as np
import pandas as pd
import pytest

import pdpar
from pdpar.options import Options
from pdpar.plan import Measurement, Sample, measured
from pdpar.plan.costs import COSTS, using
from pdpar.plan.policy import choose, estimate, plan_call

MAX_THREADS = COSTS.max_threads
POOL_START_SECONDS = COSTS.pool_start_seconds


@pytest.fixture(autouse=True)
def _costs_as_documented():
    """Estimates from the documented costs, not from what this process measured."""
    with using(COSTS):
        yield


def _auto(n_units, n_jobs=2, kind="rows"):
    return plan_call(kind, n_units, Options(n_jobs=n_jobs))


# --------------------------------------------------------------------------------------------
# the policy, from measurements given by hand


def test_a_waiting_function_gets_more_threads_than_cores():
    m = measured(10, 0.02, cpu=0.0005)  # 2 ms per unit, 2.5% of it on the CPU
    plan = choose(_auto(2_000), 2_000, m, pool_warm=True)
    assert plan.backend == "threads"
    assert 2 < plan.n_jobs <= MAX_THREADS
    assert plan.bounds[0][0] == 10 and plan.bounds[-1][1] == 2_000
    assert "waits" in plan.reason


def test_a_cpu_bound_function_with_enough_work_goes_to_processes():
    m = measured(20, 0.02)  # 1 ms of CPU per row
    plan = choose(_auto(10_000), 10_000, m, pool_warm=True)
    assert plan.backend == "processes" and plan.n_jobs == 2
    estimates = dict(plan.estimates)
    assert estimates["processes"] < estimates["threads"] <= estimates["serial"] * 1.01


def test_light_work_stays_in_the_calling_process():
    m = measured(3_000, 0.0015)  # 0.5 us per element, like map(lambda x: x ** 2)
    plan = choose(_auto(100_000, kind="elements"), 100_000, m, pool_warm=True)
    assert plan.plain and plan.bounds == ()
    assert "would not pay" in plan.reason


def test_a_cold_pool_must_be_paid_for_by_the_work():
    work = POOL_START_SECONDS  # as much work as starting the pool costs
    m = measured(100, work / 100)
    assert choose(_auto(100 * 100), 100 * 100, m, pool_warm=False).plain
    assert choose(_auto(100 * 100), 100 * 100, m, pool_warm=True).backend == "processes"


@pytest.mark.parametrize("work, starts", [(1.2, False), (2.5, True), (3.0, True)])
def test_a_cold_pool_is_started_when_it_costs_this_call_little_and_pays_warm(work, starts):
    # about the size of W1 or W3 on a fast minute: a cold pool does not make this call
    # faster, but once started it makes every call like it that follows about 1.6x faster
    m = measured(100, work / 100)  # work seconds over the 10,000 rows
    plan = choose(_auto(10_000), 10_000, m, pool_warm=False)
    estimates = dict(plan.estimates)
    if starts:
        assert plan.backend == "processes"
        assert estimates["processes"] <= estimates["serial"] / 0.9
        assert "start in this call" in plan.reason
    else:
        assert plan.plain
        assert estimates["processes"] > estimates["serial"] / 0.9


def test_results_that_are_slow_to_send_keep_work_out_of_processes():
    cheap = Measurement((Sample(50, 50, 0.05, 0.05),), results_seconds=0.0001)
    costly = Measurement((Sample(50, 50, 0.05, 0.05),), results_seconds=0.05)
    assert choose(_auto(5_000), 5_000, cheap, pool_warm=True).backend == "processes"
    assert choose(_auto(5_000), 5_000, costly, pool_warm=True).backend != "processes"


def test_the_fixed_cost_of_a_chunk_is_told_apart_from_the_work_per_unit():
    m = Measurement((Sample(1, 1, 0.0011, 0.0011), Sample(3, 3, 0.0013, 0.0013)))
    assert m.per_weight == pytest.approx(1e-4)
    assert m.per_chunk == pytest.approx(1e-3)
    # a single chunk cannot be split: all of it counts as work
    assert measured(4, 0.004).per_weight == pytest.approx(1e-3)


def test_estimates_grow_with_the_work_and_shrink_with_workers():
    m = measured(10, 0.01)
    small = estimate("rows", 1_000, 1_000, m, 0, 2, True)
    large = estimate("rows", 10_000, 10_000, m, 0, 2, True)
    more_workers = estimate("rows", 10_000, 10_000, m, 0, 4, True)
    assert small["serial"] < large["serial"]
    assert more_workers["processes"] < large["processes"]
    # threads cannot run a function that holds the GIL faster than serially
    assert large["threads"] >= large["serial"]


def test_groups_are_estimated_by_rows():
    weights = np.array([1] * 100 + [999] * 100)  # the heavy groups come last
    m = measured(100, 0.001, weight=200)  # 100 light groups: 5 us per row
    plan = choose(_auto(200, kind="groups"), 200, m, weights=weights, pool_warm=True)
    assert dict(plan.estimates)["serial"] == pytest.approx(5e-6 * 100_000, rel=0.01)


def test_a_named_backend_is_kept_and_only_sized():
    plan = plan_call("rows", 10_000, Options(backend="threads", n_jobs=2))
    plan = choose(plan, 10_000, measured(10, 1e-6), pool_warm=True)
    assert plan.backend == "threads" and plan.n_chunks >= 2 and plan.estimates == ()


def test_the_plan_explains_itself():
    plan = choose(_auto(10_000), 10_000, measured(20, 0.02), pool_warm=True)
    text = plan.explain()
    assert str(plan) in text
    assert "measured: 20 rows" in text and "estimated time for the rest" in text
    assert "processes" in str(plan)


# --------------------------------------------------------------------------------------------
# real calls


def sleepy(x):
    time.sleep(0.002)
    return x * 2


def busy_row(row):
    total = 0.0
    for i in range(3_000):
        total += (i % 7) * 0.5
    return total + row["a"]


calls = []


def counted(x):
    calls.append(x)
    return x + 1


def test_a_sleeping_function_goes_to_threads():
    s = pd.Series(np.arange(400))
    got = s.par(n_jobs=2).map(sleepy)
    pd.testing.assert_series_equal(got, s.map(sleepy))
    plan = pdpar.last_plan()
    assert plan.backend == "threads" and plan.n_jobs > 2, plan.explain()
    assert plan.probed >= 1


def test_a_cpu_bound_loop_over_enough_rows_goes_to_processes():
    pd.Series([1]).par(backend="processes", n_jobs=2).map(counted)  # a warm pool
    df = pd.DataFrame({"a": np.arange(3_000.0)})
    got = df.par(n_jobs=2).apply(busy_row, axis=1)
    plan = pdpar.last_plan()
    pd.testing.assert_series_equal(got, df.apply(busy_row, axis=1))
    assert plan.backend == "processes" and plan.n_jobs == 2, plan.explain()


def test_a_tiny_frame_runs_in_the_calling_process():
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0]})
    got = df.par(n_jobs=2).apply(lambda r: r["a"] * os.getpid(), axis=1)
    pd.testing.assert_series_equal(got, df["a"] * os.getpid(), check_names=False)
    assert pdpar.last_plan().plain


@pytest.mark.parametrize("n", [1, 2, 50, 5_000])
def test_auto_runs_every_unit_exactly_once(n):
    s = pd.Series(np.arange(n))
    calls.clear()
    got = s.par(n_jobs=2).map(counted)
    pd.testing.assert_series_equal(got, s + 1)
    if pdpar.last_plan().backend in ("serial", "threads"):  # units ran in this process
        assert sorted(calls) == list(range(n))


def test_plan_decides_without_running_the_whole_call():
    s = pd.Series(np.arange(100_000))
    calls.clear()
    plan = s.par(n_jobs=2).plan.map(counted)
    assert isinstance(plan, pdpar.Plan) and plan.n_units == 100_000
    assert 0 < len(calls) < 100_000  # only the measured units ran
    assert plan.measurement is not None and plan.measurement.units == len(calls)


def test_plan_of_apply_and_of_a_groupby():
    df = pd.DataFrame({"k": np.arange(400) % 40, "a": np.arange(400.0)})
    plan = df.par(n_jobs=2).plan(busy_row, axis=1)
    assert plan.unit == "rows" and plan.n_units == 400
    group_plan = df.par(n_jobs=2).groupby("k").plan(lambda g: g["a"].sum())
    assert group_plan.unit == "groups" and group_plan.n_units == 40


def test_plan_of_a_call_pandas_runs_itself_runs_nothing():
    s = pd.Series(["a", "b", "a"], dtype="category")
    calls.clear()
    plan = s.par.plan.map(counted)
    assert plan.plain and "categor" in plan.reason and calls == []


def test_the_last_plan_is_kept_per_thread():
    from concurrent.futures import ThreadPoolExecutor

    pd.Series(np.arange(3)).par(backend="serial").map(counted)
    with ThreadPoolExecutor(1) as pool:
        pool.submit(lambda: pd.Series(["x"], dtype="category").par.map(str.upper)).result()
    assert pdpar.last_plan().backend == "serial"


def test_auto_with_a_chunk_size_measures_then_uses_it():
    s = pd.Series(np.arange(400))
    got = s.par(n_jobs=2, chunksize=50).map(sleepy)
    pd.testing.assert_series_equal(got, s.map(sleepy))
    plan = pdpar.last_plan()
    assert plan.backend == "threads"
    assert all(b - a == 50 for a, b in plan.bounds[:-1])


def test_exceptions_in_the_measured_units_name_the_unit():
    def fail_on_first(x):
        raise KeyError(x)

    with pytest.raises(KeyError) as info:
        pd.Series([7, 8, 9]).par(n_jobs=2).map(fail_on_first)
    assert any("labelled 0" in note for note in info.value.__notes__)


def test_exceptions_after_measuring_are_pandas_own():
    def fail_late(x):
        if x == 900:
            raise ValueError("late")
        return x

    s = pd.Series(np.arange(1_000))
    with pytest.raises(ValueError, match="late"):
        s.par(n_jobs=2).map(fail_late)


def test_logging_records_each_plan(caplog):
    with caplog.at_level("DEBUG", logger="pdpar"):
        pd.Series(np.arange(10)).par(n_jobs=2).map(counted)
    assert any("Plan(10 elements" in record.getMessage() for record in caplog.records)
