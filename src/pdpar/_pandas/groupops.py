"""pandas' private API for ``groupby(...).transform``, ``.filter`` and ``.agg`` and for
``resample(...).apply``: what pandas does with each group's result, and its assembly of them
all, on pandas 2.2 and 3.x.

The per-group steps mirror the body of pandas' own loop (``_transform_general``, ``filter``),
so that a chunk of groups does exactly what pandas does for those groups; the assembly is the
code pandas runs after its loop, here on every group's result at once.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_bool, is_scalar

from .methods import PANDAS_3, DataFrame_apply

__all__ = ["frame_transform_paths", "frame_transform_step", "series_transform_step",
           "assemble_series_transform", "assemble_frame_transform", "frame_filter_keeps",
           "series_filter_keeps", "assemble_filter", "agg_calls", "uses_numba",
           "resample_groupby", "resample_handles_callables", "wrap_resample_result",
           "falls_back_to_apply", "resample_include_groups", "agg_replaces_func",
           "agg_retries_on_key_error", "is_series_groupby", "joined_if_alike"]


def uses_numba(engine: Any) -> bool:
    """Whether pandas runs the call with numba (named, or by its global option)."""
    return engine == "numba" or (engine is None and bool(pd.get_option("compute.use_numba")))


def is_series_groupby(gb: Any) -> bool:
    return isinstance(gb, pd.api.typing.SeriesGroupBy)


# --------------------------------------------------------------------------------------------
# transform


def slow_path(func: Callable[..., Any], args: tuple, kwargs: dict[str, Any],
              group: pd.DataFrame) -> Any:
    """pandas' slow path of a DataFrame transform: the function on each column."""
    return DataFrame_apply(group, lambda x: func(x, *args, **kwargs), axis=0)


def fast_path(func: Callable[..., Any], args: tuple, kwargs: dict[str, Any],
              group: pd.DataFrame) -> Any:
    """pandas' fast path of a DataFrame transform: the function on the whole group."""
    return func(group, *args, **kwargs)


def frame_transform_paths(gb: Any, func: Callable[..., Any], args: tuple,
                          kwargs: dict[str, Any], group: pd.DataFrame) -> tuple[bool, Any]:
    """pandas' choice of path on the first group: whether the fast path is taken for the
    other groups, and the first group's result (pandas' own ``_choose_path``)."""
    fast = lambda g: fast_path(func, args, kwargs, g)  # noqa: E731
    slow = lambda g: slow_path(func, args, kwargs, g)  # noqa: E731
    try:
        path, res = gb._choose_path(fast, slow, group)
    except ValueError as err:
        raise ValueError("transform must return a scalar value for each group") from err
    return path is fast, res


def frame_transform_step(obj: pd.DataFrame, group: pd.DataFrame, res: Any) -> Any:
    """What pandas keeps of a group's result in a DataFrame transform."""
    from pandas.core.groupby.generic import _wrap_transform_general_frame

    return _wrap_transform_general_frame(obj, group, res)


def series_transform_step(klass: type, group: pd.Series, res: Any) -> pd.Series:
    """What pandas keeps of a group's result in a Series transform."""
    return klass(res, index=group.index)


def joined_if_alike(results: list[Any]) -> list[Any]:
    """A chunk's kept transform results as one piece, concatenated as the assembly below
    concatenates them, when that cannot change its result: every result of one class, with
    the same dtypes (and a frame's the same columns) and no ``attrs``; then the common dtype
    of this piece and the others is what it would be of all their groups' results. Otherwise,
    or if concatenating fails (the assembly then fails as pandas does), ``results`` as they
    are. Fewer, larger pieces make the caller's concatenation cheaper and lighter to send."""
    kept = [r for r in results if r is not None]
    if len(kept) < 2:
        return kept
    first = kept[0]
    klass = type(first)
    if isinstance(first, pd.DataFrame):
        dtypes = list(first._mgr.get_dtypes())
        alike = all(type(r) is klass and not r.attrs and r.columns.identical(first.columns)
                    and list(r._mgr.get_dtypes()) == dtypes for r in kept)
    elif isinstance(first, pd.Series):
        alike = all(type(r) is klass and not r.attrs and r.dtype == first.dtype for r in kept)
    else:
        alike = False
    if not alike:
        return kept
    try:
        joined = pd.concat(kept, ignore_index=True) if PANDAS_3 else pd.concat(kept)
    except Exception:  # noqa: BLE001 - the assembly meets it again, as pandas does
        return kept
    return [joined]


def assemble_series_transform(gb: Any, results: list[pd.Series]) -> pd.Series:
    """``SeriesGroupBy.transform``'s result from every group's kept result, in group order."""
    if results:
        concatenated = pd.concat(results, ignore_index=True) if PANDAS_3 \
            else pd.concat(results)
        result = gb._set_result_index_ordered(concatenated)
    else:
        result = gb.obj._constructor(dtype=np.float64)
    result.name = gb.obj.name
    return result


