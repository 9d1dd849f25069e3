"""The automatic backend: the policy as a pure function of measurements, and real calls that
must go to threads, to processes, or stay in the calling process."""

import datetime
import os
import re
import sys
import threading
import time

import numpy as np
import pandas as pd
import pytest

import pdpar
from pdpar import cpus
from pdpar.cpus import usable_cpu_count
from pdpar.options import Options
from pdpar.plan import Measurement, Sample, Travel, measured
from pdpar.plan.costs import COSTS, using
from pdpar.plan.estimates import estimate
from pdpar.plan.policy import choose, plan_call

MAX_THREADS = COSTS.max_threads
POOL_START_SECONDS = COSTS.pool_start_seconds


@pytest.fixture
def free_cpus(monkeypatch):
    """Plan as if no other program used the CPUs: the tests may share the machine with other
    work, and what it asks for would change the choice these tests pin down."""
    monkeypatch.setattr(cpus, "runnable_tasks", lambda: None)


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


@pytest.mark.parametrize("work, outcome", [(0.6, "stays"), (1.2, "starts"), (3.0, "pays")])
def test_a_cold_pool_is_started_when_it_costs_this_call_little_and_pays_warm(work, outcome):
    # while the workers start (0.8 s documented), the caller runs chunks itself: a call of a
    # few seconds is faster on a cold pool; a shorter one that a cold pool would make at most
    # a little slower starts it, so that calls like it that follow find it warm; a short one
    # stays in the caller
    m = measured(100, work / 100)  # work seconds over the 10,000 rows
    plan = choose(_auto(10_000), 10_000, m, pool_warm=False)
    estimates = dict(plan.estimates)
    if outcome == "stays":
        assert plan.plain
        assert estimates["processes"] > estimates["serial"] / 0.9
    elif outcome == "starts":
        assert plan.backend == "processes" and "start in this call" in plan.reason
        assert estimates["serial"] < estimates["processes"] <= estimates["serial"] / 0.9
    else:
        assert plan.backend == "processes" and "faster than serial" in plan.reason
        assert estimates["processes"] <= 0.9 * estimates["serial"]


def test_results_that_are_slow_to_send_keep_work_out_of_processes():
    cheap = Measurement((Sample(50, 50, 0.05, 0.05),), travel=Travel(results_seconds=2e-6))
    costly = Measurement((Sample(50, 50, 0.05, 0.05),), travel=Travel(results_seconds=1e-3))
    assert choose(_auto(5_000), 5_000, cheap, pool_warm=True).backend == "processes"
    assert choose(_auto(5_000), 5_000, costly, pool_warm=True).backend != "processes"


def test_data_that_is_slow_to_pickle_keeps_a_cheap_function_out_of_processes():
    # 10 us of work per row; object datetimes take about as long again to pickle and unpickle
    samples = (Sample(50, 50, 0.0005, 0.0005),)
    cheap = Measurement(samples, travel=Travel(data_seconds=0.2e-6, data_bytes=24))
    costly = Measurement(samples, travel=Travel(data_seconds=9e-6, data_bytes=70))
    assert choose(_auto(200_000), 200_000, cheap, pool_warm=True).backend == "processes"
    assert choose(_auto(200_000), 200_000, costly, pool_warm=True).backend != "processes"


def test_a_large_argument_is_paid_once_per_call_not_once_per_chunk():
    samples = (Sample(50, 50, 0.05, 0.05),)  # 1 ms a row
    once = Measurement(samples, travel=Travel(shared_seconds=0.05, shared_bytes=2_000_000))
    every_chunk = Measurement(samples, travel=Travel(chunk_seconds=0.05))
    sent_once = dict(choose(_auto(5_000), 5_000, once, pool_warm=True).estimates)
    sent_per_chunk = dict(choose(_auto(5_000), 5_000, every_chunk, pool_warm=True).estimates)
    assert sent_once["processes"] < sent_per_chunk["processes"]
    text = choose(_auto(5_000), 5_000, once, pool_warm=True).explain()
    assert "the function and its arguments (2,000,000 bytes) once per call" in text


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
    one_worker = estimate("rows", 10_000, 10_000, m, 0, 1, True)
    assert small["serial"] < large["serial"]
    assert large["processes"] < one_worker["processes"]  # this machine has 2 usable CPUs
    # threads cannot run a function that holds the GIL faster than serially
    assert large["threads"] >= large["serial"]


def test_workers_beyond_the_usable_cpus_do_not_shorten_the_estimate():
    m = measured(10, 0.01)
    cpus = usable_cpu_count()
    enough = estimate("rows", 10_000, 10_000, m, 0, cpus, True)
    too_many = estimate("rows", 10_000, 10_000, m, 0, 4 * cpus, True)
    assert too_many["processes"] >= enough["processes"]


