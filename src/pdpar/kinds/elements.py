"""Element-wise calls: ``Series.map``, ``Series.apply`` and ``DataFrame.map``.

Split: positional ranges of rows, as views.
Chunk task: pandas' own ``map``/``apply`` on the chunk (column by column for a DataFrame) with a
recording function; it returns the raw results in the order pandas called the function.
Combine: replay pandas' own method on the whole input with the recorded results
(:func:`~pdpar.kinds.replay`), so pandas infers the result's dtype from every element at once,
exactly as it does without pdpar.

Categorical and sparse data go to pandas directly: pandas maps their categories or stored
values, not each element, so there is no per-element work to spread.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_list_like

from .. import _pandas
from ..errors import ChunkSpan, add_label_note
from ..options import Options
from ..planner import Plan, plan_call
from . import call_with, execute, nbytes, replay

__all__ = ["map_series", "apply_series", "map_frame"]


def _maps_per_element(dtype: Any) -> bool:
    return not isinstance(dtype, (pd.CategoricalDtype, pd.SparseDtype))


def map_series(s: pd.Series, arguments: dict[str, Any], call_args: tuple,
               call_kwargs: dict[str, Any], options: Options) -> pd.Series:
    """``s.map(*call_args, **call_kwargs)``."""
    func = arguments.get("func", arguments.get("arg"))
    na_action = arguments.get("na_action")
    kwargs = arguments.get("kwargs", {})

    def pandas_map() -> pd.Series:
        return _pandas.Series_map(s, *call_args, **call_kwargs)

    if (not callable(func) or is_list_like(func)
            or arguments.get("engine") is not None or "arg" in kwargs
            or na_action not in (None, "ignore") or len(s) == 0
            or not _maps_per_element(s.dtype)):
        return pandas_map()
    plan = plan_call("elements", len(s), options)
    if plan.direct:
        return pandas_map()
    if kwargs:
        func = functools.partial(func, **kwargs)
    results = _run_series(s, func, plan, options, "map", na_action)
    return replay(_pandas.Series_map, s, results, na_action=na_action)


def apply_series(s: pd.Series, arguments: dict[str, Any], call_args: tuple,
                 call_kwargs: dict[str, Any], options: Options) -> pd.Series | pd.DataFrame:
    """``s.apply(*call_args, **call_kwargs)``."""
    func = arguments["func"]
    args = arguments.get("args", ())
    kwargs = arguments.get("kwargs", {})
    by_row = arguments.get("by_row", "compat")

    def pandas_apply() -> pd.Series | pd.DataFrame:
        return _pandas.Series_apply(s, *call_args, **call_kwargs)

    if (not callable(func) or is_list_like(func) or isinstance(func, np.ufunc)
            or by_row != "compat" or _pandas.given(arguments.get("convert_dtype"))
            or len(s) == 0 or not _maps_per_element(s.dtype)):
        return pandas_apply()
    plan = plan_call("elements", len(s), options)
    if plan.direct:
        return pandas_apply()
    if args or kwargs:
        func = functools.partial(call_with, func, args, kwargs)
    results = _run_series(s, func, plan, options, "apply", None)
    return replay(_pandas.Series_apply, s, results)


def map_frame(df: pd.DataFrame, arguments: dict[str, Any], call_args: tuple,
              call_kwargs: dict[str, Any], options: Options) -> pd.DataFrame:
    """``df.map(*call_args, **call_kwargs)``."""
    func = arguments["func"]
    na_action = arguments.get("na_action")
    kwargs = arguments.get("kwargs", {})

    def pandas_map() -> pd.DataFrame:
        return _pandas.DataFrame_map(df, *call_args, **call_kwargs)

    if (not callable(func) or na_action not in (None, "ignore") or df.empty
            or not all(_maps_per_element(dtype) for dtype in df.dtypes)):
        return pandas_map()
    plan = plan_call("elements", df.shape[0], options, work_units=df.size)
    if plan.direct:
        return pandas_map()
    if kwargs:
        func = functools.partial(func, **kwargs)
    source = _pandas.frame_elements_as_mapped(df)

    def make_payload(span: ChunkSpan) -> tuple:
        return (source.iloc[span.start:span.stop], func, na_action, span)

    chunk_results = execute(record_frame_map_chunk, make_payload, plan, options, df.shape[0],
                            nbytes=nbytes(source))
    # pandas maps column after column: put each column's results together, in row order
    results = [r for j in range(df.shape[1]) for chunk in chunk_results for r in chunk[j]]
    return replay(_pandas.DataFrame_map, df, results, na_action=na_action)


def _run_series(s: pd.Series, func: Callable[..., Any], plan: Plan, options: Options,
                method: str, na_action: Any) -> list[Any]:
    source = _pandas.elements_as_mapped(s)

    def make_payload(span: ChunkSpan) -> tuple:
        return (source.iloc[span.start:span.stop], func, method, na_action, span)

    chunk_results = execute(record_series_chunk, make_payload, plan, options, len(s),
                            nbytes=nbytes(source))
    return [r for chunk in chunk_results for r in chunk]


def _recorder(func: Callable[..., Any], results: list[Any], piece: pd.Series, na_action: Any,
              span: ChunkSpan, what: str) -> Callable[[Any], None]:
    """The function pandas calls in a chunk: it runs ``func`` and keeps the result."""

    def record(x: Any) -> None:
        try:
            results.append(func(x))
        except Exception as exc:
            labels = piece.index
            if na_action == "ignore":  # pandas skipped the missing values
                labels = labels[~np.asarray(piece.isna())]
            add_label_note(exc, what, labels[len(results)], span)
            raise

    return record


def record_series_chunk(piece: pd.Series, func: Callable[..., Any], method: str, na_action: Any,
                        span: ChunkSpan) -> list[Any]:
    """Run pandas' ``map`` or ``apply`` on ``piece`` with a recorder; the raw results."""
    results: list[Any] = []
    record = _recorder(func, results, piece, na_action, span, "element")
    if method == "map":
        _pandas.Series_map(piece, record, na_action=na_action)
    else:
        _pandas.Series_apply(piece, record)
    return results


def record_frame_map_chunk(piece: pd.DataFrame, func: Callable[..., Any], na_action: Any,
                           span: ChunkSpan) -> list[list[Any]]:
    """Map every column of ``piece`` as ``DataFrame.map`` does; raw results per column."""
    per_column = []
    for j in range(piece.shape[1]):
        column = piece.iloc[:, j]
        results: list[Any] = []
        what = f"element in column {piece.columns[j]!r} of the row"
        record = _recorder(func, results, column, na_action, span, what)
        _pandas.Series_map(column, record, na_action=na_action)
        per_column.append(results)
    return per_column
