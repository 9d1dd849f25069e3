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
from ..plan import Plan
from ..plan.policy import plan_call
from . import Probed, call_with, compiled, direct, execute, nbytes, replay

__all__ = ["map_series", "apply_series", "map_frame"]


def _maps_per_element(dtype: Any) -> bool:
    return not isinstance(dtype, (pd.CategoricalDtype, pd.SparseDtype))


def _to_pandas(func: Any, engine: Any = None) -> str | None:
    """Why a call with this function goes to pandas as it is, or None."""
    if isinstance(func, str):
        return "string functions go to pandas directly"
    if not callable(func) or is_list_like(func):
        return "dict, Series and list mappings go to pandas directly"
    if isinstance(func, np.ufunc):
        return "ufuncs go to pandas directly (pandas applies them to the whole array)"
    if engine is not None:
        return "another execution engine was named"
    return None


def _per_element(dtypes: Any) -> str | None:
    if any(not _maps_per_element(dtype) for dtype in dtypes):
        return "categorical and sparse data map their categories or stored values, not elements"
    return None


def map_series(s: pd.Series, arguments: dict[str, Any], call_args: tuple,
               call_kwargs: dict[str, Any], options: Options) -> pd.Series:
    """``s.map(*call_args, **call_kwargs)``."""
    func: Any = arguments.get("func", arguments.get("arg"))
    na_action = arguments.get("na_action")
    kwargs = arguments.get("kwargs", {})

    def pandas_map() -> pd.Series:
        return _pandas.Series_map(s, *call_args, **call_kwargs)

    reason = (_to_pandas(func, arguments.get("engine"))
              or ("invalid arguments: pandas raises" if "arg" in kwargs
                  or na_action not in (None, "ignore") else None)
              or ("empty input" if len(s) == 0 else None)
              or _per_element([s.dtype]))
    if reason:
        return direct("elements", len(s), reason, pandas_map)

    def call(f: Any) -> pd.Series:
        return _pandas.Series_map(s, f, na_action=na_action)

    if options.jit:
        outcome = compiled.map_series(s, func, na_action, (), kwargs, "map", options)
        if isinstance(outcome, compiled.Mismatch):  # pandas finishes, after the first
            return replay(call, outcome.results,
                          then=functools.partial(func, **kwargs) if kwargs else func)
        if outcome is not None:
            return outcome
    plan = plan_call("elements", len(s), options)
    if plan.direct:
        return direct("elements", len(s), plan.reason, pandas_map)
    if kwargs:
        func = functools.partial(func, **kwargs)
    results = _run_series(s, func, plan, options, "map", na_action)

    if isinstance(results, Probed):
        return replay(call, _flat(results.chunks), then=func, probed=results)
    return replay(call, results)


def apply_series(s: pd.Series, arguments: dict[str, Any], call_args: tuple,
                 call_kwargs: dict[str, Any], options: Options) -> pd.Series | pd.DataFrame:
    """``s.apply(*call_args, **call_kwargs)``."""
    func = arguments["func"]
    args = arguments.get("args", ())
    kwargs = arguments.get("kwargs", {})
    by_row = arguments.get("by_row", "compat")

    def pandas_apply() -> pd.Series | pd.DataFrame:
        return _pandas.Series_apply(s, *call_args, **call_kwargs)

    reason = (_to_pandas(func)
              or ("by_row=False applies the function to the whole Series"
                  if by_row != "compat" else None)
              or ("convert_dtype given: pandas decides" if _pandas.given(
                  arguments.get("convert_dtype")) else None)
              or ("empty input" if len(s) == 0 else None)
              or _per_element([s.dtype]))
    if reason:
        return direct("elements", len(s), reason, pandas_apply)
    if options.jit:
        outcome = compiled.map_series(s, func, None, args, kwargs, "apply", options)
        if isinstance(outcome, compiled.Mismatch):  # pandas finishes, after the first
            return replay(lambda standin: _pandas.Series_apply(s, standin, args=args, **kwargs),
                          outcome.results, then=func, more_arguments=bool(args or kwargs))
        if outcome is not None:
            return outcome
    plan = plan_call("elements", len(s), options)
    if plan.direct:
        return direct("elements", len(s), plan.reason, pandas_apply)
    f = functools.partial(call_with, func, args, kwargs) if (args or kwargs) else func
    results = _run_series(s, f, plan, options, "apply", None)
    if isinstance(results, Probed):
        return replay(lambda standin: _pandas.Series_apply(s, standin, args=args, **kwargs),
                      _flat(results.chunks), then=func, more_arguments=bool(args or kwargs),
                      probed=results)
    return replay(lambda standin: _pandas.Series_apply(s, standin), results)


