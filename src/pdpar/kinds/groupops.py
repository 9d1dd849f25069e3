"""``groupby(...).transform``, ``.filter`` and ``.agg`` with a Python function.

Split: pandas' own split of the groupby into whole groups, many per chunk
(:class:`.wholegroups.WholeGroups`), of the object pandas passes groups of.
Chunk task: the function on each group exactly as pandas' loop calls it, and what pandas'
loop keeps of its result (transform: the result indexed like the group, a chunk's results
concatenated into one where the assembly's result cannot differ; filter: whether the group
is kept); agg: the raw result of each call.
Combine: transform and filter, pandas' own code after its loop, on every group's kept result
(:mod:`pdpar._pandas.groupops`); agg, pandas' own ``agg`` with the recorded results in place
of the function (:func:`.replay.replay`), so that pandas' casting and wrapping of the results
is its own on every version.

A DataFrame's transform tries two ways of calling the function on the first group (the
whole group, and each of its columns) and keeps one for the others: that first group runs in
the caller, as pandas runs it, before the chunks.
"""

from __future__ import annotations

import functools
from typing import Any

import pandas as pd
from pandas.api.types import is_dict_like, is_list_like

from .. import _pandas
from .._pandas import groupops as ops
from ..broadcast import Shared
from ..compiled import labelled_head
from ..errors import ChunkSpan, labelled
from ..options import Options
from ..plan import Plan
from ..work import Unfinished
from .base import call_with
from .replay import replay
from .wholegroups import GroupsInCaller, each_group

__all__ = ["GroupsTransform", "GroupsFilter", "GroupsAgg", "not_a_python_function"]


def not_a_python_function(func: Any) -> str | None:
    """Why ``func`` goes to pandas as it is (a string, a list or dict of functions, no function
    at all), or None."""
    if func is None or isinstance(func, str):
        return "string functions and named aggregations go to pandas directly"
    if is_list_like(func) or is_dict_like(func):
        return "lists and dicts of functions go to pandas directly"
    if not callable(func):
        return "not a function: pandas says what is wrong"
    return None


class _GroupsCall(GroupsInCaller):
    """What the three share: the groupby, the function and its arguments."""

    def __init__(self, gb: Any, func: Any, args: tuple, kwargs: dict[str, Any]) -> None:
        super().__init__()
        self.gb = gb
        self.func = func
        self.args = args
        self.kwargs = kwargs
        self.more_arguments = bool(args or kwargs)
        self.series = ops.is_series_groupby(gb)
        self.n_units = gb.ngroups

    def bound(self) -> Any:
        """The function with its arguments, as one picklable callable of the group."""
        if self.more_arguments:
            return functools.partial(call_with, self.func, self.args, self.kwargs)
        return self.func

    def function_declines(self, engine: Any = None) -> str | None:
        reason = not_a_python_function(self.func)
        if reason:
            return reason
        if ops.uses_numba(engine):
            return "engine='numba': pandas' own compiled path"
        if _pandas.groups_columns(self.gb):
            return "groups of columns (axis=1) go to pandas directly"
        if self.n_units == 0:
            return "no groups"
        return None

    def plain(self) -> Any:
        return self.finish(self.func)


class GroupsTransform(_GroupsCall):
    """``gb.transform(func, *args, **kwargs)``."""

    def __init__(self, gb: Any, func: Any, args: tuple, kwargs: dict[str, Any],
                 engine: Any, engine_kwargs: Any) -> None:
        super().__init__(gb, func, args, kwargs)
        self.engine = engine
        self.engine_kwargs = engine_kwargs
        self.fast = False

    def declines(self) -> str | None:
        reason = self.function_declines(self.engine)
        if reason is None and ops.agg_replaces_func(self.func, False):
            return "pandas runs this function as a built-in transform"
        return reason

    def finish(self, standin: Any) -> Any:
        return self.gb.transform(standin, *self.args, engine=self.engine,
                                 engine_kwargs=self.engine_kwargs, **self.kwargs)

    def execute(self, plan: Plan, options: Options) -> list[Any] | Unfinished:
        self.split_by_groups(self.gb, _pandas.group_data(self.gb, False))
        return super().execute(plan, options)

    def head(self) -> list[Any]:
        if self.series:
            return []
        # pandas chooses between calling the function on the group and on its columns here
        split = self.split
        key = split.keys[0]
        group = _pandas.group_slice(split.sorted_data, int(split.starts[0]),
                                    int(split.ends[0]))
        object.__setattr__(group, "name", key)
        with labelled_head("group", "groups", key):
            self.fast, res = ops.frame_transform_paths(self.gb, self.func, self.args,
                                                       self.kwargs, group)
        return [ops.frame_transform_step(self.gb.obj, group, res) if group.size else None]

    def task(self) -> Any:
        return transform_series_chunk if self.series else transform_frame_chunk

    def shared(self) -> tuple:
        if self.series:
            return (self.bound(), type(self.gb.obj))
        return (self.func, self.args, self.kwargs, self.fast, self.gb.obj.iloc[:0])

    def assemble(self, results: list[Any]) -> Any:
        if self.series:
            return ops.assemble_series_transform(self.gb, results)
        return ops.assemble_frame_transform(self.gb, [r for r in results if r is not None])


def transform_series_chunk(piece: pd.Series, starts: Any, ends: Any, keys: Any,
                           span: ChunkSpan, shared: Shared) -> list[pd.Series]:
    """Each group's result indexed like the group, joined where that changes nothing
    (:func:`pdpar._pandas.groupops.joined_if_alike`). ``shared.value``: the function and the
    type of the groupby's object."""
    f, klass = shared.value
    out: list[pd.Series] = []
    with labelled("group", span, lambda: keys[len(out)]):
        for group in each_group(piece, starts, ends, keys, named=True):
            out.append(ops.series_transform_step(klass, group, f(group)))
    return ops.joined_if_alike(out)


