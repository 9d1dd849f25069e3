"""``groupby(...).apply``.

Split: pandas' own split of the groupby (:class:`.wholegroups.WholeGroups`): the rows sorted
by group, each group's slice, and its key, in pandas' group order. Chunks are contiguous runs
of whole groups, many per chunk, balanced by rows; a group is never split.
Chunk task: call the function on each group exactly as pandas does (the group's ``name`` is its
key) and note whether each result is indexed like its group.
Combine: pandas' own assembly of the per-group results for the whole groupby
(:func:`pdpar._pandas.wrap_group_results`).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import _pandas
from ..broadcast import Shared
from ..compiled import declined as jit_declined
from ..compiled import groups as compiled
from ..compiled import labelled_head
from ..errors import ChunkSpan, labelled
from ..execute import execute
from ..options import Options
from ..plan import Plan
from ..work import Unfinished
from .base import call_with, share_indexes
from .wholegroups import WholeGroups, each_group

__all__ = ["GroupsApply", "NOT_GIVEN", "record_groups_chunk"]

NOT_GIVEN = object()


class GroupsApply(WholeGroups):
    """``gb.apply(func, *args, **kwargs)`` (with ``include_groups`` when it was given)."""

    def __init__(self, gb: Any, func: Any, args: tuple, kwargs: dict[str, Any],
                 include_groups: Any) -> None:
        self.gb = gb
        self.func = self.then = func
        self.args = args
        self.kwargs = kwargs
        self.more_arguments = bool(args or kwargs)
        self.given = {} if include_groups is NOT_GIVEN else {"include_groups": include_groups}
        self.include_groups = include_groups
        self.n_units = gb.ngroups
        self.with_groupings = False

    def declines(self) -> str | None:
        func = self.func
        if isinstance(func, str) or not callable(func):
            return "string functions go to pandas directly"
        if _pandas.groupby_replaces_func(func):
            return "pandas runs this function as a built-in aggregation"
        if _pandas.groups_columns(self.gb):
            return "groups of columns (axis=1) go to pandas directly"
        if self.n_units == 0:
            # pandas may call the function once on an empty frame, to raise the right error
            return "no groups"
        if self.include_groups is NOT_GIVEN:
            self.include_groups = not _pandas.PANDAS_3  # pandas' default
        if self.include_groups and _pandas.PANDAS_3:
            return "include_groups=True: pandas 3 raises"
        return None

    def plain(self) -> Any:
        return self.finish(self.func)

    def finish(self, standin: Any) -> Any:
        return self.gb.apply(standin, *self.args, **self.given, **self.kwargs)

    def compiled(self, options: Options) -> Any:
        gb = self.gb
        data = _pandas.group_data(gb, False)
        if self.include_groups and _pandas.group_data(gb, True) is not data:
            jit_declined(options, "with include_groups=True the function also gets the "
                         "grouping columns; jit needs include_groups=False")
            return None
        split = _pandas.split_groups(gb, data)

        def run_first() -> Any:
            group = _pandas.group_slice(split.sorted_data, int(split.starts[0]),
                                        int(split.ends[0]))
            object.__setattr__(group, "name", split.keys[0])
            with labelled_head("group", "groups", split.keys[0]):
                return self.func(group, *self.args, **self.kwargs)

        return compiled.apply_groups(gb, data, split, self.func, self.args, self.kwargs,
                                     run_first, options)

    def task(self) -> Any:
        return record_groups_chunk

    def execute(self, plan: Plan, options: Options) -> list[Any] | Unfinished:
        if not self.include_groups:
            return self._execute(plan, options, False)
        # pandas 2.2: the grouping columns are passed unless that raises TypeError
        try:
            with _pandas.group_mutation_allowed(True):  # for this process; workers set their own
                chunks = self._execute(plan, options, True)
        except TypeError:
            return self._execute(plan, options, False)
        if not isinstance(chunks, Unfinished) \
                and _pandas.groupby_apply_emits_inclusion_warning(self.gb):
            warnings.warn(_pandas.groupby_include_groups_message(self.gb), DeprecationWarning,
                          stacklevel=2)
        return chunks

    def _execute(self, plan: Plan, options: Options,
                 with_groupings: bool) -> list[Any] | Unfinished:
        self.with_groupings = with_groupings
        self.split_by_groups(self.gb, _pandas.group_data(self.gb, with_groupings))
        self.f = functools.partial(call_with, self.func, self.args, self.kwargs) \
            if self.more_arguments else self.func
        return execute(self.work(), plan, options)

    def shared(self) -> tuple:
        return (self.f, self.with_groupings)

    def recorded(self, chunks: list[Any]) -> list[Any]:
        return [s for values, _ in chunks for v in values
                for s in (v.series() if isinstance(v, _pandas.StackedRows) else (v,))]

    def combine(self, chunks: list[Any]) -> Any:
        values = [v for chunk_values, _ in chunks for v in chunk_values]
        mutated = any(chunk_mutated for _, chunk_mutated in chunks)
        return _pandas.wrap_group_results(self.gb, self.data, values, mutated)


def record_groups_chunk(piece: pd.DataFrame | pd.Series, starts: np.ndarray, ends: np.ndarray,
                        keys: Sequence[Hashable], span: ChunkSpan,
                        shared: Shared) -> tuple[list[Any], bool]:
    """Call the function on each group of ``piece``; the results and whether any was not a
    transform. ``shared.value`` is the function (with its arguments bound) and whether the
    groups hold their grouping columns."""
    f, with_groupings = shared.value
    values: list[Any] = []
    mutated = False
    with _pandas.group_mutation_allowed(with_groupings), \
            labelled("group", span, lambda: keys[len(values)]):
        for group in each_group(piece, starts, ends, keys, named=True):
            group_axes = group.axes
            result = f(group)
            if not mutated and not _pandas.is_indexed_like(result, group_axes):
                mutated = True
            values.append(result)
    return _pandas.stack_series_results(share_indexes(values)), mutated
