"""One module per kind of call, all run through one sequence (:func:`.base.run`).

A kind is a :class:`.base.Call`: it knows how to split its input into chunks, the pure task
that runs on one chunk (it returns fresh objects and never writes into its input), how to
combine the chunk results into exactly what pandas returns, how to name a unit in an error, and
which calls go straight to pandas. No kind knows how chunks are executed.

- :mod:`.rows`: ``DataFrame.apply`` over rows (axis=1) or columns (axis=0)
- :mod:`.raw`: ``DataFrame.apply(raw=True)``
- :mod:`.elements`: ``Series.map``, ``Series.apply`` and ``DataFrame.map``
- :mod:`.groups`: ``groupby(...).apply``
- :mod:`.windows`: ``rolling(...).apply`` and ``expanding(...).apply``, grouped or not
- :mod:`.groupops`: ``groupby(...).transform``, ``.filter`` and ``.agg``
- :mod:`.resample`: ``resample(...).apply`` and ``.agg``

The functions below are the entry points of the accessors: each builds its kind's call and
runs it.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..options import Options
from .base import run
from .elements import FrameMap, SeriesApply, SeriesMap
from .groupops import GroupsAgg, GroupsFilter, GroupsTransform
from .groups import NOT_GIVEN, GroupsApply
from .raw import RawApply
from .resample import aggregate_resample
from .rows import FrameApply
from .windows import WindowsApply

__all__ = ["apply_frame", "map_frame", "apply_series", "map_series", "apply_groups",
           "apply_window", "transform_groups", "filter_groups", "aggregate_groups",
           "aggregate_resample", "NOT_GIVEN"]


def apply_frame(df: pd.DataFrame, arguments: dict[str, Any], call_args: tuple,
                call_kwargs: dict[str, Any], options: Options) -> Any:
    """``df.apply(*call_args, **call_kwargs)``; ``arguments`` is their binding to its signature."""
    # result_type="broadcast" passes Series even with raw=True
    if arguments["raw"] and arguments["result_type"] != "broadcast":
        return run(RawApply(df, arguments, call_args, call_kwargs), options)
    return run(FrameApply(df, arguments, call_args, call_kwargs, options.rows), options)


def map_frame(df: pd.DataFrame, arguments: dict[str, Any], call_args: tuple,
              call_kwargs: dict[str, Any], options: Options) -> Any:
    """``df.map(*call_args, **call_kwargs)``."""
    return run(FrameMap(df, arguments, call_args, call_kwargs), options)


def apply_series(s: pd.Series, arguments: dict[str, Any], call_args: tuple,
                 call_kwargs: dict[str, Any], options: Options) -> Any:
    """``s.apply(*call_args, **call_kwargs)``."""
    return run(SeriesApply(s, arguments, call_args, call_kwargs), options)


def map_series(s: pd.Series, arguments: dict[str, Any], call_args: tuple,
               call_kwargs: dict[str, Any], options: Options) -> Any:
    """``s.map(*call_args, **call_kwargs)``."""
    return run(SeriesMap(s, arguments, call_args, call_kwargs), options)


def apply_groups(gb: Any, func: Any, args: tuple, kwargs: dict[str, Any],
                 include_groups: Any, options: Options) -> Any:
    """``gb.apply(func, *args, **kwargs)`` (with ``include_groups`` when it was given)."""
    return run(GroupsApply(gb, func, args, kwargs, include_groups), options)


def apply_window(window: Any, arguments: dict[str, Any], call_args: tuple,
                 call_kwargs: dict[str, Any], options: Options) -> Any:
    """``window.apply(*call_args, **call_kwargs)`` for a pandas rolling or expanding window."""
    return run(WindowsApply(window, arguments, call_args, call_kwargs), options)


def transform_groups(gb: Any, func: Any, args: tuple, kwargs: dict[str, Any], engine: Any,
                     engine_kwargs: Any, options: Options) -> Any:
    """``gb.transform(func, *args, engine=engine, engine_kwargs=engine_kwargs, **kwargs)``."""
    return run(GroupsTransform(gb, func, args, kwargs, engine, engine_kwargs), options)


def filter_groups(gb: Any, func: Any, dropna: Any, args: tuple, kwargs: dict[str, Any],
                  options: Options) -> Any:
    """``gb.filter(func, dropna, *args, **kwargs)``."""
    return run(GroupsFilter(gb, func, dropna, args, kwargs), options)


def aggregate_groups(gb: Any, func: Any, args: tuple, kwargs: dict[str, Any], engine: Any,
                     engine_kwargs: Any, options: Options) -> Any:
    """``gb.aggregate(func, *args, engine=engine, engine_kwargs=engine_kwargs, **kwargs)``."""
    return run(GroupsAgg(gb, func, args, kwargs, engine, engine_kwargs), options)
