"""What every kind over groups shares: pandas' own split of a groupby into whole groups, cut
into chunks of many whole groups each, balanced by rows; a group is never split.

:class:`WholeGroups` gives a kind its chunks' data (the chunk's rows, sorted by group, with
each group's slice and key); :func:`each_group` walks them in a chunk task as pandas' splitter
does. :class:`GroupsInCaller` adds what the kinds that assemble the groups' results
themselves share: when the automatic backend decides, after measuring, to finish in the
caller, the caller runs the remaining groups with the same chunk task.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import _pandas
from ..broadcast import Shared
from ..errors import ChunkSpan
from ..execute import execute
from ..options import Options
from ..plan import Plan, decided
from ..plan.policy import plan_call
from ..work import Unfinished
from .base import Call, nbytes

__all__ = ["WholeGroups", "GroupsInCaller", "each_group"]


class WholeGroups(Call):
    """A call over the groups of ``self.split`` (set by :meth:`split_by_groups`)."""

    unit = "groups"
    split: _pandas.GroupSplit

    def split_by_groups(self, gb: Any, data: pd.DataFrame | pd.Series) -> None:
        self.data = data
        self.split = _pandas.split_groups(gb, data)

    def payload(self, span: ChunkSpan) -> tuple:
        split = self.split
        g0, g1 = span.start, span.stop
        row0 = int(split.starts[g0:g1].min())
        row1 = int(split.ends[g0:g1].max())
        return (split.sorted_data.iloc[row0:row1], split.starts[g0:g1] - row0,
                split.ends[g0:g1] - row0, split.keys[g0:g1], span)

    def nbytes(self) -> int:
        return nbytes(self.split.sorted_data)

    def weights(self) -> np.ndarray:
        return self.split.ends - self.split.starts


def each_group(piece: pd.DataFrame | pd.Series, starts: np.ndarray, ends: np.ndarray,
               keys: Sequence[Hashable], named: bool) -> Iterator[Any]:
    """The groups of a chunk's ``piece`` as pandas' splitter cuts them; ``named``: each with
    its key as ``name``, as pandas pins it."""
    for start, end, key in zip(starts, ends, keys):
        group = _pandas.group_slice(piece, start, end)
        if named:
            object.__setattr__(group, "name", key)
        yield group


class GroupsInCaller(WholeGroups):
    """Whole groups whose results the kind assembles itself (:meth:`assemble`, from each
    group's result in group order); :meth:`head` may run the first groups in the caller."""

    def __init__(self) -> None:
        self.done: list[Any] = []

    def ran(self) -> list[Any]:
        return self.done

    def head(self) -> list[Any]:
        """The results of the first groups, run in the caller before the chunks."""
        return []

    def execute(self, plan: Plan, options: Options) -> list[Any] | Unfinished:
        self.done = self.head()
        first = len(self.done)
        if first:  # the plan is for the groups left
            plan = plan_call(self.unit, self.n_units - first, options)
            if plan.plain:
                decided(dataclasses.replace(plan, n_units=self.n_units, probed=first))
                return [self.done, self.groups_here(first, 0)]
        chunks = execute(self.work(), plan, options)
        if not isinstance(chunks, Unfinished):
            return [self.done, *chunks]
        # the automatic backend keeps the call in the caller: the rest runs here, as a chunk
        rest = self.groups_here(self.n_units - chunks.remaining, len(chunks.results))
        if chunks.progress is not None:
            chunks.progress.update(chunks.remaining)
            chunks.progress.close()
        return [self.done, *chunks.results, rest]

    def groups_here(self, start: int, index: int) -> list[Any]:
        """The groups from ``start`` on, run in the caller as chunk ``index``."""
        if start >= self.n_units:
            return []
        span = ChunkSpan(index, index + 1, self.unit, start, self.n_units)
        shared = Shared(self.shared())
        try:
            return self.task()(*self.payload(span), shared)
        finally:
            shared.close()

    def combine(self, chunks: list[Any]) -> Any:
        return self.assemble([r for chunk in chunks for r in chunk])

    def assemble(self, results: list[Any]) -> Any:
        raise NotImplementedError
