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

from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_list_like

from .. import _pandas
from ..errors import ChunkSpan, add_label_note
from ..options import Options
from ..planner import plan_call
from . import execute, nbytes, replay, share_indexes

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
        return pandas_apply()
    if not callable(func) or is_list_like(func) or isinstance(func, np.ufunc):
        return pandas_apply()
    op = _pandas.frame_apply_op(df, func, arguments["axis"], raw, result_type,
                                arguments.get("by_row", "compat"), args, kwargs)
    axis = int(op.axis)
    broadcast = result_type == "broadcast"
    if not all(df.shape):
        return pandas_apply()
    labels = df.index if axis == 1 else df.columns
    if broadcast and not labels.is_unique:
        # pandas broadcasts by selecting each row or column by label
        return pandas_apply()

    kind = "rows" if axis == 1 else "columns"
    plan = plan_call(kind, len(labels), options)
    if plan.direct:
        return pandas_apply()

    raw_values = raw and not broadcast  # broadcast always passes Series, even with raw=True
    # raw functions get slices of the whole frame's array: a chunk's own ``.values`` could
    # have another dtype when it holds only some of the columns
    values = df.values if raw_values else None

    def make_payload(span: ChunkSpan) -> tuple:
        start, stop = span.start, span.stop
        if values is not None:
            piece = values[start:stop] if axis == 1 else values[:, start:stop]
        else:
            piece = df.iloc[start:stop] if axis == 1 else df.iloc[:, start:stop]
        return (piece, labels[start:stop], func, axis, raw_values, broadcast, args, kwargs,
                span)

    size = int(values.nbytes) if values is not None else nbytes(df)
    chunk_results = execute(record_frame_chunk, make_payload, plan, options, len(labels),
                            nbytes=size)
    results = [r for chunk in chunk_results for r in chunk]

    if raw_values or broadcast:
        return replay(_pandas.DataFrame_apply, df, results, axis=axis, raw=raw,
                      result_type=result_type)
    return _pandas.wrap_frame_results(op, dict(enumerate(results)))


def record_frame_chunk(piece: Any, labels: pd.Index, func: Any, axis: int, raw: bool,
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

    if raw:
        np.apply_along_axis(record, axis, piece)
    else:
        _pandas.DataFrame_apply(piece, record, axis=axis,
                                result_type="broadcast" if broadcast else None)
    return share_indexes(results)
