"""Property tests: every ``par`` method returns exactly what pandas returns.

For random small inputs (every column dtype pdpar supports, every kind of index, empty frames),
every backend and every chunk size from one unit per chunk to a single chunk, the result of a
pdpar call must be identical to pandas' own: same values, dtypes, index, columns and names,
compared exactly. When pandas raises, pdpar must raise an exception of the same type.

Each property runs on each backend: every backend of conftest.py, and the automatic one,
which measures the function in the calling process and then finishes the call there or on a
pool; a fifth of its examples by default, all of them when slow tests run. The chunk size is
drawn too, or left automatic. The functions applied are module-level, so the "processes"
backend can pickle them by reference. Calls that no backend runs (empty frames go to pandas
directly) are checked on every backend in one test each, with the plan saying that pandas ran
them.
"""

from __future__ import annotations

import os
import threading
import warnings
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pandas.testing as tm
import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

import pdpar  # noqa: F401  (registers the accessors)
from conftest import BACKENDS, run_with_plan
from strategies import chunk_sizes, frames, group_frames, series

#: Examples per property and backend in the full run: fewer where every example starts work on a
#: process pool. The default run checks a fifth of them (FEW), with seeds of their own; the full
#: counts are marked slow (the ``examples`` fixture of conftest.py).
EXAMPLES = {"serial": 200, "threads": 100, "processes": 30, "auto": 60, "dask": 30}
FEW = 0.2


@pytest.fixture(params=[*BACKENDS, "auto"])
def backend(request):
    if request.param == "dask":
        request.getfixturevalue("dask_client")
    return request.param


N_JOBS = 2


def property_settings(backend: str, examples: str,
                      scale: float = 1.0) -> Callable[[Any], Any]:
    """Settings for a property checked on ``backend``: a fixed number of examples and a seed
    fixed per test and backend, so every run (and CI) checks the same examples, while each
    backend gets examples of its own. ``examples="few"`` checks a fifth of them, seeded apart
    from the full run's, so that running both checks more examples than either."""
    share = FEW if examples == "few" else 1.0

    def decorate(test: Any) -> Any:
        test = settings(
            max_examples=max(1, int(EXAMPLES[backend] * scale * share)),
            deadline=None,
            database=None,
            print_blob=False,
            # no "explain" phase: tracing every example again makes failures slow to report
            phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )(test)
        key = f"{test.__qualname__}[{backend}]" + ("[few]" if examples == "few" else "")
        return seed(zlib.crc32(key.encode()))(test)

    return decorate


# --------------------------------------------------------------------------------------------
# comparing outcomes


class _Raised:
    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def __repr__(self) -> str:
        return f"raised {type(self.exc).__name__}: {self.exc}"


