"""Property tests: ``groupby(...).transform``, ``.agg`` and ``.filter`` and
``resample(...).apply`` and ``.agg`` through ``par`` return exactly what pandas returns.

Random small frames (keys of every key dtype, NaN keys, categoricals with an unused category,
nullable columns, every kind of index, empty frames), every groupby option, column selection,
Series groupbys, every backend and chunk size; pandas' result compared exactly, or, when pandas
raises, an exception of the same type. The settings are test_properties.py's.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import BACKENDS
from strategies import chunk_sizes, columns, group_frames
from test_properties import _groupby_options, assert_matches_pandas, par, property_settings


@pytest.fixture(params=[*BACKENDS, "auto"])
def backend(request):
    if request.param == "dask":
        request.getfixturevalue("dask_client")
    return request.param


# --------------------------------------------------------------------------------------------
# functions of a group: a DataFrame or a Series


def demeaned(g):
    return g - g.mean()


def group_length(g):
    return len(g)


def first_row(g):
    return g.iloc[0]


def ranked(g):
    return g.rank()


def positions(g):
    return np.arange(len(g))


def shifted(g):
    return g.shift(1)


def nothing(g):
    return None


def total(g):
    return g.sum()


def largest(g):
    return g.max()


def length_text(g):
    return str(len(g))


def length_or_nan(g):
    return math.nan if len(g) == 1 else len(g)


def as_array(g):
    return g.to_numpy()


def length_plus(g, offset, *, scale=1):
    return len(g) * scale + offset


def longer_than_one(g):
    return len(g) > 1


def nan_for_pairs(g):
    return math.nan if len(g) == 2 else True


def numpy_even(g):
    return np.bool_(len(g) % 2 == 0)


def not_a_scalar(g):
    return g


TRANSFORMS = (demeaned, group_length, first_row, ranked, positions, shifted, nothing, total)
AGGREGATIONS = (group_length, first_row, total, largest, length_text, length_or_nan, as_array)
FILTERS = (longer_than_one, nan_for_pairs, numpy_even, not_a_scalar)

SELECTIONS = (None, "x", "y", ["x", "y"], ["x"])


def _grouped(obj, by, selection, options):
    gb = obj.groupby(by, **options)
    return gb if selection is None else gb[selection]


def _check_method(backend, examples, method, functions, extra=lambda draw: ((), {})):
    @property_settings(backend, examples, scale=0.5)
    @given(df=group_frames(), by=st.sampled_from(["k", ["k", "k2"]]),
           selection=st.sampled_from(SELECTIONS), func=st.sampled_from(functions),
           data=st.data())
    def check(df, by, selection, func, data):
        options = _groupby_options(data.draw)
        chunksize = data.draw(chunk_sizes(len(df)), label="chunksize")
        args, kwargs = extra(data.draw)
        assert_matches_pandas(
            df,
            lambda d: getattr(_grouped(d, by, selection, options), method)(
                func, *args, **kwargs),
            lambda d: getattr(_grouped(par(d, backend, chunksize), by, selection, options),
                              method)(func, *args, **kwargs),
        )

    check()


def test_transform_matches_pandas(backend, examples):
    _check_method(backend, examples, "transform", TRANSFORMS)


def test_agg_matches_pandas(backend, examples):
    _check_method(backend, examples, "agg", AGGREGATIONS)


def test_agg_with_arguments_matches_pandas(backend, examples):
    def arguments(draw):
        return (draw(st.integers(-2, 2)),), {"scale": draw(st.integers(1, 3))}

    _check_method(backend, examples, "aggregate", (length_plus,), arguments)


def test_filter_matches_pandas(backend, examples):
    def dropna(draw):
        return (), {"dropna": draw(st.booleans(), label="dropna")}

    _check_method(backend, examples, "filter", FILTERS, dropna)


def test_series_groupby_ops_match_pandas(backend, examples):
    calls = st.sampled_from([("transform", f) for f in TRANSFORMS]
                            + [("agg", f) for f in AGGREGATIONS]
                            + [("filter", f) for f in FILTERS])

    @property_settings(backend, examples, scale=0.5)
    @given(df=group_frames(), call=calls, data=st.data())
    def check(df, call, data):
        method, func = call
        options = _groupby_options(data.draw)
        chunksize = data.draw(chunk_sizes(len(df)), label="chunksize")
        assert_matches_pandas(
            df,
            lambda d: getattr(d["y"].groupby(d["k"], **options), method)(func),
            lambda d: getattr(par(d["y"], backend, chunksize).groupby(d["k"], **options),
                              method)(func),
        )

    check()


# --------------------------------------------------------------------------------------------
# resample


def first_value_of_a(d):
    return d["a"].iloc[0] if len(d) else math.nan


RESAMPLE_FUNCTIONS = (group_length, total, largest, length_or_nan, as_array, first_value_of_a)


@st.composite
def timed_frames(draw):
    """A frame of 0 to 20 rows on an hourly DatetimeIndex with gaps (naive or tz-aware), an
    int column "a" and a column "b" of any of a few kinds."""
    n = draw(st.integers(0, 20))
    steps = draw(st.lists(st.integers(1, 9), min_size=n, max_size=n))
    tz = draw(st.sampled_from([None, "UTC", "Europe/Paris"]))
    start = pd.Timestamp("2024-03-30 20:00", tz=tz)
    index = pd.DatetimeIndex([start + pd.Timedelta(hours=h) for h in np.cumsum(steps)],
                             name=draw(st.sampled_from([None, "when"])))
    kind = draw(st.sampled_from(["float", "Int64", "str", "int"]))
    df = pd.DataFrame({"a": np.arange(n, dtype="int64"),
                       "b": draw(columns(kind, n)).to_numpy()}, index=index)
    if kind == "Int64":
        df["b"] = df["b"].astype("Int64")
    return df


def test_resample_apply_matches_pandas(backend, examples):
    @property_settings(backend, examples, scale=0.5)
    @given(df=timed_frames(), rule=st.sampled_from(["3h", "1D", "5h"]),
           closed=st.sampled_from([None, "left", "right"]),
           label=st.sampled_from([None, "left", "right"]),
           origin=st.sampled_from(["start_day", "start", "epoch"]),
           func=st.sampled_from(RESAMPLE_FUNCTIONS), method=st.sampled_from(["apply", "agg"]),
           column=st.sampled_from([None, "a", "b"]), data=st.data())
    def check(df, rule, closed, label, origin, func, method, column, data):
        chunksize = data.draw(chunk_sizes(len(df)), label="chunksize")
        options = {"closed": closed, "label": label, "origin": origin}

        def resampled(obj):
            obj = obj if column is None else obj[column]
            return obj.resample(rule, **options)

        assert_matches_pandas(
            df,
            lambda d: getattr(resampled(d), method)(func),
            lambda d: getattr(par(d if column is None else d[column], backend, chunksize)
                              .resample(rule, **options), method)(func),
        )

    check()
