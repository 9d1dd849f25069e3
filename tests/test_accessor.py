"""The accessors: registered through pandas' API, thin, mirroring pandas' signatures."""

import inspect

import numpy as np
import pandas as pd
import pytest

import pdpar
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


def test_bad_pandas_arguments_raise_what_pandas_raises(backend):
    df = pd.DataFrame({"a": [1, 2], "b": [3, 4]})
    par = df.par(backend=backend)
    cases = [
        lambda obj: obj.apply(len, axis=2),
        lambda obj: obj.apply(len, result_type="wide"),
        lambda obj: obj.apply(len, axis=1, bogus_positional_slot=1, raw="x", what=3),
        lambda obj: obj.map(len, na_action="drop"),
        lambda obj: obj.apply(),
    ]
    for case in cases:
        with pytest.raises(Exception) as expected:
            case(df)
        with pytest.raises(type(expected.value)):
            case(par)


def test_groupby_shorthand_equals_groupby_apply(backend):
    df = pd.DataFrame({"k": [1, 2, 1, 3], "x": [1.0, 2.0, 3.0, 4.0]})
    expected = df.groupby("k").apply(lambda g: g["x"].sum() * 2)
    got = df.par(backend=backend, chunksize=1).groupby_apply("k", lambda g: g["x"].sum() * 2)
    pd.testing.assert_series_equal(got, expected)


def test_par_groupby_delegates_other_methods_to_pandas():
    df = pd.DataFrame({"k": [1, 2, 1], "x": [1.0, 2.0, 3.0]})
    pd.testing.assert_frame_equal(df.par.groupby("k").sum(), df.groupby("k").sum())


def test_string_list_and_ufunc_functions_go_to_pandas(backend):
    df = pd.DataFrame({"a": [1.0, 4.0], "b": [9.0, 16.0]})
    par = df.par(backend=backend)
    pd.testing.assert_series_equal(par.apply("sum"), df.apply("sum"))
    pd.testing.assert_frame_equal(par.apply(["sum", "max"]), df.apply(["sum", "max"]))
    pd.testing.assert_frame_equal(par.apply(np.sqrt), df.apply(np.sqrt))
    s = df["a"]
    pd.testing.assert_series_equal(s.par(backend=backend).map({1.0: "one"}), s.map({1.0: "one"}))