def outcome(call: Callable[[], Any]) -> Any:
    """What ``call()`` returns, or a :class:`_Raised` holding what it raised."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return call()
        except Exception as exc:
            return _Raised(exc)


def assert_identical(expected: Any, actual: Any) -> None:
    """``actual`` is what pandas returned (``expected``), or raised an exception of its type."""
    if isinstance(expected, _Raised):
        assert isinstance(actual, _Raised), f"pandas {expected!r}, pdpar returned:\n{actual!r}"
        assert type(actual.exc) is type(expected.exc), f"pandas {expected!r}, pdpar {actual!r}"
        return
    if isinstance(actual, _Raised):
        raise AssertionError(f"pandas returned:\n{expected!r}\npdpar {actual!r}") from actual.exc
    assert_same_value(expected, actual)


_CONTAINERS = (pd.Series, pd.DataFrame, pd.Index, np.ndarray, list, tuple, dict)


def _holds_containers(values: Any) -> bool:
    # pandas' own comparison of object arrays is not exact for nested containers holding NaN
    return values.dtype == object and any(isinstance(v, _CONTAINERS) for v in values)


def assert_same_value(expected: Any, actual: Any) -> None:
    """Exact equality of pandas objects, arrays and Python values, nested ones included:
    same types, dtypes, labels and names; NaN equals NaN, but None, NaN, NaT and NA differ."""
    assert type(actual) is type(expected), f"expected:\n{expected!r}\ngot:\n{actual!r}"
    if isinstance(expected, pd.DataFrame):
        tm.assert_index_equal(actual.columns, expected.columns, exact=True, check_exact=True)
        tm.assert_index_equal(actual.index, expected.index, exact=True, check_exact=True)
        for j in range(expected.shape[1]):
            assert_same_value(expected.iloc[:, j], actual.iloc[:, j])
    elif isinstance(expected, pd.Series):
        if not _holds_containers(expected):
            tm.assert_series_equal(actual, expected, check_exact=True, check_index_type=True)
            if expected.dtype == object:  # where pandas compares with ==, 1 equals 1.0
                assert [type(v) for v in actual] == [type(v) for v in expected], (
                    f"element types differ: expected\n{expected!r}\ngot\n{actual!r}")
            return
        tm.assert_index_equal(actual.index, expected.index, exact=True, check_exact=True)
        assert actual.dtype == expected.dtype and actual.name == expected.name
        for e, a in zip(expected, actual):
            assert_same_value(e, a)
    elif isinstance(expected, pd.Index):
        tm.assert_index_equal(actual, expected, exact=True, check_exact=True)
    elif isinstance(expected, np.ndarray):
        assert actual.dtype == expected.dtype and actual.shape == expected.shape
        for e, a in zip(expected.ravel(), actual.ravel()):
            assert_same_value(e, a)
    elif isinstance(expected, (list, tuple)):
        assert len(actual) == len(expected), f"expected {expected!r}, got {actual!r}"
        for e, a in zip(expected, actual):
            assert_same_value(e, a)
    elif isinstance(expected, dict):
        assert list(actual) == list(expected), f"expected {expected!r}, got {actual!r}"
        for key in expected:
            assert_same_value(expected[key], actual[key])
    elif expected is actual:
        pass
    elif pd.api.types.is_scalar(expected) and pd.isna(expected):
        assert pd.isna(actual), f"expected {expected!r}, got {actual!r}"
    else:
        assert actual == expected, f"expected {expected!r}, got {actual!r}"


def assert_matches_pandas(obj: pd.DataFrame | pd.Series, pandas_call: Callable[[Any], Any],
                          pdpar_call: Callable[[Any], Any]) -> None:
    """``pdpar_call(obj)`` gives what ``pandas_call(obj)`` gives, and leaves ``obj`` as it was."""
    before = obj.copy(deep=True)
    expected = outcome(lambda: pandas_call(obj))
    actual = outcome(lambda: pdpar_call(obj))
    assert_identical(expected, actual)
    if isinstance(obj, pd.DataFrame):
        tm.assert_frame_equal(obj, before, check_exact=True)
    else:
        tm.assert_series_equal(obj, before, check_exact=True)


def par(obj: pd.DataFrame | pd.Series, backend: str, chunksize: int) -> Any:
    return obj.par(backend=backend, n_jobs=N_JOBS, chunksize=chunksize)


class _ParFrame:
    """Routes a DataFrame's (and its columns') apply, map and groupby through ``par``."""

    def __init__(self, df: pd.DataFrame, backend: str, chunksize: int = 1) -> None:
        self._df = df
        self._backend = backend
        self._chunksize = chunksize

    def _par(self) -> Any:
        return par(self._df, self._backend, self._chunksize)

    def apply(self, *args, **kwargs):
        return self._par().apply(*args, **kwargs)

    def map(self, *args, **kwargs):
        return self._par().map(*args, **kwargs)

    def groupby(self, *args, **kwargs):
        return self._par().groupby(*args, **kwargs)

    def __getitem__(self, column):
        return _ParSeries(self._df[column], self._backend, self._chunksize)


class _ParSeries:
    """Routes a Series' apply, map and groupby through ``par``."""

    def __init__(self, s: pd.Series, backend: str, chunksize: int = 1) -> None:
        self._s = s
        self._backend = backend
        self._chunksize = chunksize

    def apply(self, *args, **kwargs):
        return par(self._s, self._backend, self._chunksize).apply(*args, **kwargs)

    def map(self, *args, **kwargs):
        return par(self._s, self._backend, self._chunksize).map(*args, **kwargs)

    def groupby(self, *args, **kwargs):
        return par(self._s, self._backend, self._chunksize).groupby(*args, **kwargs)

    def to_frame(self):
        return _ParFrame(self._s.to_frame(), self._backend, self._chunksize)


