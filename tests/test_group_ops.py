"""groupby transform, agg and filter, and resample apply and agg: where they run (the plan),
how their errors name the group, their progress, ``broadcast=``, and what goes to pandas."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import pytest

import pdpar
from conftest import run_with_plan

FRAME = pd.DataFrame({"k": np.arange(40) % 8, "x": np.arange(40.0), "y": np.arange(40) % 3})
TIMED = pd.DataFrame({"a": np.arange(48.0)},
                     index=pd.date_range("2024-01-01", periods=48, freq="3h", tz="UTC"))


def demeaned(g):
    return g - g.mean()


def spread(s):
    return s.max() - s.min()


def big_mean(g):
    return g["x"].mean() > 20


CALLS = {
    "transform": lambda d, on: on(d).groupby("k").transform(demeaned),
    "series transform": lambda d, on: on(d).groupby("k")["x"].transform(demeaned),
    "agg": lambda d, on: on(d).groupby("k").agg(spread),
    "aggregate of columns": lambda d, on: on(d).groupby("k")[["x", "y"]].aggregate(spread),
    "filter": lambda d, on: on(d).groupby("k").filter(big_mean),
    "series filter": lambda d, on: on(d["x"]).groupby(d["k"]).filter(lambda s: s.sum() > 80),
    "resample apply": lambda d, on: on(TIMED).resample("1D").apply(spread),
    "series resample agg": lambda d, on: on(TIMED["a"]).resample("6h").agg(spread),
    # pandas selects a resample's column as a groupby over the bins
    "resample column apply": lambda d, on: on(TIMED).resample("1D")["a"].apply(spread),
}


def _equal(got, expected):
    if isinstance(expected, pd.DataFrame):
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
    else:
        pd.testing.assert_series_equal(got, expected, check_exact=True)


def _on(**options):
    return lambda obj: obj.par(**options)


@pytest.mark.parametrize("name", list(CALLS))
def test_processes_run_the_groups_in_several_chunks(name):
    expected = CALLS[name](FRAME, lambda obj: obj)
    got, plan = run_with_plan(CALLS[name], FRAME,
                              _on(backend="processes", n_jobs=2, chunksize=2))
    _equal(got, expected)
    assert plan.backend == "processes" and len(plan.bounds) > 1 and plan.unit == "groups"


def fails_on_group_three(g):
    if g.name == 3:
        raise ZeroDivisionError("three")
    return g


def fails_to_choose_on_group_three(g):
    if g.name == 3:
        raise ZeroDivisionError("three")
    return True


def fails_on_its_values(s):
    if s.iloc[0] == 3.0:
        raise ZeroDivisionError("three")
    return s.sum()


@pytest.mark.parametrize("backend", ["threads", "processes"])
@pytest.mark.parametrize("call", [
    lambda p: p.groupby("k").transform(fails_on_group_three),
    lambda p: p.groupby("k")["x"].transform(fails_on_group_three),
    lambda p: p.groupby("k").filter(fails_to_choose_on_group_three),
    lambda p: p.groupby("k").agg(fails_on_its_values),
], ids=["transform", "series transform", "filter", "agg"])
def test_an_error_names_its_group(backend, call):
    with pytest.raises(ZeroDivisionError, match="three") as raised:
        call(FRAME.par(backend=backend, n_jobs=2, chunksize=2))
    notes = getattr(raised.value, "__notes__", [])
    assert any("group labelled 3" in note for note in notes), notes


def test_a_series_filter_error_is_pandas_type_error_naming_the_group():
    with pytest.raises(TypeError, match="the filter must return a boolean result") as raised:
        FRAME.par(backend="threads", chunksize=2).groupby("k")["x"].filter(
            lambda s: s if s.iloc[0] == 5.0 else True)
    assert any("group labelled" in note for note in raised.value.__notes__)


@pytest.mark.parametrize("name", ["transform", "agg", "filter", "resample apply"])
def test_progress_counts_every_group(name):
    seen = []
    CALLS[name](FRAME, _on(backend="threads", chunksize=2,
                           progress=lambda done, total: seen.append((done, total))))
    total = seen[-1][1]
    assert seen[-1] == (total, total) and total > 2
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def scaled_total(s, factor):
    return s.sum() * factor


def scaled(g, factor):
    return g * factor


def keeps_if_listed(g, wanted):
    return g.name in wanted


@pytest.mark.parametrize("backend", ["threads", "processes"])
def test_broadcast_objects_reach_the_function(backend):
    # pandas sees a function without arguments, as it sees the function bound to them
    p = FRAME.par(backend=backend, chunksize=2, broadcast={"factor": 3})
    pd.testing.assert_frame_equal(p.groupby("k").agg(scaled_total),
                                  FRAME.groupby("k").agg(partial(scaled_total, factor=3)))
    pd.testing.assert_frame_equal(p.groupby("k").transform(scaled),
                                  FRAME.groupby("k").transform(partial(scaled, factor=3)))
    pd.testing.assert_frame_equal(
        FRAME.par(backend=backend, chunksize=2, broadcast={"wanted": {1, 4}}).groupby(
            "k").filter(keeps_if_listed),
        FRAME.groupby("k").filter(partial(keeps_if_listed, wanted={1, 4})))
    pd.testing.assert_frame_equal(
        TIMED.par(backend=backend, chunksize=1, broadcast={"factor": 2}).resample(
            "1D").apply(scaled_total),
        TIMED.resample("1D").apply(partial(scaled_total, factor=2)))


@pytest.mark.parametrize("call, reason", [
    (lambda d, on: on(d).groupby("k").transform("mean"), "string"),
    (lambda d, on: on(d).groupby("k").agg(["sum", spread]), "lists and dicts"),
    (lambda d, on: on(d).groupby("k").agg({"x": spread}), "lists and dicts"),
    (lambda d, on: on(d).groupby("k").agg("sum"), "string"),
    (lambda d, on: on(d).groupby("k").agg(total_x=("x", "sum")), "named aggregations"),
    (lambda d, on: on(TIMED).resample("1D").agg("mean"), "string"),
    (lambda d, on: on(TIMED).resample("1D").apply([spread, "sum"]), "lists and dicts"),
    (lambda d, on: on(d["x"].iloc[:0]).groupby(d["k"].iloc[:0]).transform(demeaned),
     "no groups"),
])
def test_what_pandas_runs_as_it_is_and_why(call, reason):
    expected = call(FRAME, lambda obj: obj)
    got, plan = run_with_plan(call, FRAME, _on(backend="processes", chunksize=1))
    _equal(got, expected)
    assert plan.plain and reason in plan.reason


def test_a_resample_function_that_reads_columns_runs_as_apply_over_the_bins():
    # pandas' aggregation passes columns and fails on d["a"]; it then applies over the bins
    func = lambda d: d["a"].sum() * 2  # noqa: E731
    got, plan = run_with_plan(lambda: TIMED.par(backend="threads", chunksize=1).resample(
        "1D").apply(func))
    pd.testing.assert_series_equal(got, TIMED.resample("1D").apply(func))
    assert plan.backend == "threads" and len(plan.bounds) > 1


def test_last_plan_names_the_call_after_it_ran():
    FRAME.par(backend="threads", chunksize=3).groupby("k").transform(demeaned)
    plan = pdpar.last_plan()
    assert plan is not None and plan.unit == "groups" and plan.n_units == 8


def test_plan_names_each_call_without_running_it():
    calls = {"transform": demeaned, "agg": lambda g: g.sum(), "aggregate": lambda g: g.max(),
             "filter": lambda g: len(g) > 2}
    for name, func in calls.items():
        ran = []

        def counted(group, func=func, ran=ran):
            ran.append(1)
            return func(group)

        planner = FRAME.par(backend="processes", chunksize=2).groupby("k").plan
        plan = getattr(planner, name)(counted)
        assert plan.backend == "processes" and len(plan.bounds) > 1, name
        assert plan.unit == "groups" and plan.n_units == 8
        assert len(ran) < 8  # at most the groups pandas calls first (transform: the first)
    auto = FRAME.par(backend="auto").groupby("k").plan.transform(demeaned)
    assert auto.backend != "auto" and auto.n_units == 8
    plan = TIMED.par(backend="threads", chunksize=1).resample("1D").plan(lambda d: d.sum())
    assert plan.backend == "threads" and len(plan.bounds) > 1
    assert not hasattr(FRAME.par.groupby("k").plan, "rolling")


def test_numpy_and_builtin_functions_transform_as_pandas_does():
    # pandas 2.2 swaps np.mean, max, ... for its own transform, and warns
    for func in (np.mean, max):
        expected = FRAME.groupby("k").transform(func)
        got, plan = run_with_plan(lambda f=func: FRAME.par(backend="threads", chunksize=2)
                                  .groupby("k").transform(f))
        _equal(got, expected)
        if int(pd.__version__.split(".")[0]) < 3:
            assert plan.plain and "built-in" in plan.reason
        else:
            assert plan.backend == "threads" and len(plan.bounds) > 1


def _by_group(*results):
    """A transform whose result for group ``k`` is ``results[k % len(results)](group)``
    (the key read from ``x``, as pandas may call it on a group's column, named ``x``)."""
    return lambda g: results[int(np.asarray(g).ravel()[0]) % 8 % len(results)](g)


def _with_attrs(g):
    out = g * 1.0
    out.attrs = {"unit": "m"}
    return out


# chunks of 3 groups: some chunks' results all alike (joined in the chunk), some not
TRANSFORMS_THAT_DIFFER_BY_GROUP = {
    "ints, then floats": _by_group(*[lambda g: g * 2] * 4, *[lambda g: g * 0.5] * 4),
    "bools and ints": _by_group(lambda g: g > 5, lambda g: g > 5, lambda g: g.astype("int64")),
    "categoricals of other categories": _by_group(
        lambda g: g.astype(str).astype("category"), lambda g: g.astype(str).astype("category")),
    "categoricals of the same categories": _by_group(
        lambda g: (g % 2).astype(pd.CategoricalDtype([0.0, 1.0]))),
    "all missing, then dates": _by_group(
        *[lambda g: g * np.nan] * 3,
        lambda g: g.map(lambda v: pd.Timestamp("2024-01-01") + pd.Timedelta(days=v))),
    "nullable and numpy ints": _by_group(lambda g: g.astype("Int64"), lambda g: g.astype("Int64"),
                                         lambda g: g.astype("int64")),
    "with attrs": _by_group(lambda g: g * 1.0, lambda g: g * 1.0, _with_attrs),
}


@pytest.mark.parametrize("backend", ["threads", "processes"])
@pytest.mark.parametrize("name", list(TRANSFORMS_THAT_DIFFER_BY_GROUP))
def test_transform_results_that_differ_by_group_assemble_as_pandas_does(backend, name):
    func = TRANSFORMS_THAT_DIFFER_BY_GROUP[name]
    frame = FRAME[["k", "x"]]
    for call in (lambda d: d.groupby("k").transform(func),
                 lambda d: d.groupby("k")["x"].transform(func)):
        expected = call(frame)
        got, plan = run_with_plan(call, frame.par(backend=backend, n_jobs=2, chunksize=3))
        _equal(got, expected)
        assert plan.backend == backend and len(plan.bounds) > 1


def test_a_chunks_transform_results_are_joined_only_where_that_changes_nothing():
    from pdpar._pandas.groupops import joined_if_alike

    a, b = pd.DataFrame({"x": [1, 2]}), pd.DataFrame({"x": [3]})
    assert len(joined_if_alike([a, None, b])) == 1
    assert joined_if_alike([a, None, b])[0]["x"].tolist() == [1, 2, 3]
    for other in (b.astype(float), b.rename(columns={"x": "y"}), _with_attrs(b),
                  b["x"]):
        assert len(joined_if_alike([a, other])) == 2
    assert len(joined_if_alike([a["x"], b["x"]])) == 1
    assert len(joined_if_alike([a["x"], b["x"].astype("Int64")])) == 2
