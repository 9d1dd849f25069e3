"""groupby(...).apply details that must match pandas exactly."""

import warnings

import pandas as pd


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