# --------------------------------------------------------------------------------------------
# functions of a row or column: a Series, or a 1-d ndarray with raw=True


def _first(unit: pd.Series | np.ndarray) -> Any:
    return unit.iloc[0] if isinstance(unit, pd.Series) else unit[0]


def _count(unit: pd.Series | np.ndarray) -> int:
    return int(pd.notna(unit).sum())


def unit_length(unit):
    return len(unit)


def unit_count(unit):
    return _count(unit)


def unit_total(unit):
    return unit.sum()


def unit_first(unit):
    return _first(unit)


def unit_first_as_text(unit):
    return str(_first(unit))


def unit_count_or_none(unit):
    # None for some units and an int for others: pandas makes that float64, not object
    return None if len(str(_first(unit))) % 2 else _count(unit)


def unit_summary_series(unit):
    return pd.Series({"n": len(unit), "count": _count(unit)})


def unit_summary_list(unit):
    return [len(unit), _count(unit)]


def unit_summary_dict(unit):
    return {"n": len(unit), "count": _count(unit)}


def unit_itself(unit):
    return unit


def unit_as_list(unit):
    return list(unit)


def unit_ragged_series(unit):
    # a different index per unit: pandas takes the union of the labels
    return pd.Series(range(_count(unit)), dtype="int64")


def unit_ragged_list(unit):
    return list(range(_count(unit)))


def unit_pair_array(unit):
    return np.array([len(unit), _count(unit)])


def unit_fields(unit):
    # reads only fields: a function of rows gets a light row instead of a Series
    return [unit.get("a"), unit.get("b", 0), "c" in unit]


def unit_field_and_label(unit):
    return pd.Series({"a": unit.get("a"), "label": unit.name})


def unit_count_plus(unit, offset, *, scale=1):
    return _count(unit) * scale + offset


UNIT_FUNCTIONS = (
    unit_length,
    unit_count,
    unit_total,
    unit_first,
    unit_first_as_text,
    unit_count_or_none,
    unit_summary_series,
    unit_summary_list,
    unit_summary_dict,
    unit_itself,
    unit_as_list,
    unit_ragged_series,
    unit_ragged_list,
    unit_pair_array,
    unit_fields,
    unit_field_and_label,
    lambda unit: (len(unit), str(_first(unit))),
)

# --------------------------------------------------------------------------------------------
# functions of one element


def element_type_name(x):
    return type(x).__name__


def element_is_missing(x):
    return bool(pd.isna(x))


def element_one_or_none(x):
    return None if pd.isna(x) else 1


def element_doubled(x):
    return x * 2


def element_text(x):
    return str(x)


def element_length_or_none(x):
    text = str(x)
    return None if len(text) % 2 else len(text)


def element_pair(x):
    return (x, str(x))


def element_as_series(x):
    return pd.Series({"value": x, "missing": bool(pd.isna(x))})


def element_seen(x):
    # what the function was given, exactly
    return f"{type(x).__module__}.{type(x).__qualname__}: {x!r}"


def element_tagged(x, prefix, sep="-"):
    return f"{prefix}{sep}{x}"


def element_scaled(x, factor, offset=0):
    return x * factor + offset


ELEMENT_FUNCTIONS = (
    element_seen,
    element_type_name,
    element_is_missing,
    element_one_or_none,
    element_doubled,
    element_text,
    element_length_or_none,
    element_pair,
    lambda x: x,
)

# --------------------------------------------------------------------------------------------
# functions of a group: a DataFrame (with or without the key columns) or a Series


def group_size(g):
    return len(g)


def group_x_total(g):
    return g["x"].sum()


def group_statistics(g):
    return pd.Series({"n": len(g), "count": g["x"].count(), "total": g["x"].sum()})


