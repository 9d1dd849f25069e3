"""The accessors: registered through pandas' API, thin, mirroring pandas' signatures."""

import inspect

import numpy as np
import pandas as pd
import pytest

import pdpar
from conftest import BACKENDS, run_with_plan
from pdpar import _pandas


def test_import_registers_par_without_replacing_pandas_methods():
    assert pd.DataFrame.apply is _pandas.DataFrame_apply
    assert pd.Series.map is _pandas.Series_map
    assert isinstance(pd.DataFrame({"a": [1]}).par, pdpar.accessor.DataFramePar)
    assert isinstance(pd.Series([1]).par, pdpar.accessor.SeriesPar)


def test_methods_show_pandas_signatures():
    assert inspect.signature(pdpar.accessor.DataFramePar.apply) == inspect.signature(
        pd.DataFrame.apply)
    assert inspect.signature(pdpar.accessor.SeriesPar.map) == inspect.signature(pd.Series.map)


#: Calls pandas rejects before it calls the function; the frame is _FRAME.
REJECTED_CALLS = {
    "axis": lambda obj: obj.apply(abs, axis=5),
    "axis 2": lambda obj: obj.apply(len, axis=2),
    "result_type": lambda obj: obj.apply(abs, axis=1, result_type="bad"),
    "result_type wide": lambda obj: obj.apply(len, result_type="wide"),
    "na_action": lambda obj: obj.map(abs, na_action="all"),
    "na_action drop": lambda obj: obj.map(len, na_action="drop"),
    "no function": lambda obj: obj.apply(),
    "not callable": lambda obj: obj.apply(axis=1),
    "func name": lambda obj: obj.apply("no_such_method", axis=1),
    "extra positional": lambda obj: obj.apply(abs, 1, False, None, (), "by_row", "python",
                                              None, "extra"),
    "groupby key": lambda obj: obj.groupby("no such column").apply(len),
    "groupby function": lambda obj: obj.groupby("a").apply(5),
}

#: Calls pandas accepts, whose function then fails on the arguments it is given.
FAILING_CALLS = {
    "args": lambda obj: obj.apply(abs, axis=1, args=5),
    "raw keywords": lambda obj: obj.apply(abs, axis=1, raw=True, unknown=1),
    "keywords": lambda obj: obj.apply(len, axis=1, bogus_positional_slot=1, raw="x", what=3),
}

_FRAME = pd.DataFrame({"a": [1.0, -2.0], "b": [3.0, -4.0]})


def _raise_alike(call, par):
    """``call(par)`` raises what ``call`` raises on the frame itself: type and message."""
    with pytest.raises(Exception) as expected:
        call(_FRAME)
    with pytest.raises(type(expected.value)) as got:
        call(par)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("case", list(REJECTED_CALLS))
def test_bad_pandas_arguments_are_rejected_like_pandas_before_any_backend_runs(case):
    for backend in [*BACKENDS, "auto"]:
        _, plan = run_with_plan(_raise_alike, REJECTED_CALLS[case],
                                _FRAME.par(backend=backend, n_jobs=2, chunksize=1))
        assert plan is None or plan.plain, f"{backend}: {plan}"


def test_arguments_the_function_fails_on_raise_what_pandas_raises(backend):
    for call in FAILING_CALLS.values():
        _raise_alike(call, _FRAME.par(backend=backend, n_jobs=2, chunksize=1))


def test_groupby_shorthand_equals_groupby_apply(backend):
    df = pd.DataFrame({"k": [1, 2, 1, 3], "x": [1.0, 2.0, 3.0, 4.0]})
    expected = df.groupby("k").apply(lambda g: g["x"].sum() * 2)
    got = df.par(backend=backend, chunksize=1).groupby_apply("k", lambda g: g["x"].sum() * 2)
    pd.testing.assert_series_equal(got, expected)


def test_par_groupby_delegates_other_methods_to_pandas():
    df = pd.DataFrame({"k": [1, 2, 1], "x": [1.0, 2.0, 3.0]})
    pd.testing.assert_frame_equal(df.par.groupby("k").sum(), df.groupby("k").sum())


def test_string_list_and_ufunc_functions_go_to_pandas_on_every_backend():
    df = pd.DataFrame({"a": [1.0, 4.0], "b": [9.0, 16.0]})
    calls = [
        (lambda obj: obj.apply("sum"), df),
        (lambda obj: obj.apply(["sum", "max"]), df),
        (lambda obj: obj.apply(np.sqrt), df),
        (lambda obj: obj.map({1.0: "one"}), df["a"]),
    ]
    for backend in [*BACKENDS, "auto"]:
        for call, obj in calls:
            got, plan = run_with_plan(call, obj.par(backend=backend))
            if isinstance(got, pd.DataFrame):
                pd.testing.assert_frame_equal(got, call(obj))
            else:
                pd.testing.assert_series_equal(got, call(obj))
            assert plan.plain, f"{backend}: {plan}"
