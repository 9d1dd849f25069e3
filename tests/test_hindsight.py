"""What the automatic backend learns from the last calls of a function: the time per unit the
whole call showed in the calling process, and how far another backend's estimate was off."""

import contextvars
import functools
import math

import numpy as np
import pandas as pd
import pytest

import pdpar
from pdpar import cpus
from pdpar.kinds.base import call_with
from pdpar.options import Options
from pdpar.plan import Plan, hindsight, measured
from pdpar.plan.costs import COSTS, using
from pdpar.plan.policy import choose, plan_call, start_price
from pdpar.run import processes


@pytest.fixture(autouse=True)
def _costs_as_documented():
    with using(COSTS):
        yield


def _auto(n_units):
    return plan_call("rows", n_units, Options(n_jobs=2))


def _slow(x):
    total = 0
    for i in range(2_000):
        total += i % 7
    return x + total


# --------------------------------------------------------------------------------------------
# what identifies a function


def test_a_lambda_made_again_is_the_same_function():
    keys = {hindsight.key_of("SeriesMap", lambda x: x + 1) for _ in range(3)}
    assert len(keys) == 1


def test_other_functions_and_other_kinds_are_told_apart():
    assert hindsight.key_of("SeriesMap", _slow) != hindsight.key_of("SeriesMap", abs)
    assert hindsight.key_of("SeriesMap", _slow) != hindsight.key_of("FrameApply", _slow)
    assert hindsight.key_of("SeriesMap", abs) == ("SeriesMap", abs)  # no code: itself


def test_pdpars_own_wrapper_is_seen_through():
    wrapped = functools.partial(call_with, _slow, (1,), {})
    assert hindsight.key_of("SeriesApply", wrapped) == hindsight.key_of("SeriesApply", _slow)
    user_partial = functools.partial(_slow)
    assert hindsight.key_of("SeriesApply", user_partial) == hindsight.key_of("SeriesApply",
                                                                             _slow)


def test_an_unhashable_callable_has_no_identity():
    class Unhashable:
        __hash__ = None

        def __call__(self, x):
            return x

    assert hindsight.key_of("SeriesMap", Unhashable()) is None
    assert hindsight.corrections(None) == {}


# --------------------------------------------------------------------------------------------
# the policy, with what was learned given by hand


def test_work_found_longer_than_measured_sends_the_call_to_processes():
    m = measured(20, 0.004)  # 200 us a row measured: 0.8 s for 4,000 rows, too little ...
    assert choose(_auto(4_000), 4_000, m, pool_warm=False).plain
    # ... but the last calls took 400 us a row in the calling process: a cold pool pays
    plan = choose(_auto(4_000), 4_000, m, pool_warm=False, learned={"serial": 400e-6})
    assert plan.backend == "processes"
    assert dict(plan.corrections)["serial"] == pytest.approx(2.0)
    assert dict(plan.estimates)["serial"] == pytest.approx(2 * 3_980 * 200e-6, rel=0.01)
    assert "the work x2.00" in plan.explain()


def test_a_time_per_unit_far_from_the_measured_one_is_other_data_and_ignored():
    m = measured(20, 0.004)
    plan = choose(_auto(4_000), 4_000, m, pool_warm=False,
                  learned={"serial": 200e-6 * hindsight.LIMIT * 1.5})
    assert plan.plain and plan.corrections == ()


def test_processes_found_slower_than_estimated_are_left():
    m = measured(20, 0.02)  # 1 ms a row: processes, estimated nearly twice as fast
    assert choose(_auto(10_000), 10_000, m, pool_warm=True).backend == "processes"
    plan = choose(_auto(10_000), 10_000, m, pool_warm=True, learned={"processes": 2.5})
    assert plan.plain
    assert "processes x2.50" in plan.explain()


# --------------------------------------------------------------------------------------------
# what a call teaches


def _decided(backend, estimate, start=None, corrections=()):
    return Plan("rows", backend, 2, ((0, 10),), "", n_units=10,
                estimates=((backend, estimate),), start_seconds=start,
                corrections=corrections)


def test_the_time_per_unit_in_the_caller_and_the_ratio_elsewhere_are_kept():
    key = ("test", "kept")
    hindsight._observe(key, _decided("serial", 1.0), 1_000.0, 2.0)
    hindsight._observe(key, _decided("processes", 0.5), 1_000.0, 1.0)
    learned = hindsight.corrections(key)
    assert learned["serial"] == pytest.approx(2e-3)
    assert learned["processes"] == pytest.approx(2.0)
    # the next ratio is measured against the estimate before its correction, and averaged
    hindsight._observe(key, _decided("processes", 1.0, corrections=(("processes", 2.0),)),
                       1_000.0, 0.5)
    assert hindsight.corrections(key)["processes"] == pytest.approx(math.sqrt(2.0))


def test_a_call_that_started_the_workers_teaches_nothing_of_processes():
    key = ("test", "started")
    hindsight._observe(key, _decided("processes", 0.5, start=0.8), 1_000.0, 3.0)
    assert hindsight.corrections(key) == {}


def test_a_ratio_is_kept_within_the_limit():
    key = ("test", "limit")
    hindsight._observe(key, _decided("threads", 0.01), 10.0, 5.0)
    assert hindsight.corrections(key)["threads"] == pytest.approx(hindsight.LIMIT)