def group_description(g):
    return g["x"].describe()


def group_with_rank(g):
    # indexed like the group: a transform
    return g.assign(rank=g["x"].rank())


def group_itself(g):
    return g


def group_after_first_row(g):
    # a filter; groups of one row give an empty frame
    return g.iloc[1:]


def group_first_row_frame(g):
    return pd.DataFrame({"n": [len(g)], "first": [g["x"].iloc[0]]})


def group_value_counts(g):
    # Series results with different indexes: pandas stacks them instead of making columns
    return g["x"].value_counts()


def group_sorted(g):
    # the group's own rows in another order: not a transform
    return g.sort_values("x")


def group_totals(g):
    # raises TypeError for some column dtypes; pandas 2 then retries without the key columns
    return g.sum()


def group_size_or_none(g):
    return None if len(g) % 2 == 0 else len(g)


def group_size_plus(g, offset, *, scale=1):
    return len(g) * scale + offset


GROUP_FUNCTIONS = (
    group_size,
    group_x_total,
    group_statistics,
    group_description,
    group_with_rank,
    group_itself,
    group_after_first_row,
    group_first_row_frame,
    group_value_counts,
    group_sorted,
    group_totals,
    group_size_or_none,
)


def values_total(s):
    return s.sum()


def values_description(s):
    return s.describe()


def values_cumulative(s):
    return s.cumsum()


def values_after_first(s):
    return s.iloc[1:]


def values_first_two(s):
    return s.head(2)


def values_size_or_none(s):
    return None if len(s) % 2 == 0 else len(s)


def values_as_frame(s):
    return pd.DataFrame({"value": s, "twice": s * 2})


SERIES_GROUP_FUNCTIONS = (
    values_total,
    values_description,
    values_cumulative,
    values_after_first,
    values_first_two,
    values_size_or_none,
    values_as_frame,
)

NOT_GIVEN = object()


# --------------------------------------------------------------------------------------------
# DataFrame.apply


def test_frame_apply_matches_pandas_for_every_axis_raw_and_result_type(backend, examples):
    @property_settings(backend, examples)
    @given(
        df=frames(),
        func=st.sampled_from(UNIT_FUNCTIONS),
        axis=st.sampled_from([0, 1, "index", "columns"]),
        raw=st.booleans(),
        result_type=st.sampled_from([None, "expand", "reduce", "broadcast"]),
        data=st.data(),
    )
    def check(df, func, axis, raw, result_type, data):
        units = df.shape[0] if axis in (1, "columns") else df.shape[1]
        chunksize = data.draw(chunk_sizes(units), label="chunksize")
        kwargs = {"axis": axis, "raw": raw, "result_type": result_type}
        assert_matches_pandas(
            df,
            lambda d: d.apply(func, **kwargs),
            lambda d: par(d, backend, chunksize).apply(func, **kwargs),
        )

    check()


def test_frame_apply_passes_args_and_kwargs_like_pandas(backend, examples):
    @property_settings(backend, examples, scale=0.5)
    @given(df=frames(), axis=st.sampled_from([0, 1]), raw=st.booleans(),
           offset=st.integers(-2, 2), scale=st.integers(1, 3), data=st.data())
    def check(df, axis, raw, offset, scale, data):
        chunksize = data.draw(chunk_sizes(df.shape[1 - axis]), label="chunksize")
        assert_matches_pandas(
            df,
            lambda d: d.apply(unit_count_plus, axis=axis, raw=raw, args=(offset,), scale=scale),
            lambda d: par(d, backend, chunksize).apply(unit_count_plus, axis=axis, raw=raw,
                                                       args=(offset,), scale=scale),
        )

    check()


def test_rows_returning_int_or_none_give_float64_like_pandas(backend):
    df = pd.DataFrame({"a": [1, 22, 3, 44, 5, 66], "b": [1.0, np.nan, 3.0, 4.0, np.nan, 6.0]})
    expected = df.apply(unit_count_or_none, axis=1)
    assert expected.dtype == np.float64
    for chunksize in (1, 2, 4, 6):
        actual = par(df, backend, chunksize).apply(unit_count_or_none, axis=1)
        tm.assert_series_equal(actual, expected, check_exact=True, check_index_type=True)


