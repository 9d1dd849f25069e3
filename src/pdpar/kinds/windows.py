"""``rolling(...).apply`` and ``expanding(...).apply``, and their groupby forms.

Split: positional chunks of the output windows (for a groupby, of whole groups, balanced by
rows). pandas' window indexer gives each window's first and last row
(:func:`pdpar._pandas.window_input`), so a chunk carries exactly the rows its windows read: the
``window - 1`` rows before it for a fixed window, the rows within the offset for a time window,
those after it too with ``center``. When windows are long against the input (``expanding``, or
a window longer than a sixteenth of the rows), chunks would carry most of the input again and
again: then the input goes to the workers once per call, with the function, and chunks carry
only positions.
Chunk task: pandas' own loop (``roll_apply``) over the chunk's windows only, column by column,
so that each window is computed once, the function sees what pandas passes it (a Series with
its index, or an ndarray with ``raw=True``), and ``min_periods`` is pandas' own.
Combine: the outputs, column by column, through pandas' own assembly
(:func:`pdpar._pandas.assemble_windows`).

``method="table"``, another engine (``engine="numba"``), string functions and inputs pandas
rejects go to pandas as they are.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd

from .. import _pandas
from ..broadcast import Shared
from ..compiled import declined as jit_declined
from ..compiled import windows as compiled
from ..errors import ChunkSpan, labelled
from ..options import Options
from ..plan import Plan
from ..work import Unfinished
from .base import Call

__all__ = ["WindowsApply", "run_windows_chunk"]

#: Windows longer than this share of the rows send the input once per call, not per chunk.
SHARE_WHOLE_INPUT = 1 / 16


class WindowsApply(Call):
    """``window.apply(func, raw=..., engine=..., engine_kwargs=..., args=..., kwargs=...)``
    for a pandas rolling or expanding window (grouped or not)."""

    def __init__(self, window: Any, arguments: dict[str, Any], call_args: tuple,
                 call_kwargs: dict[str, Any]) -> None:
        self.window = window
        self.call_args = call_args
        self.call_kwargs = call_kwargs
        self.func = arguments["func"]
        self.raw = arguments["raw"]
        self.engine = arguments["engine"]
        self.engine_kwargs = arguments["engine_kwargs"]
        self.args = () if arguments["args"] is None else arguments["args"]
        self.kwargs = {} if arguments["kwargs"] is None else arguments["kwargs"]
        self.grouped = _pandas.is_grouped_window(window)
        self.unit = "groups" if self.grouped else "windows"
        self.n_units = _pandas.window_count(window)  # until the input is read (declines)
        self.data: _pandas.WindowInput | None = None
        self.edges: np.ndarray | None = None
        self.whole = False

    def declines(self) -> str | None:
        if self.engine == "numba":
            return "engine='numba': pandas compiles the function itself"
        if self.engine not in (None, "cython") or self.engine_kwargs is not None:
            return "invalid engine arguments: pandas raises"
        if not isinstance(self.raw, (bool, np.bool_)):
            return "raw must be True or False: pandas raises"
        if isinstance(self.func, str) or not callable(self.func):
            return "string functions go to pandas directly"
        if not isinstance(self.args, tuple) or not isinstance(self.kwargs, dict):
            return "args must be a tuple and kwargs a dict: pandas raises"
        data = _pandas.window_input(self.window)
        if isinstance(data, str):
            return data
        self.data = data
        if data.group_sizes is not None:
            self.edges = np.concatenate(([0], np.cumsum(data.group_sizes)))
            self.n_units = len(data.group_sizes)
        else:
            self.n_units = len(data.start)
        if self.n_units == 0:
            return "no windows"
        rows = len(data.columns[0])
        longest = int(np.max(data.end - data.start)) if len(data.start) else 0
        self.whole = longest > rows * SHARE_WHOLE_INPUT
        return None

    def plain(self) -> Any:
        return _pandas.Window_apply(self.window, *self.call_args, **self.call_kwargs)

    def compiled(self, options: Options) -> Any:
        if not self.raw:
            jit_declined(options, "jit compiles window functions of ndarrays (raw=True); "
                         "raw=False passes each window as a Series")
            return None
        if options.jit != True:  # noqa: E712  ("auto": a disagreement would run a window twice)
            jit_declined(options, "jit='auto' leaves window functions to Python; jit=True "
                         "compiles them")
            return None
        assert self.data is not None
        return compiled.apply_windows(self.window, self.data, self.func, self.args,
                                      self.kwargs, "windows", options)

    def task(self) -> Any:
        return run_windows_chunk

    def _windows(self, span: ChunkSpan) -> tuple[int, int]:
        if self.edges is None:
            return span.start, span.stop
        return int(self.edges[span.start]), int(self.edges[span.stop])

    def payload(self, span: ChunkSpan) -> tuple:
        data = self.data
        assert data is not None
        w0, w1 = self._windows(span)
        starts, ends = data.start[w0:w1], data.end[w0:w1]
        lo = int(starts.min()) if len(starts) else 0
        hi = max(int(ends.max()) if len(ends) else 0, lo)
        if hi == lo:  # empty windows only: pandas' loop still needs a row to run at all
            lo, hi = (lo, lo + 1) if lo < len(data.columns[0]) else (lo - 1, lo)
        piece = None if self.whole else \
            ([c[lo:hi] for c in data.columns], None if self.raw else data.on[lo:hi])
        keys = None
        if self.edges is not None and data.group_keys is not None:
            keys = (data.group_keys[span.start:span.stop],
                    self.edges[span.start:span.stop + 1] - w0)
        return (piece, lo, hi, starts - lo, ends - lo, data.rows[w0:w1], keys, span)

    def shared(self) -> tuple:
        data = self.data
        assert data is not None
        whole = (data.columns, None if self.raw else data.on) if self.whole else None
        return (self.func, bool(self.raw), self.args, self.kwargs, data.min_periods,
                data.names, whole)

    def nbytes(self) -> int:
        assert self.data is not None
        return sum(c.nbytes for c in self.data.columns)

    def weights(self) -> np.ndarray | None:
        return None if self.data is None else self.data.group_sizes

    def execute(self, plan: Plan, options: Options) -> list[Any] | Unfinished:
        chunks = super().execute(plan, options)
        if not isinstance(chunks, Unfinished):
            return chunks
        # the call stays in the caller: pandas' loop runs the windows left, here
        try:
            done = self.n_units - chunks.remaining
            results = list(chunks.results)
            if done < self.n_units:
                span = ChunkSpan(len(results), None, self.unit, done, self.n_units)
                results.append(self.task()(*self.payload(span), Shared(self.shared())))
            if chunks.progress is not None:
                chunks.progress.update(chunks.remaining)
        finally:
            if chunks.progress is not None:
                chunks.progress.close()
        return results

    def combine(self, chunks: list[Any]) -> Any:
        outputs = [np.concatenate([chunk[j] for chunk in chunks])
                   for j in range(len(chunks[0]))]
        assert self.data is not None
        return _pandas.assemble_windows(self.window, outputs, self.data)


class _Counted:
    """The function, counting its calls (to name the window that raised)."""

    __slots__ = ("func", "calls")

    def __init__(self, func: Any) -> None:
        self.func = func
        self.calls = 0

    def __call__(self, x: Any, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.func(x, *args, **kwargs)


def run_windows_chunk(piece: tuple | None, lo: int, hi: int, starts: np.ndarray,
                      ends: np.ndarray, rows: pd.Index, keys: tuple | None, span: ChunkSpan,
                      shared: Shared) -> list[np.ndarray]:
    """pandas' loop over the windows ``starts``/``ends`` (relative to row ``lo``) of each
    column; each column's outputs.

    ``piece`` holds the rows ``lo`` to ``hi`` of each column (and of the index the function's
    Series get), or is None when they are in ``shared``. ``rows`` label the windows and
    ``keys`` (a groupby's) give each group's key and first window, for messages."""
    func, raw, args, kwargs, min_periods, names, whole = shared.value
    if piece is None:
        columns, on = whole
        columns = [c[lo:hi] for c in columns]
        on = None if on is None else on[lo:hi]
    else:
        columns, on = piece
    outputs = []
    for values, name in zip(columns, names):
        counted = _Counted(func)

        def label(values: np.ndarray = values, counted: _Counted = counted) -> Hashable:
            i = int(_pandas.called_windows(values, starts, ends, min_periods)[counted.calls - 1])
            if keys is None:
                return rows[i]
            group = int(np.searchsorted(keys[1], i, side="right")) - 1
            return (keys[0][group], rows[i])

        what = "window at the row" if name is None else f"window of column {name!r} at the row"
        with labelled(what, span, label):
            outputs.append(_pandas.apply_windows(values, on, starts, ends, min_periods, counted,
                                                 raw, args, kwargs))
    return outputs
