"""Hypothesis strategies for the property tests: small frames and Series of every column dtype
pdpar must handle, on every kind of index, and frames shaped for ``groupby``.

Frames stay small (at most :data:`MAX_ROWS` rows, a few columns): the properties are about
dtypes, labels and chunk boundaries, not about size.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import strategies as st

__all__ = [
    "MAX_ROWS",
    "COLUMN_KINDS",
    "ROW_KINDS",
    "KEY_KINDS",
    "columns",
    "indexes",
    "frames",
    "series",
    "group_frames",
    "chunk_sizes",
]

MAX_ROWS = 30

#: Column dtypes, by a short name. "str" is pandas' default for Python strings (object in
#: pandas 2, the str dtype in pandas 3).
COLUMN_KINDS = (
    "int",
    "float",
    "bool",
    "str",
    "category",
    "datetime_tz",
    "Int64",
    "boolean",
    "int64[pyarrow]",
    "double[pyarrow]",
    "string[pyarrow]",
)

#: More column dtypes, for what a function of rows sees of each: the scalar types numpy and
#: pandas give differ between them, and a row's dtype is that of all its columns together.
ROW_KINDS = COLUMN_KINDS + (
    "int32",
    "uint64",
    "float32",
    "Float64",
    "datetime",
    "datetime_s",
    "timedelta",
    "object",
)

#: Dtypes of groupby keys; several of them can hold missing keys (for ``dropna``) and
#: "category" has an unused category (for ``observed``).
KEY_KINDS = ("int", "str", "float", "category", "Int64", "string[pyarrow]", "bool")

_STRINGS = ("", "a", "bb", "x y", "ß")
_CATEGORIES = ("lo", "mid", "hi", "unused")
_TIMEZONE = "Europe/Paris"
# the night the clocks go forward in _TIMEZONE, so the hours cross a DST change
_FIRST_HOUR = pd.Timestamp("2024-03-30 22:00", tz=_TIMEZONE)


def _with_missing(draw: Any, values: list[Any], missing: Any) -> list[Any]:
    """Replace some of ``values`` by ``missing``, or none of them."""
    if not values or not draw(st.booleans()):
        return values
    # about one value in four, so that some chunks have missing values and others none
    holes = draw(st.lists(st.integers(0, 3), min_size=len(values), max_size=len(values)))
    return [missing if hole == 0 else value for value, hole in zip(values, holes)]


def _ints(n: int, low: int = -3, high: int = 12) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(low, high), min_size=n, max_size=n)


def _strings(n: int) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(_STRINGS), min_size=n, max_size=n)


@st.composite
def columns(draw: Any, kind: str, n: int) -> pd.Series:
    """A Series of ``n`` values of column kind ``kind`` (on a RangeIndex)."""
    if kind == "int":
        return pd.Series(np.array(draw(_ints(n)), dtype="int64"))
    if kind == "float":
        values = draw(st.lists(st.sampled_from([0.0, -1.5, 2.25, 3.0, math.nan]),
                               min_size=n, max_size=n))
        return pd.Series(np.array(values, dtype="float64"))
    if kind == "bool":
        return pd.Series(np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)),
                                  dtype=bool))
    if kind == "str":
        values = _with_missing(draw, draw(_strings(n)), None)
        return pd.Series(values, dtype=None if values else object)
    if kind == "category":
        values = _with_missing(draw, draw(st.lists(st.sampled_from(_CATEGORIES[:3]),
                                                   min_size=n, max_size=n)), None)
        return pd.Series(pd.Categorical(values, categories=list(_CATEGORIES),
                                        ordered=draw(st.booleans())))
    if kind == "datetime_tz":
        hours = draw(_ints(n, 0, 8))
        values = _with_missing(draw, [_FIRST_HOUR + pd.Timedelta(hours=h) for h in hours], None)
        return pd.Series(values, dtype=f"datetime64[ns, {_TIMEZONE}]")
    if kind in ("Int64", "int64[pyarrow]"):
        return pd.Series(_with_missing(draw, draw(_ints(n)), None), dtype=kind)
    if kind == "double[pyarrow]":
        values = draw(st.lists(st.sampled_from([0.0, -1.5, 2.25, math.nan]), min_size=n,
                               max_size=n))
        return pd.Series(_with_missing(draw, values, None), dtype=kind)
    if kind == "boolean":
        values = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        return pd.Series(_with_missing(draw, values, None), dtype="boolean")
    if kind == "string[pyarrow]":
        return pd.Series(_with_missing(draw, draw(_strings(n)), None), dtype=kind)
    if kind in ("int32", "uint64"):
        low, high = (0, 2**63 + 5) if kind == "uint64" else (-(2**31), 2**31 - 1)
        values = draw(st.lists(st.one_of(st.integers(-3, 12).filter(lambda v: v >= low),
                                         st.sampled_from([low, high])),
                               min_size=n, max_size=n))
        return pd.Series(np.array(values, dtype=kind))
    if kind == "float32":
        values = draw(st.lists(st.sampled_from([0.0, -1.5, 0.1, math.nan]), min_size=n,
                               max_size=n))
        return pd.Series(np.array(values, dtype="float32"))
    if kind == "Float64":
        values = draw(st.lists(st.sampled_from([0.0, -1.5, 2.25]), min_size=n, max_size=n))
        return pd.Series(_with_missing(draw, values, None), dtype="Float64")
    if kind in ("datetime", "datetime_s"):
        hours = draw(_ints(n, 0, 8))
        values = _with_missing(draw, [pd.Timestamp("2024-01-01") + pd.Timedelta(hours=h)
                                      for h in hours], None)
        return pd.Series(values, dtype="datetime64[ns]" if kind == "datetime"
                         else "datetime64[s]")
    if kind == "timedelta":
        values = _with_missing(draw, [pd.Timedelta(minutes=m) for m in draw(_ints(n))], None)
        return pd.Series(values, dtype="timedelta64[ns]")
    if kind == "object":
        values = draw(st.lists(st.sampled_from([1, 2.5, "s", None, True, (1, 2)]),
                               min_size=n, max_size=n))
        return pd.Series(values, dtype=object)
    raise ValueError(f"unknown column kind {kind!r}")


@st.composite
def indexes(draw: Any, n: int) -> pd.Index:
    """An index of length ``n``: RangeIndex, non-unique, MultiIndex or DatetimeIndex."""
    kind = draw(st.sampled_from(["range", "non-unique", "multi", "datetime"]))
    if kind == "range":
        return pd.RangeIndex(n)
    if kind == "non-unique":
        labels = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
        return pd.Index(np.array(labels, dtype="int64"), name=draw(st.sampled_from([None, "id"])))
    if kind == "multi":
        outer = draw(st.lists(st.sampled_from(["p", "q"]), min_size=n, max_size=n))
        inner = draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))
        return pd.MultiIndex.from_arrays([outer, np.array(inner, dtype="int64")],
                                         names=["outer", "inner"])
    tz = draw(st.sampled_from([None, "UTC"]))
    return pd.date_range("2024-01-01", periods=n, freq="h", tz=tz, name="when")


def _column_labels(draw: Any, count: int) -> list[Any]:
    style = draw(st.sampled_from(["letters", "letters", "ints", "duplicated"]))
    if style == "ints":
        return list(range(count))
    labels = list("abcdef"[:count])
    if style == "duplicated" and count >= 2:
        labels[-1] = labels[0]
    return labels


@st.composite
def frames(draw: Any, max_rows: int = MAX_ROWS, max_columns: int = 4,
           kinds: tuple[str, ...] = COLUMN_KINDS) -> pd.DataFrame:
    """A DataFrame of 0 to ``max_rows`` rows and 0 to ``max_columns`` columns of mixed kinds."""
    n = draw(st.integers(0, max_rows))
    column_kinds = draw(st.lists(st.sampled_from(kinds), min_size=0, max_size=max_columns))
    data = [draw(columns(kind, n)) for kind in column_kinds]
    if data:
        df = pd.concat(data, axis=1, ignore_index=True)
        df.columns = pd.Index(_column_labels(draw, len(data)))
    else:
        df = pd.DataFrame(index=pd.RangeIndex(n))
    df.index = draw(indexes(n))
    return df


@st.composite
def series(draw: Any, max_rows: int = MAX_ROWS,
           kinds: tuple[str, ...] = COLUMN_KINDS) -> pd.Series:
    """A named or unnamed Series of 0 to ``max_rows`` values of one kind, on any index."""
    n = draw(st.integers(0, max_rows))
    s = draw(columns(draw(st.sampled_from(kinds)), n))
    s.index = draw(indexes(n))
    s.name = draw(st.sampled_from([None, "values"]))
    return s


@st.composite
def _keys(draw: Any, kind: str, n: int) -> pd.Series:
    if kind == "int":
        return pd.Series(np.array(draw(_ints(n, 0, 3)), dtype="int64"))
    if kind == "bool":
        return pd.Series(np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)),
                                  dtype=bool))
    if kind == "str":
        return pd.Series(draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n,
                                       max_size=n)), dtype=None if n else object)
    if kind == "float":
        values = draw(st.lists(st.sampled_from([1.0, 2.0, 0.5, math.nan]), min_size=n,
                               max_size=n))
        return pd.Series(np.array(values, dtype="float64"))
    if kind == "category":
        values = _with_missing(draw, draw(st.lists(st.sampled_from(["a", "b", "c"]),
                                                   min_size=n, max_size=n)), None)
        # "d" is never used: observed=False must still report it
        return pd.Series(pd.Categorical(values, categories=["c", "a", "b", "d"]))
    if kind == "Int64":
        return pd.Series(_with_missing(draw, draw(_ints(n, 0, 3)), None), dtype="Int64")
    if kind == "string[pyarrow]":
        values = _with_missing(draw, draw(st.lists(st.sampled_from(["a", "b", "c"]),
                                                   min_size=n, max_size=n)), None)
        return pd.Series(values, dtype="string[pyarrow]")
    raise ValueError(f"unknown key kind {kind!r}")


@st.composite
def group_frames(draw: Any, max_rows: int = MAX_ROWS) -> pd.DataFrame:
    """A frame with a key column "k", a second key "k2", numbers "x" and a column "y" of any
    kind, on any index."""
    n = draw(st.integers(0, max_rows))
    df = pd.concat(
        [
            draw(_keys(draw(st.sampled_from(KEY_KINDS)), n)),
            pd.Series(np.array(draw(_ints(n, 0, 1)), dtype="int64")),
            draw(columns(draw(st.sampled_from(["int", "float", "Int64"])), n)),
            draw(columns(draw(st.sampled_from(COLUMN_KINDS)), n)),
        ],
        axis=1,
        ignore_index=True,
    )
    df.columns = pd.Index(["k", "k2", "x", "y"])
    df.index = draw(indexes(n))
    return df


def chunk_sizes(units: int) -> st.SearchStrategy[int | None]:
    """Chunk sizes from one unit per chunk to everything in one chunk, or automatic (None)."""
    return st.one_of(st.integers(1, max(1, units)), st.none())