# --------------------------------------------------------------------------------------------
# DataFrame.map, Series.map, Series.apply


ELEMENT_CALLS = st.one_of(
    st.tuples(st.sampled_from(ELEMENT_FUNCTIONS), st.just({})),
    st.tuples(st.just(element_tagged), st.sampled_from([{"prefix": "p"},
                                                       {"prefix": "", "sep": ":"}])),
)


def test_frame_map_matches_pandas_with_and_without_na_action(backend, examples):
    @property_settings(backend, examples)
    @given(df=frames(), call=ELEMENT_CALLS, na_action=st.sampled_from([None, "ignore"]),
           data=st.data())
    def check(df, call, na_action, data):
        func, kwargs = call
        chunksize = data.draw(chunk_sizes(df.shape[0]), label="chunksize")
        assert_matches_pandas(
            df,
            lambda d: d.map(func, na_action=na_action, **kwargs),
            lambda d: par(d, backend, chunksize).map(func, na_action=na_action, **kwargs),
        )

    check()


def test_series_map_matches_pandas_for_callables(backend, examples):
    @property_settings(backend, examples)
    @given(s=series(), call=st.one_of(ELEMENT_CALLS, st.just((element_as_series, {}))),
           na_action=st.sampled_from([None, "ignore"]), data=st.data())
    def check(s, call, na_action, data):
        func, kwargs = call  # pandas 2 has no **kwargs here: both must raise TypeError
        chunksize = data.draw(chunk_sizes(len(s)), label="chunksize")
        assert_matches_pandas(
            s,
            lambda x: x.map(func, na_action=na_action, **kwargs),
            lambda x: par(x, backend, chunksize).map(func, na_action=na_action, **kwargs),
        )

    check()


def test_series_apply_matches_pandas_with_args_and_kwargs(backend, examples):
    calls = st.one_of(
        st.tuples(st.sampled_from(ELEMENT_FUNCTIONS + (element_as_series,)),
                  st.just(()), st.just({})),
        st.tuples(st.just(element_tagged), st.tuples(st.sampled_from(["p", ""])),
                  st.sampled_from([{}, {"sep": ":"}])),
        st.tuples(st.just(element_scaled), st.tuples(st.integers(0, 2)),
                  st.sampled_from([{}, {"offset": 1}])),
    )

    @property_settings(backend, examples)
    @given(s=series(), call=calls, data=st.data())
    def check(s, call, data):
        func, args, kwargs = call
        chunksize = data.draw(chunk_sizes(len(s)), label="chunksize")
        assert_matches_pandas(
            s,
            lambda x: x.apply(func, args=args, **kwargs),
            lambda x: par(x, backend, chunksize).apply(func, args=args, **kwargs),
        )

    check()


_ELEMENT_METHODS = {
    "Series.map": lambda s, na_action: s.map(element_seen, na_action=na_action),
    "Series.apply": lambda s, na_action: s.apply(element_seen),
    "DataFrame.map": lambda s, na_action: s.to_frame().map(element_seen, na_action=na_action),
}


def test_element_functions_are_given_the_values_pandas_gives(backend, examples):
    # pandas converts some arrays as a whole before calling the function (pandas 2 turns Int64
    # with a missing value into floats): a chunk must not be converted on its own
    @property_settings(backend, examples)
    @given(s=series(), method=st.sampled_from(list(_ELEMENT_METHODS)),
           na_action=st.sampled_from([None, "ignore"]), data=st.data())
    def check(s, method, na_action, data):
        chunksize = data.draw(chunk_sizes(len(s)), label="chunksize")
        call = _ELEMENT_METHODS[method]
        assert_matches_pandas(
            s,
            lambda x: call(x, na_action),
            lambda x: call(_ParSeries(x, backend, chunksize), na_action),
        )

    check()


# --------------------------------------------------------------------------------------------
# groupby(...).apply


