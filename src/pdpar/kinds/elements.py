"""Element-wise calls: ``Series.map``, ``Series.apply`` and ``DataFrame.map``.

Split: positional ranges of rows, as views (for a DataFrame, the elements in the order pandas
calls the function on them: column after column, each from top to bottom; a chunk may cross
from one column into the next).
Chunk task: pandas' own ``map``/``apply`` on the chunk (column by column for a DataFrame) with a
recording function; it returns the raw results in the order pandas called the function.
Combine: replay pandas' own method on the whole input with the recorded results
(:func:`.replay.replay`), so pandas infers the result's dtype from every element at once,
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
from ..broadcast import Shared
from ..compiled import declined as jit_declined
from ..compiled import elements as compiled
from ..errors import ChunkSpan, labelled
from ..options import Options
from .base import Call, call_with, nbytes
from .replay import replay

__all__ = ["SeriesMap", "SeriesApply", "FrameMap", "record_series_chunk",
           "record_frame_map_chunk"]


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
    if any(isinstance(dtype, (pd.CategoricalDtype, pd.SparseDtype)) for dtype in dtypes):
        return "categorical and sparse data map their categories or stored values, not elements"
    return None


class _SeriesCall(Call):
    """A call over the elements of a Series, chunk by chunk (see :func:`record_series_chunk`)."""

    unit = "elements"
    method = "map"
    func: Any

    def __init__(self, s: pd.Series, call_args: tuple, call_kwargs: dict[str, Any]) -> None:
        self.s = s
        self.n_units = len(s)
        self.call_args = call_args
        self.call_kwargs = call_kwargs
        self.na_action: Any = None

    @property
    def chunk_func(self) -> Callable[..., Any]:
        """The function each chunk calls on an element."""
        raise NotImplementedError

    def task(self) -> Any:
        return record_series_chunk

    def prepare(self) -> None:
        self.source = _pandas.elements_as_mapped(self.s)

    def payload(self, span: ChunkSpan) -> tuple:
        return (self.source.iloc[span.start:span.stop], span)

    def shared(self) -> tuple:
        return (self.chunk_func, self.method, self.na_action)

    def nbytes(self) -> int:
        return nbytes(self.source)


class SeriesMap(_SeriesCall):
    """``s.map(func, na_action=..., **kwargs)``."""

    def __init__(self, s: pd.Series, arguments: dict[str, Any], call_args: tuple,
                 call_kwargs: dict[str, Any]) -> None:
        super().__init__(s, call_args, call_kwargs)
        func: Any = arguments["func"] if "func" in arguments else arguments.get("arg")
        self.func = func
        self.engine = arguments.get("engine")
        self.na_action = arguments.get("na_action")
        self.kwargs: dict[str, Any] = arguments.get("kwargs", {})

    @property
    def then(self) -> Any:  # type: ignore[override]
        return functools.partial(self.func, **self.kwargs) if self.kwargs else self.func

    @property
    def chunk_func(self) -> Any:
        return self.then

    def declines(self) -> str | None:
        return (_to_pandas(self.func, self.engine)
                or ("invalid arguments: pandas raises" if "arg" in self.kwargs
                    or self.na_action not in (None, "ignore") else None)
                or ("empty input" if len(self.s) == 0 else None)
                or _per_element([self.s.dtype]))

    def plain(self) -> Any:
        return _pandas.Series_map(self.s, *self.call_args, **self.call_kwargs)

    def compiled(self, options: Options) -> Any:
        return compiled.map_series(self.s, self.func, self.na_action, (), self.kwargs, "map",
                                   options)

    def finish(self, standin: Any) -> Any:
        return _pandas.Series_map(self.s, standin, na_action=self.na_action)


class SeriesApply(_SeriesCall):
    """``s.apply(func, args=..., **kwargs)``."""

    method = "apply"

    def __init__(self, s: pd.Series, arguments: dict[str, Any], call_args: tuple,
                 call_kwargs: dict[str, Any]) -> None:
        super().__init__(s, call_args, call_kwargs)
        self.func = self.then = arguments["func"]
        self.args = arguments.get("args", ())
        self.kwargs = arguments.get("kwargs", {})
        self.by_row = arguments.get("by_row", "compat")
        self.convert_dtype = arguments.get("convert_dtype")
        self.more_arguments = bool(self.args or self.kwargs)

    @property
    def chunk_func(self) -> Any:
        if self.more_arguments:
            return functools.partial(call_with, self.func, self.args, self.kwargs)
        return self.func

    def declines(self) -> str | None:
        return (_to_pandas(self.func)
                or ("by_row=False applies the function to the whole Series"
                    if self.by_row != "compat" else None)
                or ("convert_dtype given: pandas decides"
                    if _pandas.given(self.convert_dtype) else None)
                or ("empty input" if len(self.s) == 0 else None)
                or _per_element([self.s.dtype]))

    def plain(self) -> Any:
        return _pandas.Series_apply(self.s, *self.call_args, **self.call_kwargs)

    def compiled(self, options: Options) -> Any:
        return compiled.map_series(self.s, self.func, None, self.args, self.kwargs, "apply",
                                   options)

    def finish(self, standin: Any) -> Any:
        return _pandas.Series_apply(self.s, standin, args=self.args, **self.kwargs)

    def combine(self, chunks: list[Any]) -> Any:
        # the chunks ran the function with its arguments: the stand-in takes the element only
        return replay(lambda standin: _pandas.Series_apply(self.s, standin),
                      self.recorded(chunks))


class FrameMap(Call):
    """``df.map(func, na_action=..., **kwargs)``: the units are the frame's elements in the
    order pandas calls the function on them, column after column."""

    unit = "elements"

    def __init__(self, df: pd.DataFrame, arguments: dict[str, Any], call_args: tuple,
                 call_kwargs: dict[str, Any]) -> None:
        self.df = df
        self.n_units = df.size
        self.call_args = call_args
        self.call_kwargs = call_kwargs
        self.func = arguments["func"]
        self.na_action = arguments.get("na_action")
        self.kwargs = arguments.get("kwargs", {})

    @property
    def then(self) -> Any:  # type: ignore[override]
        return functools.partial(self.func, **self.kwargs) if self.kwargs else self.func

    def declines(self) -> str | None:
        return (("a callable is needed: pandas raises" if not callable(self.func) else None)
                or ("invalid na_action: pandas raises"
                    if self.na_action not in (None, "ignore") else None)
                or ("empty input" if self.df.empty else None)
                or _per_element(self.df.dtypes))

    def plain(self) -> Any:
        return _pandas.DataFrame_map(self.df, *self.call_args, **self.call_kwargs)

    def compiled(self, options: Options) -> Any:
        if self.kwargs:
            jit_declined(options, "jit passes no keyword arguments to the function")
            return None
        return compiled.map_frame(self.df, self.func, self.na_action, options)

    def finish(self, standin: Any) -> Any:
        return _pandas.DataFrame_map(self.df, standin, na_action=self.na_action)

    def prepare(self) -> None:
        self.source = _pandas.frame_elements_as_mapped(self.df)

    def task(self) -> Any:
        return record_frame_map_chunk

    def payload(self, span: ChunkSpan) -> tuple:
        n_rows = self.df.shape[0]
        pieces = []
        for j in range(span.start // n_rows, (span.stop - 1) // n_rows + 1):
            start = max(span.start - j * n_rows, 0)
            stop = min(span.stop - j * n_rows, n_rows)
            pieces.append(self.source.iloc[start:stop, j])
        return (pieces, span)

    def shared(self) -> tuple:
        return (self.then, self.na_action)

    def nbytes(self) -> int:
        return nbytes(self.source)


def _recording(func: Callable[..., Any], piece: pd.Series, na_action: Any, what: str,
               span: ChunkSpan, results: list[Any]) -> labelled:
    """The block in which pandas maps ``piece``: a failure names the element that raised."""
    def label() -> Any:
        labels = piece.index
        if na_action == "ignore":  # pandas skipped the missing values
            labels = labels[~np.asarray(piece.isna())]
        return labels[len(results)]

    return labelled(what, span, label)


def record_series_chunk(piece: pd.Series, span: ChunkSpan, shared: Shared) -> list[Any]:
    """Run pandas' ``map`` or ``apply`` on ``piece``, keeping each result; the raw results.

    ``shared.value`` is the function, the method ("map" or "apply") and ``na_action``."""
    func, method, na_action = shared.value
    results: list[Any] = []

    def record(x: Any) -> None:
        results.append(func(x))

    with _recording(func, piece, na_action, "element", span, results):
        if method == "map":
            _pandas.Series_map(piece, record, na_action=na_action)
        else:
            _pandas.Series_apply(piece, record)
    return results


def record_frame_map_chunk(pieces: list[pd.Series], span: ChunkSpan,
                           shared: Shared) -> list[Any]:
    """Map each column piece as ``DataFrame.map`` does; the raw results, in call order.

    ``shared.value`` is the function and ``na_action``."""
    func, na_action = shared.value
    results: list[Any] = []
    for column in pieces:
        column_results: list[Any] = []

        def record(x: Any, column_results: list[Any] = column_results) -> None:
            column_results.append(func(x))

        with _recording(func, column, na_action, f"element in column {column.name!r} of the row",
                        span, column_results):
            _pandas.Series_map(column, record, na_action=na_action)
        results.extend(column_results)
    return results
