"""``DataFrame.apply`` over rows (axis=1) or columns (axis=0).

Split: positional ranges of rows (axis=1) or columns (axis=0), as views.
Chunk task: pandas' own ``apply`` on the chunk with a recording function, so the user's function
sees exactly the row or column Series pandas would build; it returns the raw per-unit results.
Combine: pandas' own assembly of every unit's result for the whole input
(:func:`pdpar._pandas.wrap_frame_results`; for ``result_type="broadcast"``,
:func:`pdpar._pandas.wrap_broadcast_results`). ``raw=True`` is its own kind (:mod:`.raw`).

Calls that have nothing to parallelise (string, list, dict and ufunc functions, empty inputs,
other engines) go to pandas directly.

Over rows, a function whose code proves that it only reads fields of its row gets a light row
instead of a Series (:mod:`.cheap`), in every chunk; its chunks then run faster than pandas'
own ``apply``, so what the automatic backend leaves to the caller runs there as chunks too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_list_like

from .. import _pandas
from ..broadcast import Shared
from ..compiled import declined as jit_declined
from ..compiled.rows import named_rows
from ..errors import ChunkSpan, labelled
from ..options import Options
from ..plan import rows_chosen
from .base import Call, nbytes, share_indexes
from .cheap import CHEAP, Fields, cheap_frame_chunk, fields_of

__all__ = ["FrameApply", "record_frame_chunk"]


class FrameApply(Call):
    """``df.apply(func, axis=...)``: the function on each row or column Series."""

    def __init__(self, df: pd.DataFrame, arguments: dict[str, Any], call_args: tuple,
                 call_kwargs: dict[str, Any], rows: str = "auto") -> None:
        self.df = df
        self.rows = rows
        self.fields: Fields | None = None
        self.call_args = call_args
        self.call_kwargs = call_kwargs
        self.func = self.then = arguments["func"]
        self.raw = arguments["raw"]
        self.result_type = arguments["result_type"]
        self.args = arguments["args"]
        self.kwargs = arguments["kwargs"]
        self.more_arguments = bool(self.args or self.kwargs)
        self.arguments = arguments
        self.broadcast = self.result_type == "broadcast"
        self.op: Any = None
        self.axis = 1 if arguments["axis"] in (1, "columns") else 0
        self.unit = "rows" if self.axis == 1 else "columns"
        self.labels = df.index if self.axis == 1 else df.columns
        self.n_units = len(self.labels)

    def declines(self) -> str | None:
        func = self.func
        arguments = self.arguments
        if arguments.get("engine") not in (None, "python") \
                or arguments.get("engine_kwargs") is not None:
            return "another execution engine was named"
        if isinstance(func, str) or is_list_like(func) or not callable(func):
            return "string, list and dict functions go to pandas directly"
        if isinstance(func, np.ufunc):
            return "ufuncs go to pandas directly (pandas applies them to the whole frame)"
        if self.op is None:  # validates axis and result_type as pandas does
            self.op = _pandas.frame_apply_op(self.df, func, arguments["axis"], self.raw,
                                             self.result_type, arguments.get("by_row", "compat"),
                                             self.args, self.kwargs)
        if not all(self.df.shape):
            return "empty input"
        if self.broadcast and not self.labels.is_unique:
            return "pandas broadcasts by label, and the labels repeat"
        if self.axis == 1 and not self.broadcast and not self.raw:
            self._choose_rows()
        return None

    def _choose_rows(self) -> None:
        """Cheap rows for this call, when the function is proven to only read fields; the
        plan says which, or why not."""
        if self.rows == "series":
            rows_chosen("rows='series' was asked for")
            return
        fields = fields_of(self.df, self.func)
        if isinstance(fields, str):
            rows_chosen(fields)
            return
        self.fields = fields
        self.in_caller = True
        rows_chosen(CHEAP)

    def plain(self) -> Any:
        return _pandas.DataFrame_apply(self.df, *self.call_args, **self.call_kwargs)

    def finish(self, standin: Any) -> Any:
        return _pandas.DataFrame_apply(self.df, standin, axis=self.axis, raw=self.raw,
                                       result_type=self.result_type, args=self.args,
                                       **self.kwargs)

    def compiled(self, options: Options) -> Any:
        if self.raw or self.broadcast:
            return None
        if self.axis != 1:
            jit_declined(options, "jit compiles functions of rows (axis=1) or of raw columns "
                         "(raw=True); axis=0 passes each column as a Series")
            return None
        return named_rows(self.df, self.func, self.result_type, self.args, self.kwargs,
                          options)

    def task(self) -> Any:
        return record_frame_chunk if self.fields is None else cheap_frame_chunk

    def payload(self, span: ChunkSpan) -> tuple:
        start, stop = span.start, span.stop
        piece = self.df.iloc[start:stop] if self.axis == 1 else self.df.iloc[:, start:stop]
        return (piece, self.labels[start:stop], span)

    def shared(self) -> tuple:
        if self.fields is not None:
            return (self.func, self.fields, self.args, self.kwargs)
        return (self.func, self.axis, self.broadcast, self.args, self.kwargs)

    def nbytes(self) -> int:
        return nbytes(self.df)

    def recorded(self, chunks: list[Any]) -> list[Any]:
        """The per-unit results, with stacked Series made Series again (a chunk's Series
        results travel as its one :class:`~pdpar._pandas.StackedRows`)."""
        out: list[Any] = []
        for chunk in chunks:
            if len(chunk) == 1 and isinstance(chunk[0], _pandas.StackedRows):
                out.extend(chunk[0].series())
            else:
                out.extend(chunk)
        return out

    def combine(self, chunks: list[Any]) -> Any:
        results = self.recorded(chunks)
        if self.broadcast:
            return _pandas.wrap_broadcast_results(self.op, results)
        return _pandas.wrap_frame_results(self.op, results)


def record_frame_chunk(piece: pd.DataFrame, labels: pd.Index, span: ChunkSpan,
                       shared: Shared) -> list[Any]:
    """Run the function on each row or column of ``piece`` as pandas would; the raw results.

    ``shared.value`` is the function, the axis, whether the call broadcasts, and the
    function's ``args`` and keyword arguments."""
    func, axis, broadcast, args, kwargs = shared.value
    results: list[Any] = []

    def record(unit: Any) -> Any:
        result = func(unit, *args, **kwargs)
        if isinstance(result, pd.Series):
            # pandas reuses one row object; keep this result from following it
            result = result.copy(deep=False)
        results.append(result)
        # a placeholder that pandas accepts for any result_type, and that costs nothing
        return 0 if broadcast else None

    with labelled("row" if axis == 1 else "column", span, lambda: labels[len(results)]):
        _pandas.DataFrame_apply(piece, record, axis=axis,
                                result_type="broadcast" if broadcast else None)
    return _pandas.stack_series_results(share_indexes(results))