def test_real_calls_learn_and_the_next_call_plans_with_it():
    s = pd.Series(np.arange(3_000))
    key = hindsight.key_of("SeriesMap", _slow)
    context = contextvars.Context()
    first = context.run(lambda: (s.par.map(_slow), pdpar.last_plan()))
    pd.testing.assert_series_equal(first[0], s.map(_slow))
    plan = first[1]
    assert plan.estimates  # the automatic backend chose
    learned = hindsight.corrections(key)
    if plan.backend == "processes" and plan.start_seconds is not None:
        assert learned == {}
    else:
        assert set(learned) == {plan.backend}
        result, again = context.run(lambda: (s.par.map(_slow), pdpar.last_plan()))
        pd.testing.assert_series_equal(result, s.map(_slow))
        assert again.estimates and plan.backend in dict(again.corrections)


def test_a_call_that_raises_teaches_nothing():
    def failing(x):
        if x == 2_500:
            raise ValueError("bad row")
        return _slow(x)

    with pytest.raises(ValueError, match="bad row"):
        pd.Series(np.arange(3_000)).par.map(failing)
    assert hindsight.corrections(hindsight.key_of("SeriesMap", failing)) == {}


def test_forget_clears_what_was_learned():
    key = ("test", "forget")
    hindsight._observe(key, _decided("serial", 1.0), 10.0, 1.0)
    hindsight.forget()
    assert hindsight.corrections(key) == {}


# --------------------------------------------------------------------------------------------
# calls that stayed in the caller because no worker processes were running


def test_calls_kept_from_a_cold_pool_start_it_once_they_would_have_saved_its_price():
    m = measured(100, 0.006)  # 0.6 s over 10,000 rows: pays on warm workers, not on a start
    stays = choose(_auto(10_000), 10_000, m, pool_warm=False)
    assert stays.plain and stays.start_seconds is not None
    estimates = dict(stays.estimates)
    assert estimates["processes"] > estimates["serial"] / 0.9
    assert 0 < stays.warm_saving < estimates["serial"]
    assert "warm worker processes would save it" in stays.reason
    price = start_price(estimates, stays.start_seconds)
    assert price >= stays.start_seconds

    almost = choose(_auto(10_000), 10_000, m, pool_warm=False, missed=0.99 * price)
    assert almost.plain and almost.warm_saving == pytest.approx(stays.warm_saving)
    starts = choose(_auto(10_000), 10_000, m, pool_warm=False, missed=price)
    assert starts.backend == "processes" and starts.start_seconds is not None
    assert "would have saved" in starts.reason and starts.warm_saving is None
    warm = choose(_auto(10_000), 10_000, m, pool_warm=True)
    assert warm.backend == "processes" and "faster than serial" in warm.reason


def test_work_that_warm_workers_would_not_speed_up_adds_nothing_and_never_starts_them():
    m = measured(3_000, 0.0015)  # 0.5 us per element, like map(lambda x: x ** 2)
    plan = choose(plan_call("elements", 100_000, Options(n_jobs=2)), 100_000, m,
                  pool_warm=False, missed=1e6)
    assert plan.plain and plan.warm_saving is None


def test_what_calls_went_without_adds_up_and_starting_the_workers_clears_it():
    stayed = Plan("rows", "serial", 1, (), "", n_units=10, warm_saving=0.25)
    hindsight.cold_pool(stayed)
    hindsight.cold_pool(stayed)
    assert hindsight.missed() == pytest.approx(0.5)
    hindsight.cold_pool(_decided("processes", 0.5))  # on warm workers: changes nothing
    assert hindsight.missed() == pytest.approx(0.5)
    hindsight.cold_pool(_decided("processes", 0.5, start=0.8))
    assert hindsight.missed() == 0
    hindsight.cold_pool(stayed)
    hindsight.forget()
    assert hindsight.missed() == 0


@pytest.fixture
def no_workers(monkeypatch):
    """No worker processes running, and no other program's load in the estimates."""
    monkeypatch.setattr(cpus, "runnable_tasks", lambda: None)
    processes.shutdown()
    yield
    processes.shutdown()


def test_real_calls_add_up_what_they_went_without_and_one_starts_the_workers(no_workers):
    # _slow on 2,000 elements: about 0.35 s here, within the 0.15 to 1 s where warm workers
    # would pay and starting them would not
    s = pd.Series(np.arange(2_000))
    expected = s.map(_slow)
    context = contextvars.Context()
    result, plan = context.run(lambda: (s.par.map(_slow), pdpar.last_plan()))
    pd.testing.assert_series_equal(result, expected)
    assert plan.plain and plan.warm_saving, plan.explain()
    assert hindsight.missed() == pytest.approx(plan.warm_saving)

    hindsight._missed[0] = 1e3  # as after many such calls
    result, plan = context.run(lambda: (s.par.map(_slow), pdpar.last_plan()))
    pd.testing.assert_series_equal(result, expected)
    assert plan.backend == "processes" and "would have saved" in plan.reason, plan.explain()
    assert processes.pool_is_warm(plan.n_jobs) and hindsight.missed() == 0