def _groupby_options(draw_from: Any) -> dict[str, Any]:
    return {
        "as_index": draw_from(st.booleans(), label="as_index"),
        "sort": draw_from(st.booleans(), label="sort"),
        "group_keys": draw_from(st.booleans(), label="group_keys"),
        "dropna": draw_from(st.booleans(), label="dropna"),
        "observed": draw_from(st.booleans(), label="observed"),
    }


def test_groupby_apply_matches_pandas_for_every_groupby_option(backend, examples):
    @property_settings(backend, examples)
    @given(df=group_frames(), by=st.sampled_from(["k", ["k"], ["k", "k2"]]),
           func=st.sampled_from(GROUP_FUNCTIONS),
           include_groups=st.sampled_from([NOT_GIVEN, False, True]), data=st.data())
    def check(df, by, func, include_groups, data):
        options = _groupby_options(data.draw)
        chunksize = data.draw(chunk_sizes(len(df)), label="chunksize")
        extra = {} if include_groups is NOT_GIVEN else {"include_groups": include_groups}
        assert_matches_pandas(
            df,
            lambda d: d.groupby(by, **options).apply(func, **extra),
            lambda d: par(d, backend, chunksize).groupby(by, **options).apply(func, **extra),
        )

    check()


def test_groupby_apply_passes_args_and_kwargs_like_pandas(backend, examples):
    @property_settings(backend, examples, scale=0.5)
    @given(df=group_frames(), offset=st.integers(-2, 2), scale=st.integers(1, 3),
           data=st.data())
    def check(df, offset, scale, data):
        options = _groupby_options(data.draw)
        chunksize = data.draw(chunk_sizes(len(df)), label="chunksize")
        assert_matches_pandas(
            df,
            lambda d: d.groupby("k", **options).apply(group_size_plus, offset, scale=scale),
            lambda d: par(d, backend, chunksize).groupby("k", **options).apply(
                group_size_plus, offset, scale=scale),
        )

    check()


def test_groupby_column_selection_apply_matches_pandas(backend, examples):
    selections = st.one_of(
        st.tuples(st.sampled_from(["x", "y"]), st.sampled_from(SERIES_GROUP_FUNCTIONS)),
        st.tuples(st.just(["x", "y"]), st.sampled_from(GROUP_FUNCTIONS)),
    )

    @property_settings(backend, examples)
    @given(df=group_frames(), selection=selections,
           include_groups=st.sampled_from([NOT_GIVEN, False, True]), data=st.data())
    def check(df, selection, include_groups, data):
        column, func = selection
        options = _groupby_options(data.draw)
        chunksize = data.draw(chunk_sizes(len(df)), label="chunksize")
        extra = {} if include_groups is NOT_GIVEN else {"include_groups": include_groups}
        assert_matches_pandas(
            df,
            lambda d: d.groupby("k", **options)[column].apply(func, **extra),
            lambda d: par(d, backend, chunksize).groupby("k", **options)[column].apply(
                func, **extra),
        )

    check()


def test_series_groupby_apply_matches_pandas(backend, examples):
    @property_settings(backend, examples, scale=0.5)
    @given(df=group_frames(), func=st.sampled_from(SERIES_GROUP_FUNCTIONS),
           include_groups=st.sampled_from([NOT_GIVEN, False, True]), data=st.data())
    def check(df, func, include_groups, data):
        options = _groupby_options(data.draw)
        chunksize = data.draw(chunk_sizes(len(df)), label="chunksize")
        extra = {} if include_groups is NOT_GIVEN else {"include_groups": include_groups}
        assert_matches_pandas(
            df,
            lambda d: d["x"].groupby(d["k"], **options).apply(func, **extra),
            lambda d: par(d["x"], backend, chunksize).groupby(d["k"], **options).apply(
                func, **extra),
        )

    check()


# --------------------------------------------------------------------------------------------
# inputs with nothing to split