def transform_frame_chunk(piece: pd.DataFrame, starts: Any, ends: Any, keys: Any,
                          span: ChunkSpan, shared: Shared) -> list[Any]:
    """Each group's result as pandas keeps it, without the empty groups pandas skips, joined
    where that changes nothing. ``shared.value``: the function, its arguments, whether
    pandas chose the fast path, and an empty frame like the groupby's object."""
    func, args, kwargs, fast, obj = shared.value
    path = ops.fast_path if fast else ops.slow_path
    out: list[Any] = []
    with labelled("group", span, lambda: keys[len(out)]):
        for group in each_group(piece, starts, ends, keys, named=True):
            if group.size == 0:
                out.append(None)
                continue
            out.append(ops.frame_transform_step(obj, group, path(func, args, kwargs, group)))
    return ops.joined_if_alike(out)


class GroupsFilter(_GroupsCall):
    """``gb.filter(func, dropna, *args, **kwargs)``."""

    def __init__(self, gb: Any, func: Any, dropna: Any, args: tuple,
                 kwargs: dict[str, Any]) -> None:
        super().__init__(gb, func, args, kwargs)
        self.dropna = dropna

    def declines(self) -> str | None:
        return self.function_declines()

    def finish(self, standin: Any) -> Any:
        return self.gb.filter(standin, self.dropna, *self.args, **self.kwargs)

    def execute(self, plan: Plan, options: Options) -> list[Any] | Unfinished:
        # a Series' groups come without the grouping, a frame's with its grouping columns
        self.split_by_groups(self.gb, _pandas.group_data(self.gb, not self.series))
        return super().execute(plan, options)

    def task(self) -> Any:
        return filter_chunk

    def shared(self) -> tuple:
        return (self.bound(), self.series)

    def assemble(self, results: list[Any]) -> Any:
        return ops.assemble_filter(self.gb, self.split.keys, results, self.dropna)


def filter_chunk(piece: pd.DataFrame | pd.Series, starts: Any, ends: Any, keys: Any,
                 span: ChunkSpan, shared: Shared) -> list[bool]:
    """Whether each group is kept. ``shared.value``: the function and whether the groups
    are a Series'."""
    f, series = shared.value
    out: list[bool] = []
    with labelled("group", span, lambda: keys[len(out)]):
        for group in each_group(piece, starts, ends, keys, named=not series):
            out.append(ops.series_filter_keeps(f, group) if series
                       else ops.frame_filter_keeps(f(group)))
    return out


class GroupsAgg(_GroupsCall):
    """``gb.agg(func, *args, **kwargs)`` (and ``aggregate``)."""

    def __init__(self, gb: Any, func: Any, args: tuple, kwargs: dict[str, Any],
                 engine: Any, engine_kwargs: Any) -> None:
        super().__init__(gb, func, args, kwargs)
        self.engines = {k: v for k, v in (("engine", engine), ("engine_kwargs", engine_kwargs))
                        if v is not None}
        self.calls = ops.agg_calls(gb, self.more_arguments)
        self.retry = False

    def declines(self) -> str | None:
        reason = self.function_declines(self.engines.get("engine"))
        if reason is not None:
            return reason
        if self.calls is None:
            return "pandas aggregates this groupby another way"
        if _pandas.groupby_replaces_func(self.func) \
                or ops.agg_replaces_func(self.func, self.more_arguments):
            return "pandas runs this function as a built-in aggregation"
        if not self.series and not len(_pandas.group_data(self.gb, False).columns):
            return "no columns"
        return None

    def finish(self, standin: Any) -> Any:
        return self.gb.aggregate(standin, *self.args, **self.engines, **self.kwargs)

    def execute(self, plan: Plan, options: Options) -> list[Any] | Unfinished:
        self.split_by_groups(self.gb, _pandas.group_data(self.gb, False))
        try:
            return super().execute(plan, options)
        except KeyError:
            if not ops.agg_retries_on_key_error(self.gb, self.calls or ""):
                raise
            self.retry = True  # pandas calls the function again, its own way
            return []

    def task(self) -> Any:
        return agg_chunk

    def shared(self) -> tuple:
        return (self.bound(), self.calls == "columns")

    def combine(self, chunks: list[Any]) -> Any:
        if self.retry:
            return self.plain()
        if self.calls == "columns":  # pandas calls column after column
            width = len(self.data.columns)
            results = [r for j in range(width) for chunk in chunks[1:] if chunk
                       for r in chunk[j]]
        else:
            results = [r for chunk in chunks[1:] for r in chunk]
        return replay(self.finish, results, more_arguments=True)


def agg_chunk(piece: pd.DataFrame | pd.Series, starts: Any, ends: Any, keys: Any,
              span: ChunkSpan, shared: Shared) -> list[Any]:
    """The function's result on each group (by column: a list per column, each of a
    column's groups). ``shared.value``: the function and whether it takes columns."""
    f, by_column = shared.value
    out: list[Any] = []
    done: list[Any] = []
    with labelled("group", span, lambda: keys[len(done)]):
        if not by_column:
            for group in each_group(piece, starts, ends, keys, named=False):
                done.append(f(group))
            return done
        for j in range(piece.shape[1]):
            done = []
            for group in each_group(piece.iloc[:, j], starts, ends, keys, named=False):
                done.append(f(group))
            out.append(done)
    return out
