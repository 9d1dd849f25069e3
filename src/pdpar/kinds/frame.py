"""``DataFrame.apply`` over rows (axis=1) or columns (axis=0).

Split: positional ranges of rows (axis=1) or columns (axis=0), as views.
Chunk task: pandas' own ``apply`` on the chunk with a recording function, so the user's function
sees exactly the row or column Series pandas would build; it returns the raw per-unit results.
Combine: pandas' own assembly of ``{position: result}`` for the whole input
(:func:`pdpar._pandas.wrap_frame_results`). ``raw=True`` and ``result_type="broadcast"`` are
combined by replaying pandas' own ``apply`` on the whole input with the recorded results.

Calls that have nothing to parallelise (string, list, dict and ufunc functions, empty inputs,
other engines) go to pandas directly.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_list_like

from .. import _pandas
from ..errors import ChunkSpan, add_label_note
from ..options import Options
from ..plan import Plan, decided
from ..plan.policy import plan_call
from . import Probed, compiled, direct, execute, nbytes, replay, share_indexes

__all__ = ["apply_frame"]


def apply_frame(df: pd.DataFrame, arguments: dict[str, Any], call_args: tuple,
                call_kwargs: dict[str, Any], options: Options) -> pd.DataFrame | pd.Series:
    """``df.apply(*call_args, **call_kwargs)``; ``arguments`` is their binding to its signature."""
    func = arguments["func"]
    raw = arguments["raw"]
    result_type = arguments["result_type"]
    args = arguments["args"]
    kwargs = arguments["kwargs"]
    engine = arguments.get("engine")

    def pandas_apply() -> Any:
        return _pandas.DataFrame_apply(df, *call_args, **call_kwargs)

    if engine not in (None, "python") or arguments.get("engine_kwargs") is not None:
        return direct("rows", len(df), "another execution engine was named", pandas_apply)
    if isinstance(func, str) or is_list_like(func) or not callable(func):
        return direct("rows", len(df), "string, list and dict functions go to pandas directly",
                      pandas_apply)
    if isinstance(func, np.ufunc):
        return direct("rows", len(df), "ufuncs go to pandas directly (pandas applies them to "
                      "the whole frame)", pandas_apply)
    op = _pandas.frame_apply_op(df, func, arguments["axis"], raw, result_type,
                                arguments.get("by_row", "compat"), args, kwargs)
    axis = int(op.axis)
    broadcast = result_type == "broadcast"
    kind = "rows" if axis == 1 else "columns"
    labels = df.index if axis == 1 else df.columns
    if not all(df.shape):
        return direct(kind, len(labels), "empty input", pandas_apply)
    if broadcast and not labels.is_unique:
        return direct(kind, len(labels), "pandas broadcasts by label, and the labels repeat",
                      pandas_apply)

    def call(standin: Any) -> Any:
        return _pandas.DataFrame_apply(df, standin, axis=axis, raw=raw,
                                       result_type=result_type, args=args, **kwargs)

    if options.jit and not raw and not broadcast:
        outcome = _compiled_rows(df, func, axis, result_type, args, kwargs, options)
        if isinstance(outcome, compiled.Mismatch):  # pandas finishes, from the second row
            return replay(call, outcome.results, then=func,
                          more_arguments=bool(args or kwargs))
        if outcome is not None:
            return outcome
    plan = plan_call(kind, len(labels), options)
    if raw and not broadcast and (options.jit or not plan.direct):
        # broadcast always passes Series, even with raw=True
        return _apply_raw(df, op, func, axis, args, kwargs, plan, options, call)
    if plan.direct:
        return direct(kind, len(labels), plan.reason, pandas_apply)

    def make_payload(span: ChunkSpan) -> tuple:
        start, stop = span.start, span.stop
        piece = df.iloc[start:stop] if axis == 1 else df.iloc[:, start:stop]
        return (piece, labels[start:stop], func, axis, broadcast, args, kwargs, span)

    chunk_results = execute(record_frame_chunk, make_payload, plan, options, len(labels),
                            nbytes=nbytes(df))
    if isinstance(chunk_results, Probed):
        return replay(call, _unstacked(chunk_results.chunks), then=func,
                      more_arguments=bool(args or kwargs), probed=chunk_results)
    results = _unstacked(chunk_results)
    if broadcast:
        return replay(call, results)
    return _pandas.wrap_frame_results(op, dict(enumerate(results)))


def _compiled_rows(df: pd.DataFrame, func: Any, axis: int, result_type: Any, args: tuple,
                   kwargs: dict[str, Any], options: Options) -> Any:
    if axis != 1:
        compiled.declined(options, "jit compiles functions of rows (axis=1) or of raw columns "
                          "(raw=True); axis=0 passes each column as a Series")
        return None
    return compiled.named_rows(df, func, result_type, args, kwargs, options)


def _unstacked(chunk_results: list[list[Any]]) -> list[Any]:
    """The per-unit results of the chunks, in order, with stacked Series made Series again
    (a chunk's Series results travel as its one :class:`~pdpar._pandas.StackedRows`)."""
    out: list[Any] = []
    for chunk in chunk_results:
        if len(chunk) == 1 and isinstance(chunk[0], _pandas.StackedRows):
            out.extend(chunk[0].series())
        else:
            out.extend(chunk)
    return out


def _apply_raw(df: pd.DataFrame, op: Any, func: Any, axis: int, args: tuple,
               kwargs: dict[str, Any], plan: Plan, options: Options,
               call: Any) -> pd.DataFrame | pd.Series:
    """``df.apply(func, axis=axis, raw=True)``: rows or columns of the frame's array.

    pandas hands the array to ``np.apply_along_axis``, which makes the result an array of the
    dtype and shape of the first unit's result and stores every later result into it (with
    numpy's casting). So the first unit runs here, first; each chunk then fills an array of
    that dtype and shape for its own units, exactly as numpy's loop would, and the chunks'
    arrays are joined. Results that are not plain arrays or scalars (an ndarray subclass
    would make numpy wrap the whole array) are combined by replaying pandas' apply instead.
    """
    values = df.values  # chunks get slices of the whole frame's array, as numpy iterates it
    labels = df.index if axis == 1 else df.columns
    n = len(labels)

    def piece_of(start: int, stop: int) -> np.ndarray:
        return values[start:stop] if axis == 1 else values[:, start:stop]

    head = fill_raw_chunk(piece_of(0, 1), labels[:1], func, axis, args, kwargs,
                          ChunkSpan(0, None, plan.kind, 0, 1), None)
    first = np.asanyarray(_pandas.raw_result(head[0]))
    filled = type(first) is np.ndarray
    template = (first.dtype, first.shape) if filled else None
    if options.jit and n > 1:
        if filled:
            full = compiled.raw_rows(values if axis == 1 else values.T, first, func, args,
                                     kwargs, plan.kind, labels, options)
        else:
            compiled.declined(options, "the function returns something other than numbers "
                              "or arrays of numbers")
            full = None
        if full is not None:
            if axis == 0 and first.ndim:
                full = np.moveaxis(full, 0, -1)
            return _pandas.wrap_raw_results(op, full)
    rest = plan_call(plan.kind, n - 1, options) if n > 1 else None
    if rest is not None and rest.direct:  # too few units left for a pool
        decided(dataclasses.replace(rest, n_units=n, probed=1))
        return replay(call, head, then=func, more_arguments=bool(args or kwargs))

    def make_payload(span: ChunkSpan) -> tuple:
        start, stop = span.start + 1, span.stop + 1  # the units after the first
        return (piece_of(start, stop), labels[start:stop], func, axis, args, kwargs,
                ChunkSpan(span.index + 1, span.count and span.count + 1, span.unit, start,
                          stop), template)

    chunks = execute(fill_raw_chunk, make_payload, rest, options, n - 1,
                     nbytes=int(values.nbytes)) if rest is not None else []
    if isinstance(chunks, Probed):  # finish as pandas would, after the units that ran
        return replay(call, head + [r for chunk in chunks.chunks for r in chunk], then=func,
                      more_arguments=bool(args or kwargs), probed=chunks)
    if not filled:
        return replay(call, head + [r for chunk in chunks for r in chunk])
    result = np.concatenate([first[np.newaxis], *chunks])
    if axis == 0 and first.ndim:
        # numpy moves the result's own axes in front of the iterated one
        result = np.moveaxis(result, 0, -1)
    return _pandas.wrap_raw_results(op, result)


def fill_raw_chunk(piece: np.ndarray, labels: pd.Index, func: Any, axis: int, args: tuple,
                   kwargs: dict, span: ChunkSpan,
                   template: tuple[np.dtype, tuple[int, ...]] | None) -> Any:
    """Run ``func`` on each row or column of the array ``piece``, as ``np.apply_along_axis``
    calls it.

    With a ``template`` (dtype, shape), store each result into a fresh array of that dtype
    and shape per unit, as ``np.apply_along_axis`` stores the results after the first;
    without one, the raw results, in a list.
    """
    units = piece if axis == 1 else piece.T
    out: Any = [] if template is None else np.zeros((len(units), *template[1]), template[0])
    for j in range(len(units)):
        try:
            result = func(units[j], *args, **kwargs)
        except Exception as exc:
            add_label_note(exc, "row" if axis == 1 else "column", labels[j], span)
            raise
        if template is None:
            out.append(result)
        else:
            out[j, ...] = np.asanyarray(_pandas.raw_result(result))  # as numpy stores it
    return out


def record_frame_chunk(piece: pd.DataFrame, labels: pd.Index, func: Any, axis: int,
                       broadcast: bool, args: tuple, kwargs: dict, span: ChunkSpan) -> list[Any]:
    """Run ``func`` on each row or column of ``piece`` as pandas would; the raw results."""
    results: list[Any] = []
    what = "row" if axis == 1 else "column"

    def record(unit: Any) -> Any:
        try:
            result = func(unit, *args, **kwargs)
        except Exception as exc:
            add_label_note(exc, what, labels[len(results)], span)
            raise
        if isinstance(result, pd.Series):
            # pandas reuses one row object; keep this result from following it
            result = result.copy(deep=False)
        results.append(result)
        # a placeholder that pandas accepts for any result_type, and that costs nothing
        return 0 if broadcast else None

    _pandas.DataFrame_apply(piece, record, axis=axis,
                            result_type="broadcast" if broadcast else None)
    return _pandas.stack_series_results(share_indexes(results))