def test_cpus_other_programs_keep_busy_slow_every_estimate_and_shrink_the_gain():
    idle = measured(10, 0.01)
    busy = Measurement(idle.samples, busy=2.0 * usable_cpu_count())
    calm = estimate("rows", 10_000, 10_000, idle, 0, 2, True)
    loaded = estimate("rows", 10_000, 10_000, busy, 0, 2, True)
    assert loaded["serial"] > calm["serial"] and loaded["processes"] > calm["processes"]
    assert loaded["serial"] / loaded["processes"] < calm["serial"] / calm["processes"]


def test_a_free_threaded_interpreter_lets_threads_compute_in_parallel(monkeypatch):
    m = measured(10, 0.01)  # all CPU
    with_gil = estimate("rows", 10_000, 10_000, m, 0, 2, True)
    monkeypatch.setattr(sys, "_is_gil_enabled", lambda: False, raising=False)
    without_gil = estimate("rows", 10_000, 10_000, m, 0, 2, True)
    assert without_gil["threads"] < with_gil["threads"]
    assert without_gil["threads"] < without_gil["processes"]  # nothing to pickle or start
    plan = choose(_auto(10_000), 10_000, m, pool_warm=False)
    assert plan.backend == "threads", plan.explain()


def test_a_call_whose_parts_do_not_pickle_is_not_sent_to_processes():
    m = Measurement(measured(50, 0.05).samples,
                    travel=Travel(refused="the function f cannot be pickled (lock)"))
    plan = choose(_auto(50_000), 50_000, m, pool_warm=True)
    assert plan.backend != "processes"
    assert "cannot be pickled" in plan.reason


def test_cheap_rows_assemble_in_the_caller_too_so_their_assembly_is_no_cost_of_a_pool():
    # W1 with cheap rows, as measured: 3 us a row, 200,000 rows, little to send
    m = Measurement(measured(6_000, 0.018).samples,
                    travel=Travel(0.0, 33, 0.001, 0.0, 0, 0.05e-6))
    pandas_loop = estimate("rows", 194_000, 194_000, m, 0, 2, True)
    own_chunk = estimate("rows", 194_000, 194_000, m, 0, 2, True, caller_assembles=True)
    assert own_chunk["serial"] > pandas_loop["serial"]
    assert own_chunk["processes"] == pandas_loop["processes"]
    plan = choose(_auto(200_000), 200_000, m, pool_warm=True, caller_assembles=True)
    assert plan.backend == "processes", plan.explain()


def test_one_slow_unit_is_no_evidence_that_the_function_waits():
    one = Measurement((Sample(1, 1, 0.015, 0.001),))  # 15 ms of wall, 1 ms on the CPU
    three = Measurement((Sample(1, 1, 0.015, 0.001), Sample(2, 2, 0.03, 0.002)))
    assert not one.waits and three.waits


def test_on_a_busy_machine_waiting_needs_a_clearer_margin():
    samples = (Sample(1, 1, 0.0025, 0.001), Sample(2, 2, 0.005, 0.002))  # 40% on the CPU
    assert Measurement(samples).waits
    crowded = 8.0 * usable_cpu_count()  # the calling thread gets about an eighth of a CPU
    assert not Measurement(samples, busy=crowded).waits
    sleeping = (Sample(1, 1, 0.0025, 0.00001), Sample(2, 2, 0.005, 0.00002))
    assert Measurement(sleeping, busy=crowded).waits


def test_groups_are_estimated_by_rows():
    weights = np.array([1] * 100 + [999] * 100)  # the heavy groups come last
    m = measured(100, 0.001, weight=200)  # 100 light groups: 5 us per row
    plan = choose(_auto(200, kind="groups"), 200, m, weights=weights, pool_warm=True)
    assert dict(plan.estimates)["serial"] == pytest.approx(5e-6 * 100_000, rel=0.01)


def test_a_named_backend_is_kept_and_only_sized():
    plan = plan_call("rows", 10_000, Options(backend="threads", n_jobs=2))
    plan = choose(plan, 10_000, measured(10, 1e-6), pool_warm=True)
    assert plan.backend == "threads" and plan.n_chunks >= 2 and plan.estimates == ()


def test_the_explanation_gives_the_costs_behind_the_choice():
    m = Measurement(measured(20, 0.02).samples, busy=1.5,
                    travel=Travel(data_seconds=1e-6, data_bytes=80, results_seconds=2e-6))
    text = choose(_auto(10_000), 10_000, m, pool_warm=False).explain()
    assert "other programs asked for 1.5 CPUs" in text
    assert "starting them estimated at" in text
    assert "sending to worker processes: data 1 us per row (80 bytes)" in text


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


def test_a_sleeping_function_goes_to_threads(free_cpus):
    s = pd.Series(np.arange(400))
    got = s.par(n_jobs=2).map(sleepy)
    pd.testing.assert_series_equal(got, s.map(sleepy))
    plan = pdpar.last_plan()
    assert plan.backend == "threads" and plan.n_jobs > 2, plan.explain()
    assert plan.probed >= 1