@pytest.mark.parametrize("shape", [(0, 0), (0, 3), (4, 0)])
@pytest.mark.parametrize("func", [unit_length, unit_summary_series, unit_first])
@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize("result_type", [None, "reduce", "expand", "broadcast"])
def test_empty_frame_apply_goes_to_pandas_on_every_backend(shape, func, axis, result_type):
    # no backend runs an empty frame (so none is a parameter): each call is pandas' own call
    df = pd.DataFrame(np.zeros(shape, dtype="int64"), columns=list("abc"[:shape[1]]))
    for backend in [*BACKENDS, "auto"]:
        _, plan = run_with_plan(assert_matches_pandas, df,
                                lambda d: d.apply(func, axis=axis, result_type=result_type),
                                lambda d, backend=backend: par(d, backend, 1).apply(
                                    func, axis=axis, result_type=result_type))
        assert plan is not None and plan.plain, f"{backend}: {plan}"


# --------------------------------------------------------------------------------------------
# exceptions and where the function runs


class UnitRejected(Exception):
    """An exception whose constructor takes other arguments than its message."""

    def __init__(self, label, count):
        super().__init__(f"{label!r} has {count} values")
        self.label = label
        self.count = count


def reject_second_row(row):
    if row.name == 1:
        raise UnitRejected(row.name, len(row))
    return len(row)


def reject_second_element(x):
    if x == 1:
        raise UnitRejected(x, 1)
    return x


def reject_second_group(g):
    if g.name == 1:
        raise UnitRejected(g.name, len(g))
    return len(g)


_REJECTING_CALLS = {
    "DataFrame.apply": lambda df: df.apply(reject_second_row, axis=1),
    "DataFrame.map": lambda df: df.map(reject_second_element),
    "Series.apply": lambda df: df["a"].apply(reject_second_element),
    "Series.map": lambda df: df["a"].map(reject_second_element),
    "groupby.apply": lambda df: df.groupby("a").apply(reject_second_group),
}


@pytest.mark.parametrize("method", list(_REJECTING_CALLS))
def test_exception_from_the_function_keeps_its_type(backend, method):
    df = pd.DataFrame({"a": [0, 1, 2, 3], "b": [1.0, 2.0, 3.0, 4.0]})
    call = _REJECTING_CALLS[method]
    with pytest.raises(UnitRejected):
        call(df)
    with pytest.raises(UnitRejected):
        call(_ParFrame(df, backend))


def where_it_runs(_):
    return f"{os.getpid()}:{threading.get_ident()}"


_WORKER_CALLS = {
    "DataFrame.apply rows": lambda df: df.apply(where_it_runs, axis=1),
    "DataFrame.apply columns": lambda df: df.apply(where_it_runs),
    "DataFrame.apply raw rows": lambda df: df.apply(where_it_runs, axis=1, raw=True),
    "DataFrame.map": lambda df: df.map(where_it_runs),
    "Series.apply": lambda df: df["a"].apply(where_it_runs),
    "Series.map": lambda df: df["a"].map(where_it_runs),
    "groupby.apply": lambda df: df.groupby("k").apply(where_it_runs, include_groups=False),
    "groupby column apply": lambda df: df.groupby("k")["a"].apply(where_it_runs),
    "Series groupby apply": lambda df: df["a"].groupby([0, 0, 1, 1]).apply(where_it_runs),
}


@pytest.mark.parametrize("parallel_backend", ["threads", "processes", "dask"])
@pytest.mark.parametrize("method", list(_WORKER_CALLS))
def test_parallel_backends_run_the_function_in_their_workers(parallel_backend, method, request):
    # otherwise the properties above would compare pandas with itself
    if parallel_backend == "dask":
        request.getfixturevalue("dask_client")
    df = pd.DataFrame({"a": [0, 1, 2, 3], "b": [1.0, 2.0, 3.0, 4.0], "k": [0, 0, 1, 1]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        result = _WORKER_CALLS[method](_ParFrame(df, parallel_backend))
    caller = where_it_runs(None)
    places = list(np.asarray(result).ravel())
    if method == "DataFrame.apply raw rows":
        # numpy's result takes the first row's dtype: that row runs first, in the caller
        assert places[0] == caller
        places = places[1:]
    assert caller not in set(places)
