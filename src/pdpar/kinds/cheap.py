"""Cheap rows: ``df.apply(func, axis=1)`` without a Series per row, when the function only
reads fields of its row.

pandas passes the function a row Series, whose construction (pandas reuses one object, but
swaps its values and its label for every row) costs far more than a function that reads a few
fields and computes with them. When the function's bytecode proves that it only reads fields
(:func:`.reads.row_reads`: ``row["a"]``, ``row.a``, ``row.name``, ``row.get("a")``,
``"a" in row``), and the frame lets pdpar give exactly the values pandas' row would
(:func:`fields_of`), each row is a light mapping of the fields read, filled from the columns
the chunk took once (:func:`pdpar._pandas.row_columns`): the same values of the same types,
the same label. Whatever cannot be proven takes the Series path, with the reason in the plan.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd

from .. import _pandas
from ..broadcast import Broadcasting, Shared
from ..errors import ChunkSpan, labelled
from .base import share_indexes
from .reads import row_reads

__all__ = ["Fields", "fields_of", "cheap_frame_chunk", "CHEAP"]

#: What the plan says of a call whose rows are cheap.
CHEAP = "cheap rows"


class _Name:
    """The key of a row's label in a cheap row (no column label can equal it)."""

    def __repr__(self) -> str:
        return "<the row's label>"

    def __reduce__(self) -> str:
        return "NAME"


NAME = _Name()


@dataclass(frozen=True)
class Fields:
    """The fields a function reads of each row: ``keys`` (the labels and attribute names it
    reads) and the position of each one's column in ``positions``; ``attributes`` are read as
    ``row.<attribute>``, and ``name`` says whether it reads ``row.name``."""

    keys: tuple[Hashable, ...]
    positions: tuple[int, ...]
    attributes: tuple[str, ...]
    name: bool


def _label_kind(columns: pd.Index) -> str | None:
    """The labels a constant may name among these columns: "str" or "int"."""
    dtype = columns.dtype
    if (isinstance(dtype, np.dtype) and dtype.kind == "O") or isinstance(dtype, pd.StringDtype):
        return "str"
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":
        return "int"
    return None


def fields_of(df: pd.DataFrame, func: Any) -> Fields | str:
    """The fields ``func`` reads of the rows of ``df``, when it is proven that it only reads
    them and that pdpar gives exactly the values pandas' rows would; else why not."""
    if isinstance(func, Broadcasting):  # it calls func(row, ..., **objects)
        func = func.func
    reads = row_reads(func)
    if isinstance(reads, str):
        return reads
    if type(df) is not pd.DataFrame:
        return f"the frame is a {type(df).__name__}, whose rows may behave otherwise"
    columns = df.columns
    if type(columns) not in (pd.Index, pd.RangeIndex):
        return f"the columns are a {type(columns).__name__}"
    if not columns.is_unique:
        return "the column labels repeat"
    kind = _label_kind(columns)
    keys: dict[Hashable, int] = {}
    for label in sorted(reads.items | reads.optional, key=repr):
        if kind is None or type(label) is not {"str": str, "int": int}[kind]:
            if label in reads.items:
                return (f"row[{label!r}]: the columns are labelled by {columns.dtype}, and "
                        "pdpar reads str labels of str columns and int labels of int columns")
            return (f"{label!r} in row or row.get({label!r}): the columns are labelled by "
                    f"{columns.dtype}")
        try:
            keys[label] = int(columns.get_loc(label))
        except KeyError:
            if label in reads.items:
                return f"row[{label!r}]: no column is labelled {label!r}"
    for attribute in sorted(reads.attributes):
        if not _pandas.reads_attribute(columns, attribute):
            if attribute in columns:
                return (f"row.{attribute}: a column is labelled {attribute!r}, but pandas' "
                        f"row.{attribute} is not that column")
            if hasattr(pd.Series, attribute) or attribute.startswith("_"):
                return f"the function uses row.{attribute}, an attribute of the Series"
            return f"row.{attribute}: no column is labelled {attribute!r}"
        keys[attribute] = int(columns.get_loc(attribute))
    reason = _pandas.columns_reason(df)
    if reason is not None:
        return reason
    return Fields(tuple(keys), tuple(keys.values()), tuple(sorted(reads.attributes)),
                  reads.name)


class _Row(dict):
    """A row of named fields: ``row[label]`` (and ``get``, ``in``) from the mapping,
    ``row.<attribute>`` and ``row.name`` from properties of the class made for the call."""

    __slots__ = ()


def row_class(fields: Fields) -> type[dict]:
    """The class of the cheap rows of a call reading ``fields``."""
    namespace: dict[str, Any] = {"__slots__": ()}
    for attribute in fields.attributes:
        namespace[attribute] = property(itemgetter(attribute))
    if fields.name:
        namespace["name"] = property(itemgetter(NAME))
    return type("Row", (_Row,), namespace)


def cheap_frame_chunk(piece: pd.DataFrame, labels: pd.Index, span: ChunkSpan,
                      shared: Shared) -> list[Any]:
    """Run the function on a cheap row for each row of ``piece``; the raw results, as
    :func:`.rows.record_frame_chunk` gives them.

    ``shared.value`` is the function, its :class:`Fields`, and its ``args`` and keyword
    arguments."""
    func, fields, args, kwargs = shared.value
    columns = _pandas.row_columns(piece, fields.positions)
    keys = fields.keys
    if fields.name:
        columns.append(_pandas.row_names(piece))
        keys = (*keys, NAME)
    light = row_class(fields)
    rows = map(light, map(zip, repeat(keys), zip(*columns))) if keys \
        else map(light, repeat((), len(piece)))  # only labels that are not columns: empty rows
    results: list[Any] = []
    append = results.append
    with labelled("row", span, lambda: labels[len(results)]):
        if args or kwargs:
            for row in rows:
                append(func(row, *args, **kwargs))
        else:
            for row in rows:
                append(func(row))
    if any(issubclass(kind, pd.Series) for kind in set(map(type, results))):
        for i, result in enumerate(results):
            if isinstance(result, pd.Series):  # as pandas does with a function's Series
                results[i] = result.copy(deep=False)
    return _pandas.stack_series_results(share_indexes(results))
