"""``DataFrame.apply(func, raw=True)``: the function on each row or column of the frame's array.

pandas hands the array to ``np.apply_along_axis``, which makes the result an array of the dtype
and shape of the first unit's result and stores every later result into it (with numpy's
casting). So the first unit runs first, in the caller (:meth:`RawApply.prepare`); each chunk
then fills an array of that dtype and shape for its own units, exactly as numpy's loop would,
and the chunks' arrays are joined. Results that are not plain arrays or scalars (an ndarray
subclass would make numpy wrap the whole array) are combined by replaying pandas' apply
instead.

Split: positional ranges of rows (axis=1) or columns (axis=0) of the frame's array.
Chunk task: :func:`fill_raw_chunk`. Combine: the arrays joined, wrapped as pandas wraps them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .. import _pandas
from ..broadcast import Shared
from ..compiled import declined as jit_declined
from ..compiled.rows import raw_rows
from ..errors import ChunkSpan, labelled
from ..options import Options
from .base import flat
from .replay import replay
from .rows import FrameApply

__all__ = ["RawApply", "fill_raw_chunk"]


class RawApply(FrameApply):
    """``df.apply(func, axis=..., raw=True)``."""

    def __init__(self, df: pd.DataFrame, arguments: dict[str, Any], call_args: tuple,
                 call_kwargs: dict[str, Any]) -> None:
        super().__init__(df, arguments, call_args, call_kwargs)
        self.head: list[Any] | None = None
        self.first: np.ndarray | None = None
        self.template: tuple[np.dtype, tuple[int, ...]] | None = None

    @property
    def values(self) -> np.ndarray:
        # chunks get slices of the whole frame's array, as numpy iterates it
        return self.df.values

    def piece_of(self, start: int, stop: int) -> np.ndarray:
        values = self.values
        return values[start:stop] if self.axis == 1 else values[:, start:stop]

    def prepare(self) -> None:
        """Run the first unit: its result's dtype and shape are the whole result's."""
        if self.head is not None:
            return
        self.head = fill_raw_chunk(self.piece_of(0, 1), self.labels[:1],
                                   ChunkSpan(0, None, self.unit, 0, 1),
                                   Shared((self.func, self.axis, self.args, self.kwargs, None)))
        self.first = np.asanyarray(_pandas.raw_result(self.head[0]))
        if type(self.first) is np.ndarray:
            self.template = (self.first.dtype, self.first.shape)

    def ran(self) -> list[Any]:
        return self.head or []

    def compiled(self, options: Options) -> Any:
        if self.n_units <= 1:
            return None
        self.prepare()
        first = self.first
        assert first is not None
        if self.template is None:
            jit_declined(options, "the function returns something other than numbers or "
                         "arrays of numbers")
            return None
        values = self.values
        full = raw_rows(values if self.axis == 1 else values.T, first, self.func, self.args,
                        self.kwargs, self.unit, self.labels, options)
        return None if full is None else self._wrapped(full)

    def task(self) -> Any:
        return fill_raw_chunk

    def payload(self, span: ChunkSpan) -> tuple:
        start, stop = span.start, span.stop
        return (self.piece_of(start, stop), self.labels[start:stop], span)

    def shared(self) -> tuple:
        return (self.func, self.axis, self.args, self.kwargs, self.template)

    def nbytes(self) -> int:
        return int(self.values.nbytes)

    def recorded(self, chunks: list[Any]) -> list[Any]:
        return flat(chunks)

    def combine(self, chunks: list[Any]) -> Any:
        if self.template is None:
            return replay(self.finish, self.ran() + flat(chunks))
        first = self.first
        assert first is not None
        return self._wrapped(np.concatenate([first[np.newaxis], *chunks]))

    def _wrapped(self, result: np.ndarray) -> Any:
        if self.axis == 0 and result.ndim > 1:
            # numpy moves the result's own axes in front of the iterated one
            result = np.moveaxis(result, 0, -1)
        return _pandas.wrap_raw_results(self.op, result)


def fill_raw_chunk(piece: np.ndarray, labels: pd.Index, span: ChunkSpan, shared: Shared) -> Any:
    """Run the function on each row or column of the array ``piece``, as
    ``np.apply_along_axis`` calls it.

    ``shared.value`` is the function, the axis, its ``args`` and keyword arguments, and a
    ``template``. With a template (dtype, shape), store each result into a fresh array of
    that dtype and shape per unit, as ``np.apply_along_axis`` stores the results after the
    first; without one, the raw results, in a list.
    """
    func, axis, args, kwargs, template = shared.value
    units = piece if axis == 1 else piece.T
    out: Any = [] if template is None else np.zeros((len(units), *template[1]), template[0])
    j = 0
    with labelled("row" if axis == 1 else "column", span, lambda: labels[j]):
        for j in range(len(units)):
            result = func(units[j], *args, **kwargs)
            if template is None:
                out.append(result)
            else:
                out[j, ...] = np.asanyarray(_pandas.raw_result(result))  # as numpy stores it
    return out
