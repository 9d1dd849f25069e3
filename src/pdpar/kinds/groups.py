"""``groupby(...).apply``.

Split: pandas' own split of the groupby (:func:`pdpar._pandas.split_groups`): the rows sorted
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
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import _pandas
from ..errors import ChunkSpan, add_label_note
from ..options import Options
from ..planner import plan_call
from . import call_with, execute, nbytes, share_indexes

__all__ = ["apply_groups", "NOT_GIVEN"]

NOT_GIVEN = object()


def apply_groups(gb: Any, func: Any, args: tuple, kwargs: dict[str, Any],
                 include_groups: Any, options: Options) -> pd.DataFrame | pd.Series:
    """``gb.apply(func, *args, **kwargs)`` (with ``include_groups`` when it was given)."""
    given = {} if include_groups is NOT_GIVEN else {"include_groups": include_groups}

    def pandas_apply() -> Any:
        return gb.apply(func, *args, **given, **kwargs)

    if (isinstance(func, str) or not callable(func) or _pandas.groupby_replaces_func(func)
            or _pandas.groups_columns(gb)):
        return pandas_apply()
    # no groups: pandas may call the function once on an empty frame, to raise the right error
    if gb.ngroups == 0 or plan_call("groups", gb.ngroups, options).direct:
        return pandas_apply()
    if include_groups is NOT_GIVEN:
        include_groups = not _pandas.PANDAS_3  # pandas' default
    if include_groups and _pandas.PANDAS_3:
        return pandas_apply()  # pandas 3 raises

    f = functools.partial(call_with, func, args, kwargs) if (args or kwargs) else func
    if include_groups:
        # pandas 2.2: the grouping columns are passed unless that raises TypeError
        try:
            with _pandas.group_mutation_allowed(True):  # for this process; workers set their own
                result = _apply_to(gb, f, _pandas.group_data(gb, True), options, True)
        except TypeError:
            return _apply_to(gb, f, _pandas.group_data(gb, False), options, False)
        if _pandas.groupby_apply_emits_inclusion_warning(gb):
            warnings.warn(_pandas.groupby_include_groups_message(gb), DeprecationWarning,
                          stacklevel=2)
        return result
    return _apply_to(gb, f, _pandas.group_data(gb, False), options, False)


def _apply_to(gb: Any, f: Callable[..., Any], data: pd.DataFrame | pd.Series,
              options: Options, with_groupings: bool) -> pd.DataFrame | pd.Series:
    split = _pandas.split_groups(gb, data)
    plan = plan_call("groups", split.ngroups, options)

    sizes = split.ends - split.starts

    def make_payload(span: ChunkSpan) -> tuple:
        g0, g1 = span.start, span.stop
        row0 = int(split.starts[g0:g1].min())
        row1 = int(split.ends[g0:g1].max())
        return (split.sorted_data.iloc[row0:row1], split.starts[g0:g1] - row0,
                split.ends[g0:g1] - row0, split.keys[g0:g1], f, with_groupings, span)

    chunk_results = execute(record_groups_chunk, make_payload, plan, options, split.ngroups,
                            nbytes=nbytes(split.sorted_data), weights=sizes)
    values = [v for chunk_values, _ in chunk_results for v in chunk_values]
    mutated = any(chunk_mutated for _, chunk_mutated in chunk_results)
    return _pandas.wrap_group_results(gb, data, values, mutated)


def record_groups_chunk(piece: pd.DataFrame | pd.Series, starts: np.ndarray, ends: np.ndarray,
                        keys: Sequence[Hashable], f: Callable[..., Any], with_groupings: bool,
                        span: ChunkSpan) -> tuple[list[Any], bool]:
    """Call ``f`` on each group of ``piece``; the results and whether any was not a transform."""
    with _pandas.group_mutation_allowed(with_groupings):
        return _record_groups(piece, starts, ends, keys, f, span)


def _record_groups(piece: pd.DataFrame | pd.Series, starts: np.ndarray, ends: np.ndarray,
                   keys: Sequence[Hashable], f: Callable[..., Any],
                   span: ChunkSpan) -> tuple[list[Any], bool]:
    values = []
    mutated = False
    for start, end, key in zip(starts, ends, keys):
        group = _pandas.group_slice(piece, start, end)
        object.__setattr__(group, "name", key)
        group_axes = group.axes
        try:
            result = f(group)
        except Exception as exc:
            add_label_note(exc, "group", key, span)
            raise
        if not mutated and not _pandas.is_indexed_like(result, group_axes):
            mutated = True
        values.append(result)
    return _pandas.stack_series_results(share_indexes(values)), mutated