def map_frame(df: pd.DataFrame, arguments: dict[str, Any], call_args: tuple,
              call_kwargs: dict[str, Any], options: Options) -> pd.DataFrame:
    """``df.map(*call_args, **call_kwargs)``.

    The units are the frame's elements in the order pandas calls the function on them:
    column after column, each from top to bottom. A chunk is a run of them, which may cross
    from one column into the next.
    """
    func = arguments["func"]
    na_action = arguments.get("na_action")
    kwargs = arguments.get("kwargs", {})

    def pandas_map() -> pd.DataFrame:
        return _pandas.DataFrame_map(df, *call_args, **call_kwargs)

    reason = (("a callable is needed: pandas raises" if not callable(func) else None)
              or ("invalid na_action: pandas raises"
                  if na_action not in (None, "ignore") else None)
              or ("empty input" if df.empty else None)
              or _per_element(df.dtypes))
    if reason:
        return direct("elements", df.size, reason, pandas_map)

    def call(f: Any) -> pd.DataFrame:
        return _pandas.DataFrame_map(df, f, na_action=na_action)

    if options.jit:
        if kwargs:
            compiled.declined(options, "jit passes no keyword arguments to the function")
            outcome = None
        else:
            outcome = compiled.map_frame(df, func, na_action, options)
        if kwargs:
            func = functools.partial(func, **kwargs)
        if isinstance(outcome, compiled.Mismatch):  # pandas finishes, after the first
            return replay(call, outcome.results, then=func)
        if outcome is not None:
            return outcome
    plan = plan_call("elements", df.size, options)
    if plan.direct:
        return direct("elements", df.size, plan.reason, pandas_map)
    if kwargs:
        func = functools.partial(func, **kwargs)
    source = _pandas.frame_elements_as_mapped(df)
    n_rows = df.shape[0]

    def make_payload(span: ChunkSpan) -> tuple:
        pieces = []
        for j in range(span.start // n_rows, (span.stop - 1) // n_rows + 1):
            start = max(span.start - j * n_rows, 0)
            stop = min(span.stop - j * n_rows, n_rows)
            pieces.append(source.iloc[start:stop, j])
        return (pieces, func, na_action, span)

    results = execute(record_frame_map_chunk, make_payload, plan, options, df.size,
                      nbytes=nbytes(source))

    if isinstance(results, Probed):
        return replay(call, _flat(results.chunks), then=func, probed=results)
    return replay(call, _flat(results))


def _flat(chunk_results: list[list[Any]]) -> list[Any]:
    return [r for chunk in chunk_results for r in chunk]


def _run_series(s: pd.Series, func: Callable[..., Any], plan: Plan, options: Options,
                method: str, na_action: Any) -> list[Any] | Probed:
    source = _pandas.elements_as_mapped(s)

    def make_payload(span: ChunkSpan) -> tuple:
        return (source.iloc[span.start:span.stop], func, method, na_action, span)

    results = execute(record_series_chunk, make_payload, plan, options, len(s),
                      nbytes=nbytes(source))
    return results if isinstance(results, Probed) else _flat(results)


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


def record_frame_map_chunk(pieces: list[pd.Series], func: Callable[..., Any], na_action: Any,
                           span: ChunkSpan) -> list[Any]:
    """Map each column piece as ``DataFrame.map`` does; the raw results, in call order."""
    results: list[Any] = []
    for column in pieces:
        what = f"element in column {column.name!r} of the row"
        column_results: list[Any] = []
        record = _recorder(func, column_results, column, na_action, span, what)
        _pandas.Series_map(column, record, na_action=na_action)
        results.extend(column_results)
    return results
