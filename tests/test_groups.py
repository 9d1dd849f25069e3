"""groupby(...).apply details that must match pandas exactly."""

import warnings

import numpy as np
import pandas as pd
import pytest


def add_column(group):
    group["y"] = group["x"] * 2
    return group


def test_assigning_to_a_group_warns_only_where_pandas_warns(backend):
    df = pd.DataFrame({"k": [0, 0, 1, 1], "x": [1.0, 2.0, 3.0, 4.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        expected = df.groupby("k", group_keys=False).apply(add_column, include_groups=False)
        got = df.par(backend=backend, chunksize=1).groupby("k", group_keys=False).apply(
            add_column, include_groups=False)
    pd.testing.assert_frame_equal(got, expected)


def offset_size(group, offset, scale=1):
    return (len(group) + offset) * scale


def test_extra_arguments_follow_the_group_like_pandas(backend):
    df = pd.DataFrame({"k": [0, 0, 1], "x": [1, 2, 3]})
    expected = df.groupby("k").apply(offset_size, 10, scale=2, include_groups=False)
    got = df.par(backend=backend, chunksize=1).groupby("k").apply(
        offset_size, 10, scale=2, include_groups=False)
    pd.testing.assert_series_equal(got, expected)


def test_group_name_is_its_key(backend):
    df = pd.DataFrame({"k": ["b", "a", "b", "c"], "x": range(4)})
    got = df.par(backend=backend, chunksize=1).groupby("k")["x"].apply(lambda g: g.name * 2)
    pd.testing.assert_series_equal(got, df.groupby("k")["x"].apply(lambda g: g.name * 2))


def _stats(g):
    return pd.Series({"mean": g["x"].mean(), "n": len(g)})


def _int_stats_then_floats(g):
    # int64 results for the first groups, float64 for the later ones: pandas stacks them all
    kind = "int" if g.name < 6 else "float"
    return pd.Series({"a": len(g), "b": g["x"].sum()}).astype(kind)


def _named_by_group(g):
    return pd.Series({"mean": g["x"].mean()}, name=g.name if g.name == 3 else "same")


def _other_index_in_one_group(g):
    if g.name == 7:
        return pd.Series({"mean": g["x"].mean(), "extra": 1.0})
    return pd.Series({"mean": g["x"].mean()})


def _none_in_one_group(g):
    return None if g.name == 4 else pd.Series({"mean": g["x"].mean()})


def _object_results(g):
    return pd.Series({"first": str(g["x"].iloc[0]), "n": len(g)})


def _with_attrs(g):
    out = pd.Series({"mean": g["x"].mean()})
    out.attrs["source"] = "group"
    return out


STACKING_CASES = [_stats, _int_stats_then_floats, _named_by_group, _other_index_in_one_group,
                  _none_in_one_group, _object_results, _with_attrs]


@pytest.mark.parametrize("func", STACKING_CASES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("as_index", [True, False])
def test_series_results_per_group_assemble_like_pandas(backend, func, as_index):
    # several groups per chunk, so a chunk's Series results travel stacked where they can
    df = pd.DataFrame({"k": np.repeat(np.arange(12), 3), "x": np.arange(36.0)})
    expected = df.groupby("k", as_index=as_index).apply(func, include_groups=False)
    got = df.par(backend=backend, chunksize=4).groupby("k", as_index=as_index).apply(
        func, include_groups=False)
    _equal(got, expected)


def test_series_results_with_unobserved_categories_assemble_like_pandas(backend):
    keys = pd.Categorical(np.repeat(["a", "b", "c", "d"], 3), categories=list("abcdez"))
    df = pd.DataFrame({"k": keys, "x": np.arange(12.0)})
    for observed in (True, False):
        expected = df.groupby("k", observed=observed).apply(_stats, include_groups=False)
        got = df.par(backend=backend, chunksize=2).groupby("k", observed=observed).apply(
            _stats, include_groups=False)
        _equal(got, expected)


def test_series_groupby_results_assemble_like_pandas(backend):
    df = pd.DataFrame({"k": np.repeat(np.arange(8), 2), "x": np.arange(16.0)})
    func = lambda s: pd.Series({"lo": s.min(), "hi": s.max()})  # noqa: E731
    expected = df.groupby("k")["x"].apply(func)
    got = df.par(backend=backend, chunksize=3).groupby("k")["x"].apply(func)
    _equal(got, expected)


def _equal(got, expected):
    if isinstance(expected, pd.DataFrame):
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
        assert got.attrs == expected.attrs and got.columns.name == expected.columns.name
    else:
        pd.testing.assert_series_equal(got, expected, check_exact=True)