def test_a_cpu_bound_loop_over_enough_rows_goes_to_processes(free_cpus):
    # on free CPUs: what other programs ask for is not read (the tests may share the machine)
    pd.Series([1]).par(backend="processes", n_jobs=2).map(counted)  # a warm pool
    df = pd.DataFrame({"a": np.arange(3_000.0)})
    got = df.par(n_jobs=2).apply(busy_row, axis=1)
    plan = pdpar.last_plan()
    pd.testing.assert_series_equal(got, df.apply(busy_row, axis=1))
    assert plan.backend == "processes" and plan.n_jobs == 2, plan.explain()


@pytest.mark.parametrize("rows", ["series", "auto"])
def test_a_tiny_frame_runs_in_the_calling_process(rows):
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0]})
    got = df.par(n_jobs=2, rows=rows).apply(lambda r: r["a"] * os.getpid(), axis=1)
    pd.testing.assert_series_equal(got, df["a"] * os.getpid(), check_names=False)
    plan = pdpar.last_plan()
    if rows == "series":  # pandas finishes the call
        assert plan.plain, plan.explain()
    else:  # the rest runs as one chunk of cheap rows, faster than pandas would
        assert plan.backend == "serial" and plan.bounds == ((plan.probed, 3),), plan.explain()
        assert plan.rows == "cheap rows"


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


def test_auto_with_a_chunk_size_measures_then_uses_it(free_cpus):
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


# --------------------------------------------------------------------------------------------
# what travels to worker processes is measured, not assumed


def days_between(row):
    return (row["end"] - row["reg"]).days


@pytest.mark.parametrize("rows", ["series", "auto"])
def test_a_cheap_function_over_object_datetimes_is_not_sent_to_processes(free_cpus, rows):
    # Python datetime objects pickle far slower than their 8-byte pointers suggest: the
    # estimate counted pointers and sent this to processes, 2.6 times slower than pandas
    pd.Series([1]).par(backend="processes", n_jobs=2).map(counted)  # a warm pool
    n = 100_000  # long enough that processes are worth pricing on a fast machine too
    start = pd.Timestamp("2000-01-01").to_pydatetime()
    reg = [start + datetime.timedelta(days=int(d)) for d in np.arange(n) * 7 % 9_000]
    df = pd.DataFrame({"reg": pd.Series(reg, dtype=object),
                       "end": pd.Series([r + datetime.timedelta(4_000) for r in reg],
                                        dtype=object),
                       "title": [f"car {i}" for i in range(n)], "p": np.linspace(0, 1, n)})
    got = df.par(n_jobs=2, rows=rows).apply(days_between, axis=1)
    plan = pdpar.last_plan()
    pd.testing.assert_series_equal(got, df.apply(days_between, axis=1))
    assert plan.backend != "processes", plan.explain()
    if rows == "series":  # slow enough per row to consider processes: what travels is measured
        assert plan.measurement is not None and plan.measurement.travel is not None, \
            plan.explain()
        assert plan.measurement.travel.data_seconds > 0


def first_match(text):
    return WORD.search(text)


WORD = re.compile(r"\w+")


def spin_then_match(text):
    for _ in range(20_000):
        pass
    return WORD.search(text)


def test_results_that_cannot_be_pickled_stay_where_no_pickling_is_needed(free_cpus):
    pd.Series([1]).par(backend="processes", n_jobs=2).map(counted)  # a warm pool
    s = pd.Series([f"word {i}" for i in range(3_000)])
    got = s.par(n_jobs=2).map(spin_then_match)  # re.Match results: they cannot be pickled
    assert [m.group() for m in got] == [m.group() for m in s.map(spin_then_match)]
    plan = pdpar.last_plan()
    assert plan.backend != "processes" and "cannot be pickled" in plan.reason, plan.explain()


def with_a_lock():
    lock = threading.Lock()

    def busy(x):
        with lock:
            total = 0
            for i in range(20_000):
                total += i % 3
        return x + total

    return busy


def test_a_function_that_cannot_be_pickled_falls_back_under_auto_and_the_plan_says_why(
        free_cpus):
    pd.Series([1]).par(backend="processes", n_jobs=2).map(counted)  # a warm pool
    s = pd.Series(np.arange(2_000))
    f = with_a_lock()
    got = s.par(n_jobs=2).map(f)
    plan = pdpar.last_plan()
    pd.testing.assert_series_equal(got, s.map(f))
    assert plan.backend != "processes" and "the function" in plan.reason, plan.explain()
    assert "cannot be pickled" in plan.reason
    with pytest.raises(pdpar.PdparError, match="could not pickle"):
        s.par(backend="processes", n_jobs=2).map(f)  # named by the caller: it says why