def assemble_frame_transform(gb: Any, applied: list[pd.DataFrame]) -> pd.DataFrame:
    """``DataFrameGroupBy.transform``'s result from the kept results of the groups that are
    not empty, in group order."""
    columns = gb._obj_with_exclusions.columns
    if PANDAS_3:
        concatenated = pd.concat(applied, axis=0, verify_integrity=False, ignore_index=True)
        concatenated = concatenated.reindex(columns, axis=1)
    else:
        concatenated = pd.concat(applied, axis=0, verify_integrity=False)
        concatenated = concatenated.reindex(columns, axis=1, copy=False)
    return gb._set_result_index_ordered(concatenated)


# --------------------------------------------------------------------------------------------
# filter


def frame_filter_keeps(res: Any) -> bool:
    """pandas' reading of a group's result in ``DataFrameGroupBy.filter``."""
    try:
        res = res.squeeze()
    except AttributeError:  # allow e.g., scalars and frames to pass
        pass
    if is_bool(res) or (is_scalar(res) and pd.isna(res)):
        return bool(pd.notna(res) and res)
    raise TypeError(f"filter function returned a {type(res).__name__}, "
                    "but expected a scalar bool")


def series_filter_keeps(func: Callable[[Any], Any], group: pd.Series) -> bool:
    """``func(group)`` read as ``SeriesGroupBy.filter`` reads it (an error of the function is
    pandas' TypeError too)."""
    try:
        res = func(group)
        return bool(pd.notna(res) and res)
    except (ValueError, TypeError) as err:
        raise TypeError("the filter must return a boolean result") from err


def assemble_filter(gb: Any, keys: Sequence[Hashable], keeps: Sequence[bool],
                    dropna: bool) -> Any:
    """``filter``'s result from whether each group (of ``keys``) is kept."""
    indices = [gb._get_index(key) for key, keep in zip(keys, keeps) if keep]
    return gb._apply_filter(indices, dropna)


# --------------------------------------------------------------------------------------------
# agg


def agg_calls(gb: Any, more_arguments: bool) -> str | None:
    """How ``gb.agg(func)`` calls a Python function: ``"columns"`` (each column's slice of
    each group, column after column), ``"groups"`` (each group's frame, pandas 2.2 with
    ``args`` on a single key), ``"series"`` (each group of a Series), or None when pandas
    takes another way (then it runs as it is)."""
    if is_series_groupby(gb):
        return "series"
    if not PANDAS_3:
        if getattr(gb, "axis", 0) == 1:
            return None
        if gb._grouper.nkeys == 1 and more_arguments:
            return "groups"
    return "columns"


# --------------------------------------------------------------------------------------------
# resample


def resample_handles_callables(r: Any) -> bool:
    """Whether ``r.agg(func)`` with a Python function is pandas' groupby over the bins."""
    from pandas.core.resample import Resampler

    return type(r)._groupby_and_aggregate is Resampler._groupby_and_aggregate \
        and type(r).aggregate is Resampler.aggregate


def resample_groupby(r: Any) -> Any:
    """The groupby over the bins that ``r.agg(func)`` aggregates."""
    from pandas.core.groupby.groupby import get_groupby

    extra = {} if PANDAS_3 else {"axis": r.axis}
    return get_groupby(r._obj_with_exclusions, by=None, grouper=r._grouper,
                       group_keys=r.group_keys, **extra)


def falls_back_to_apply(err: Exception) -> bool:
    """Whether pandas answers this exception of the aggregation with ``apply``."""
    if isinstance(err, (AttributeError, KeyError)):
        return True
    return isinstance(err, ValueError) and "Must produce aggregated value" in str(err)


def resample_include_groups(r: Any) -> dict[str, Any]:
    """The ``include_groups`` pandas 2.2 passes to ``apply`` for a resample."""
    return {} if PANDAS_3 else {"include_groups": r.include_groups}


def wrap_resample_result(r: Any, result: Any) -> Any:
    return r._wrap_result(result)


def agg_replaces_func(func: Any, more_arguments: bool) -> bool:
    """pandas 2.2 runs numpy's and Python's sum, mean, ... as its own aggregation (and, with
    or without arguments, as its own transform)."""
    if PANDAS_3 or more_arguments:
        return False
    from pandas.core import common as com

    try:
        return com.get_cython_func(func) is not None
    except TypeError:  # unhashable callables
        return False


def agg_retries_on_key_error(gb: Any, calls: str) -> bool:
    """pandas 2.2 answers a KeyError of a single key's aggregation by calling the function
    again on each group with its key pinned (deprecated)."""
    return not PANDAS_3 and calls != "groups" and gb._grouper.nkeys == 1
