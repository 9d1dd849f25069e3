"""Series results assembled by pandas at their fastest: identical indexes made one in pandas'
eyes, and runs of Series results stacked into one array for the journey from a worker."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pandas.core.internals import SingleBlockManager

__all__ = ["link_identical_indexes", "StackedRows", "stack_series_results"]


def link_identical_indexes(results: Sequence[Any]) -> None:
    """Let pandas see Series results with identical indexes as sharing one index.

    Results from different chunks carry separate but identical index objects (within a chunk
    :func:`pdpar.kinds.share_indexes` already made them one object). pandas' assembly compares
    every result's index with the first one's, and ``Index.equals`` is instant only for the
    same index or a view of it (``Index.is_``: a shared private identity token). Giving each
    identical index the first one's token makes those comparisons instant; the indexes are
    identical in values, dtype, names and type, so nothing else changes.
    """
    if not any(issubclass(kind, (pd.Series, StackedRows)) for kind in set(map(type, results))):
        return  # scalar results: nothing to link (the set is made at C speed)
    first: pd.Index | None = None
    seen: pd.Index | None = None
    for result in results:
        if not isinstance(result, (pd.Series, StackedRows)):
            continue
        index = result.index
        if index is seen or index is first:
            continue
        if first is None:
            first = index
        elif index.identical(first) and first._id is not None:
            index._id = first._id
        seen = index


class StackedRows:
    """A chunk's Series results, one per group, stacked into one 2-D array for the journey.

    Used only when the results share one index object (see
    :func:`pdpar.kinds.share_indexes`), one numpy dtype and one name, and carry no attrs: then
    pandas' assembly (``_wrap_applied_output_series``) reads of them only their index, their
    name and ``np.asarray`` of each, which it stacks. A ``StackedRows`` answers those for the
    whole run at once (``np.asarray`` gives the stacked rows, and stacking stacks them), so
    pandas assembles exactly what it would from the Series, without building, sending and
    probing one Series per group. :meth:`series` gives the Series back where needed.
    """

    __slots__ = ("block", "index", "name", "first")

    def __init__(self, block: np.ndarray, index: pd.Index, name: Hashable,
                 first: pd.Series) -> None:
        self.block = block
        self.index = index
        self.name = name
        self.first = first  # the run's first Series, as it was

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.block if dtype is None else self.block.astype(dtype)

    def __len__(self) -> int:
        return len(self.block)

    def series(self) -> list[pd.Series]:
        """The Series this run stands for."""
        out = [self.first]
        for row in self.block[1:]:
            mgr = SingleBlockManager.from_array(row, self.index)
            series = pd.Series._from_mgr(mgr, axes=mgr.axes)
            series.name = self.name
            out.append(series)
        return out


def stack_series_results(results: list[Any]) -> list[Any]:
    """``results`` as one :class:`StackedRows` when they allow it, else unchanged."""
    if len(results) < 2:
        return results
    first = results[0]
    if not isinstance(first, pd.Series):
        return results
    dtype = first.dtype
    if not isinstance(dtype, np.dtype) or dtype.kind not in "biufc":
        return results
    index = first.index
    names = set()
    for result in results:
        if (not isinstance(result, pd.Series) or result.index is not index
                or result.dtype != dtype or result.attrs
                or not result.flags.allows_duplicate_labels):
            return results
        names.add(result.name)
    if len(names) != 1:
        return results
    block = np.vstack([result.to_numpy() for result in results])
    return [StackedRows(block, index, names.pop(), first)]
