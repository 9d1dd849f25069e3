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
from ..plan import Plan
from ..plan.policy import plan_call
from . import Probed, call_with, compiled, direct, execute, nbytes, replay, share_indexes

__all__ = ["apply_groups", "NOT_GIVEN"]

NOT_GIVEN = object()


def apply_groups(gb: Any, func: Any, args: tuple, kwargs: dict[str, Any],
                 include_groups: Any, options: Options) -> pd.DataFrame | pd.Series:
    """``gb.apply(func, *args, **kwargs)`` (with ``include_groups`` when it was given)."""
    given = {} if include_groups is NOT_GIVEN else {"include_groups": include_groups}

    def pandas_apply(f: Any = func) -> Any:
        return gb.apply(f, *args, **given, **kwargs)

    ngroups = gb.ngroups
    if isinstance(func, str) or not callable(func):
        return direct("groups", ngroups, "string functions go to pandas directly",
                      pandas_apply)
    if _pandas.groupby_replaces_func(func):
        return direct("groups", ngroups, "pandas runs this function as a built-in aggregation",
                      pandas_apply)
    if _pandas.groups_columns(gb):
        return direct("groups", ngroups, "groups of columns (axis=1) go to pandas directly",
                      pandas_apply)
    if ngroups == 0:
        # pandas may call the function once on an empty frame, to raise the right error
        return direct("groups", ngroups, "no groups", pandas_apply)
    if include_groups is NOT_GIVEN:
        include_groups = not _pandas.PANDAS_3  # pandas' default
    if include_groups and _pandas.PANDAS_3:
        return direct("groups", ngroups, "include_groups=True: pandas 3 raises", pandas_apply)
    if options.jit:
        outcome = _compiled(gb, func, args, kwargs, include_groups, options)
        if isinstance(outcome, compiled.Mismatch):  # pandas finishes, from the second group
            return replay(pandas_apply, outcome.results, then=func,
                          more_arguments=bool(args or kwargs))
        if outcome is not None:
            return outcome
    plan = plan_call("groups", ngroups, options)
    if plan.direct:
        return direct("groups", ngroups, plan.reason, pandas_apply)

    f = functools.partial(call_with, func, args, kwargs) if (args or kwargs) else func
    if include_groups:
        # pandas 2.2: the grouping columns are passed unless that raises TypeError
        try:
            with _pandas.group_mutation_allowed(True):  # for this process; workers set their own
                result = _apply_to(gb, f, _pandas.group_data(gb, True), plan, options, True)
        except TypeError:
            result = _apply_to(gb, f, _pandas.group_data(gb, False), plan, options, False)
        else:
            if (not isinstance(result, Probed)
                    and _pandas.groupby_apply_emits_inclusion_warning(gb)):
                warnings.warn(_pandas.groupby_include_groups_message(gb), DeprecationWarning,
                              stacklevel=2)
    else:
        result = _apply_to(gb, f, _pandas.group_data(gb, False), plan, options, False)
    if isinstance(result, Probed):
        # pandas finishes the call: the groups that ran while measuring are not run again
        results = [s for values, _ in result.chunks for v in values
                   for s in (v.series() if isinstance(v, _pandas.StackedRows) else (v,))]
        return replay(pandas_apply, results, then=func, more_arguments=bool(args or kwargs),
                      probed=result)
    return result


def _compiled(gb: Any, func: Any, args: tuple, kwargs: dict[str, Any], include_groups: bool,
              options: Options) -> Any:
    data = _pandas.group_data(gb, False)
    if include_groups and _pandas.group_data(gb, True) is not data:
        compiled.declined(options, "with include_groups=True the function also gets the "
                          "grouping columns; jit needs include_groups=False")
        return None
    split = _pandas.split_groups(gb, data)

    def run_first() -> Any:
        group = _pandas.group_slice(split.sorted_data, int(split.starts[0]),
                                    int(split.ends[0]))
        object.__setattr__(group, "name", split.keys[0])
        try:
            return func(group, *args, **kwargs)
        except Exception as exc:
            add_label_note(exc, "group", split.keys[0],
                           ChunkSpan(0, None, "groups", 0, 1))
            raise

    return compiled.apply_groups(gb, data, split, func, args, kwargs, run_first, options)


def _apply_to(gb: Any, f: Callable[..., Any], data: pd.DataFrame | pd.Series, plan: Plan,
              options: Options, with_groupings: bool) -> pd.DataFrame | pd.Series | Probed:
    split = _pandas.split_groups(gb, data)
    sizes = split.ends - split.starts

    def make_payload(span: ChunkSpan) -> tuple:
        g0, g1 = span.start, span.stop
        row0 = int(split.starts[g0:g1].min())
        row1 = int(split.ends[g0:g1].max())
        return (split.sorted_data.iloc[row0:row1], split.starts[g0:g1] - row0,
                split.ends[g0:g1] - row0, split.keys[g0:g1], f, with_groupings, span)

    chunk_results = execute(record_groups_chunk, make_payload, plan, options, split.ngroups,
                            nbytes=nbytes(split.sorted_data), weights=sizes)
    if isinstance(chunk_results, Probed):
        return chunk_results
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
