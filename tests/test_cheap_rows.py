"""Cheap rows: ``df.par.apply(f, axis=1)`` hands ``f`` a light row instead of a Series when
``f``'s code proves that it only reads fields, and the results are pandas' own.

What the frame allows (:func:`pdpar.kinds.cheap.fields_of`: labels, attribute names,
dtypes; the proof itself is tested in test_row_reads.py), then calls: the plan, the ``rows``
option, errors, the automatic backend, and property tests comparing what functions see and
compute on every dtype family and index kind with pandas itself.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import pdpar
from conftest import run_with_plan
from pdpar.kinds.cheap import CHEAP, Fields, fields_of
from strategies import ROW_KINDS, chunk_sizes, frames
from test_properties import assert_identical, outcome, property_settings
from test_row_reads import reads_fields

HERE = Path(__file__).name


# --------------------------------------------------------------------------------------------
# what the frame allows

_FRAME = pd.DataFrame({"a": [1, 2, 3], "b": [0.5, 1.5, 2.5], "t": ["x", "y", None]},
                      index=["r0", "r1", "r2"])


def test_the_fields_read_are_the_columns_they_name():
    fields = fields_of(_FRAME, reads_fields)
    assert isinstance(fields, Fields)
    positions = dict(zip(fields.keys, fields.positions))
    assert positions == {"a": 0, "b": 1} and fields.attributes == ("b",) and fields.name


@pytest.mark.parametrize(("func", "words"), [
    (lambda row: row["zz"], "row['zz']: no column is labelled 'zz'"),
    (lambda row: row.zz, "row.zz: no column is labelled 'zz'"),
    (lambda row: row.index, "the function uses row.index, an attribute of the Series"),
    (lambda row: row[0], "row[0]: the columns are labelled by"),
    (lambda row: row[("a", "b")], "row[('a', 'b')]: the columns are labelled by"),
])
def test_a_label_the_frame_lacks_takes_the_series_path(func, words):
    reason = fields_of(_FRAME, func)
    assert isinstance(reason, str) and reason.startswith(words), reason


def test_missing_labels_raise_what_pandas_raises():
    for func in (lambda row: row["zz"], lambda row: row.zz):
        expected = outcome(lambda f=func: _FRAME.apply(f, axis=1))
        actual, plan = run_with_plan(outcome, lambda f=func: _FRAME.par(
            backend="serial").apply(f, axis=1))
        assert_identical(expected, actual)
        assert "no column is labelled 'zz'" in plan.rows


def test_labels_in_get_and_in_may_be_missing():
    func = functools.partial(reads_fields, k=1)
    frame = _FRAME.set_axis([0, 1, 3])
    got, plan = run_with_plan(lambda: frame.par(backend="serial").apply(func, axis=1))
    pd.testing.assert_series_equal(got, frame.apply(func, axis=1))
    assert plan.rows == CHEAP


def test_a_function_that_reads_no_column_gets_rows_without_fields():
    def absent(row):
        return ("zz" in row, row.get("zy", -1))

    got, plan = run_with_plan(lambda: _FRAME.par(backend="serial").apply(absent, axis=1))
    pd.testing.assert_series_equal(got, _FRAME.apply(absent, axis=1))
    assert plan.rows == CHEAP


_NAMED_LIKE_SERIES = pd.DataFrame({"sum": [1, 2], "index": [3, 4], "values": [5, 6],
                                   "name": [7, 8], "size": [9, 10], "clear": [11, 12],
                                   "x": [13, 14]}, index=["p", "q"])


@pytest.mark.parametrize(("func", "cheap"), [
    (lambda row: row["sum"] + row["index"] + row["values"] + row["name"], True),
    (lambda row: (row.name, row["name"], row.x), True),
    (lambda row: row.clear + row.x, True),  # a dict method, but not a Series attribute
    (lambda row: row.size, False),
    (lambda row: row.values, False),
    (lambda row: row.sum, False),
])
def test_columns_named_like_series_attributes_read_as_pandas_reads_them(func, cheap):
    got, plan = run_with_plan(lambda: _NAMED_LIKE_SERIES.par(backend="serial").apply(
        func, axis=1))
    expected = _NAMED_LIKE_SERIES.apply(func, axis=1)
    if cheap:
        pd.testing.assert_series_equal(got, expected)
        assert plan.rows == CHEAP
    else:  # the Series path: pandas' own rows, and the reason in the plan
        assert plan.rows.startswith("row.") and "is not that column" in plan.rows, plan.rows


@pytest.mark.parametrize(("frame", "words"), [
    (pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("a", "x"), ("b", "y")])),
     "the columns are a MultiIndex"),
    (pd.DataFrame([[1, 2]], columns=["a", "a"]), "the column labels repeat"),
    (pd.DataFrame({"a": pd.period_range("2024", periods=2, freq="D")}),
     "the rows are of dtype period[D]"),
    (pd.DataFrame({"a": pd.array([1, None], "Int64"), "b": [1, 2]}),
     "the rows are of dtype Int64, which pandas builds from columns of other dtypes"),
])
def test_frames_pdpar_cannot_read_exactly_take_the_series_path(frame, words):
    reason = fields_of(frame, lambda row: row["a"])
    assert isinstance(reason, str) and reason.startswith(words), reason
    got, plan = run_with_plan(outcome, lambda: frame.par(backend="serial").apply(
        lambda row: row["a"], axis=1))
    assert_identical(outcome(lambda: frame.apply(lambda row: row["a"], axis=1)), got)
    assert plan.rows == reason


class _Frame(pd.DataFrame):
    @property
    def _constructor(self):
        return _Frame


def test_a_subclass_of_dataframe_takes_the_series_path():
    assert fields_of(_Frame(_FRAME), lambda row: row["a"]).startswith("the frame is a _Frame")


# --------------------------------------------------------------------------------------------
# calls

#: The kind of row each function below received, as seen from the calling process.
SEEN: list[str] = []


def _record_the_row_kind() -> bool:
    """Record what the calling function got as its row. It reads the caller's frame, which
    no proof can see: only a test does that."""
    SEEN.append(type(sys._getframe(1).f_locals["row"]).__name__)
    return True


def score(row):
    _record_the_row_kind()
    return row["a"] * 2 + row.b


def score_with(row, k, *, scale):
    return (row["a"] + k) * scale + row.b


def fails_on_r1(row):
    return 1 / (row.name != "r1") + row["a"]


def test_the_plan_says_cheap_rows_on_every_backend(backend):
    got, plan = run_with_plan(lambda: _FRAME.par(backend=backend, n_jobs=2, chunksize=1).apply(
        score_with, axis=1, args=(1,), scale=2))
    pd.testing.assert_series_equal(got, _FRAME.apply(score_with, axis=1, args=(1,), scale=2))
    assert plan.rows == CHEAP and plan.n_chunks == 3
    assert str(plan).startswith(f"Plan(3 rows: {backend}, n_jobs=2, 3 chunks, cheap rows;")
    assert "rows: cheap rows" in plan.explain()


def test_the_plan_says_which_use_of_the_row_takes_the_series_path():
    def totals(row, label="a"):
        return row[label] * 2

    got, plan = run_with_plan(lambda: _FRAME.par(backend="threads").apply(totals, axis=1))
    pd.testing.assert_series_equal(got, _FRAME.apply(totals, axis=1))
    where = f"{HERE}:{totals.__code__.co_firstlineno + 1}"
    assert plan.rows == f"the function reads row[...] with a label that is not a constant " \
        f"({where})"
    assert "rows: Series, as the function reads row[...]" in plan.explain()


def test_rows_series_gives_the_function_pandas_series():
    expected = _FRAME.apply(score, axis=1)
    SEEN.clear()
    got, plan = run_with_plan(lambda: _FRAME.par(backend="serial", rows="series").apply(
        score, axis=1))
    pd.testing.assert_series_equal(got, expected)
    assert plan.rows == "rows='series' was asked for" and SEEN == ["Series"] * 3
    SEEN.clear()
    with pdpar.config(rows="series"):
        _FRAME.par(backend="serial").apply(score, axis=1)
    assert SEEN == ["Series"] * 3


@pytest.mark.parametrize("value", ["Series", "light", None, True])
def test_the_rows_option_is_checked_where_it_is_written(value):
    with pytest.raises(ValueError, match="rows must be 'auto' or 'series'"):
        _FRAME.par(rows=value)
    with pytest.raises(ValueError, match="rows must be 'auto' or 'series'"):
        pdpar.config(rows=value)


def test_an_exception_keeps_its_type_and_names_its_row_as_on_the_series_path(backend):
    notes = {}
    for rows in ("series", "auto"):
        with pytest.raises(ZeroDivisionError) as raised:
            _FRAME.par(backend=backend, n_jobs=2, chunksize=1, rows=rows).apply(
                fails_on_r1, axis=1)
        notes[rows] = [n for n in raised.value.__notes__ if n.startswith("pdpar:")]
    assert notes["auto"] == notes["series"]
    assert notes["auto"][0].startswith("pdpar: raised by the function on the row labelled 'r1'")


def test_the_automatic_backend_measures_cheap_rows_and_finishes_with_them():
    df = pd.DataFrame({"a": np.arange(300), "b": np.arange(300) / 2})
    expected = df.apply(score, axis=1)
    SEEN.clear()
    got, plan = run_with_plan(lambda: df.par(n_jobs=2).apply(score, axis=1))
    pd.testing.assert_series_equal(got, expected)
    assert plan.rows == CHEAP and plan.measurement is not None and plan.probed >= 1
    # what ran in this process (the measured rows, and the rest when no pool pays) got cheap
    # rows: no Series was built for them
    assert set(SEEN) == {"Row"} and len(SEEN) >= plan.probed
    if plan.backend == "serial":
        assert not plan.plain and plan.bounds == ((plan.probed, 300),) and len(SEEN) == 300


def test_one_usable_cpu_runs_cheap_rows_in_the_calling_process():
    expected = _FRAME.apply(score, axis=1)
    SEEN.clear()
    got, plan = run_with_plan(lambda: _FRAME.par(n_jobs=1).apply(score, axis=1))
    pd.testing.assert_series_equal(got, expected)
    assert (plan.backend, plan.bounds, plan.reason) == ("serial", ((0, 3),), "one usable CPU")
    assert SEEN == ["Row"] * 3


def test_broadcast_objects_do_not_hide_the_function():
    got, plan = run_with_plan(lambda: _FRAME.par(backend="processes", n_jobs=2, broadcast={
        "scale": 3}).apply(score_with, axis=1, args=(1,)))
    pd.testing.assert_series_equal(got, _FRAME.apply(score_with, axis=1, args=(1,), scale=3))
    assert plan.rows == CHEAP


def test_a_function_that_returns_a_series_per_row_gets_pandas_assembly():
    def pair(row):
        return pd.Series({"a": row["a"], "twice": row.b * 2})

    for result_type in (None, "expand", "reduce"):
        got, plan = run_with_plan(lambda t=result_type: _FRAME.par(
            backend="threads", chunksize=2).apply(pair, axis=1, result_type=t))
        assert_identical(_FRAME.apply(pair, axis=1, result_type=result_type), got)
        assert plan.rows == CHEAP


def test_broadcasting_results_take_the_series_path():
    got, plan = run_with_plan(lambda: _FRAME[["a", "b"]].par(backend="serial").apply(
        lambda row: row["a"], axis=1, result_type="broadcast"))
    pd.testing.assert_frame_equal(got, _FRAME[["a", "b"]].apply(
        lambda row: row["a"], axis=1, result_type="broadcast"))
    assert plan.rows is None


# --------------------------------------------------------------------------------------------
# what functions see and compute, against pandas


def sees(row):
    a = row["a"]
    return f"{type(a).__name__}:{a!r}|{type(row.name).__name__}:{row.name!r}"


def sees_attribute_and_optional(row):
    return type(row.a).__name__, row.a, row.get("b"), row.get("zz", "absent"), "c" in row


def floors_by_zero(row):
    return row["a"] // 0


def overflows(row):
    return row["a"] * 2**62 + row["a"] * 3


def checks_types(row):
    a = row["a"]
    return isinstance(a, int), isinstance(a, float), isinstance(a, np.generic), str(a)


def reads_twice(row):
    return row["a"] + row["a"]


def reads_an_int_label(row):
    return f"{type(row[0]).__name__}:{row[0]!r}"


def reads_a_missing_label(row):
    return row["zz"]


FIELD_FUNCTIONS = (sees, sees_attribute_and_optional, floors_by_zero, overflows, checks_types,
                   reads_twice, reads_an_int_label, reads_a_missing_label)


@pytest.fixture(params=["serial", "threads", "processes", "auto"])
def row_backend(request):
    return request.param


def test_functions_of_fields_see_and_compute_what_they_would_on_pandas_rows(row_backend,
                                                                             examples):
    @property_settings(row_backend, examples)
    @given(df=frames(kinds=ROW_KINDS), func=st.sampled_from(FIELD_FUNCTIONS), data=st.data())
    def check(df, func, data):
        chunksize = data.draw(chunk_sizes(df.shape[0]), label="chunksize")
        expected = outcome(lambda: df.apply(func, axis=1))
        actual, plan = run_with_plan(outcome, lambda: df.par(
            backend=row_backend, n_jobs=2, chunksize=chunksize).apply(func, axis=1))
        assert_identical(expected, actual)
        if all(df.shape) and plan is not None:  # (no plan when the measured rows raised)
            assert (plan.rows == CHEAP) == isinstance(fields_of(df, func), Fields), plan.rows

    check()


_T = pd.Timestamp("2024-03-31 01:00")

#: Six values of each column kind, missing ones included where the kind has them.
_VALUES = {
    "int": np.array([0, 7, -3, 2**40, 1, 5]),
    "float": np.array([0.5, np.nan, -1.0, 0.0, 1e300, 2.0]),
    "bool": np.array([True, False, True, True, False, False]),
    "str": ["", "a", None, "ß", "x y", "b"],
    "category": pd.Categorical(["lo", None, "hi", "lo", "mid", "hi"],
                               categories=["lo", "mid", "hi", "unused"]),
    "datetime_tz": pd.Series([_T, None, _T, _T, _T, _T], dtype="datetime64[ns, Europe/Paris]"),
    "Int64": pd.array([1, None, -3, 0, 2**40, 5], dtype="Int64"),
    "boolean": pd.array([True, None, False, True, True, False], dtype="boolean"),
    "int64[pyarrow]": pd.array([1, None, -3, 0, 2**40, 5], dtype="int64[pyarrow]"),
    "double[pyarrow]": pd.array([1.5, None, np.nan, 0.0, -2.0, 3.0], dtype="double[pyarrow]"),
    "string[pyarrow]": pd.array(["a", None, "", "ß", "b", "c"], dtype="string[pyarrow]"),
    "int32": np.array([1, -(2**31), 2**31 - 1, 0, 3, 4], dtype="int32"),
    "uint64": np.array([1, 2**63 + 5, 0, 3, 4, 5], dtype="uint64"),
    "float32": np.array([0.1, np.nan, -1.5, 0.0, 2.0, 3.0], dtype="float32"),
    "Float64": pd.array([1.5, None, -2.0, 0.0, 2.25, 3.0], dtype="Float64"),
    "datetime": pd.Series([_T, None, _T, _T, _T, _T], dtype="datetime64[ns]"),
    "datetime_s": pd.Series([_T, None, _T, _T, _T, _T], dtype="datetime64[s]"),
    "timedelta": pd.Series([pd.Timedelta(minutes=3), None] + [pd.Timedelta(0)] * 4,
                           dtype="timedelta64[ns]"),
    "object": pd.Series([1, 2.5, "s", None, True, (1, 2)], dtype=object),
}

#: Row dtypes whose values pdpar does not take column by column on pandas 2.2: it builds each
#: row from the row's elements, which turns a float NaN into a missing value.
_NOT_ON_PANDAS_2 = ("Float64", "double[pyarrow]")


@pytest.mark.parametrize("kind", ROW_KINDS)
def test_every_dtype_family_gets_cheap_rows_with_pandas_values(kind):
    values = pd.Series(_VALUES[kind]).array
    index = pd.Index([f"r{i}" for i in range(6)])
    alone = pd.DataFrame({"a": values, "b": values[::-1]}, index=index)
    mixed = pd.DataFrame({"a": values, "n": np.arange(6), "s": list("abcdef")}, index=index)
    for df in (alone, mixed):
        for func in (sees, sees_attribute_and_optional, checks_types):
            expected = outcome(lambda f=func, d=df: d.apply(f, axis=1))
            actual, plan = run_with_plan(outcome, lambda f=func, d=df: d.par(
                backend="serial").apply(f, axis=1))
            assert_identical(expected, actual)
            uncovered = df is alone and not pdpar._pandas.PANDAS_3 and kind in _NOT_ON_PANDAS_2
            assert (plan.rows == CHEAP) != uncovered, (kind, plan.rows)


def test_a_series_method_taken_from_the_class_gets_series_rows():
    """pandas 3's Series.describe calls super() without arguments, which takes its row from
    the frame: no load of the row shows it in the bytecode of CPython 3.11 (pandas 2.2's
    passes its row to a call)."""
    df = pd.DataFrame(np.arange(12.0).reshape(4, 3))
    got, plan = run_with_plan(lambda: df.par(backend="serial").apply(pd.Series.describe,
                                                                     axis=1))
    pd.testing.assert_frame_equal(got, df.apply(pd.Series.describe, axis=1))
    assert plan.rows != CHEAP and plan.rows.startswith("the function uses"), plan.rows
