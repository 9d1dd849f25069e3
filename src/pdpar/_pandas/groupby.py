"""pandas' private API for ``groupby(...).apply``: pandas' own split of a groupby, its
test of a transform, its assembly of per-group results, and what pandas 2.2 does differently."""

from __future__ import annotations

import contextlib
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas._libs import lib
from pandas.core.groupby.ops import _is_indexed_like
from pandas.core.indexes.api import all_indexes_same

from .methods import PANDAS_3
from .results import StackedRows, link_identical_indexes

__all__ = ["GroupSplit", "group_data", "split_groups", "group_slice", "is_indexed_like",
           "wrap_group_results", "groupby_replaces_func", "groups_columns",
           "group_mutation_allowed", "groupby_apply_emits_inclusion_warning",
           "groupby_include_groups_message"]


@dataclass
class GroupSplit:
    """A groupby's rows sorted by group, with each group's slice and key, in pandas' order."""

    sorted_data: pd.DataFrame | pd.Series
    starts: np.ndarray
    ends: np.ndarray
    keys: Sequence[Hashable]

    @property
    def ngroups(self) -> int:
        return len(self.keys)


def group_data(gb: Any, include_groups: bool) -> pd.DataFrame | pd.Series:
    """The object whose groups pandas passes to the function in ``gb.apply``."""
    return gb._selected_obj if include_groups else gb._obj_with_exclusions


def split_groups(gb: Any, data: pd.DataFrame | pd.Series) -> GroupSplit:
    """Split ``data`` the way ``gb.apply`` does: the same groups, keys and group order."""
    grouper = gb._grouper
    splitter = grouper._get_splitter(data)
    if PANDAS_3:
        keys = grouper.result_index
    else:
        keys = grouper.group_keys_seq
    ngroups = splitter.ngroups
    if ngroups:
        starts, ends = lib.generate_slices(splitter._slabels, ngroups)
    else:
        starts = ends = np.empty(0, dtype=np.intp)
    return GroupSplit(splitter._sorted_data, np.asarray(starts), np.asarray(ends), list(keys))


def group_slice(sorted_data: pd.DataFrame | pd.Series, start: int,
                end: int) -> pd.DataFrame | pd.Series:
    """One group, cut from the sorted rows as pandas' splitter cuts it.

    Unlike ``iloc``, this does not mark the group as a slice of another frame, so a function
    that assigns to its group behaves (and warns) as it does under plain pandas.
    """
    if isinstance(sorted_data, pd.Series):
        mgr = sorted_data._mgr.get_slice(slice(start, end))
        group = sorted_data._constructor_from_mgr(mgr, axes=mgr.axes)
        object.__setattr__(group, "_name", sorted_data.name)
    else:
        mgr = sorted_data._mgr.get_slice(slice(start, end), axis=1)
        group = sorted_data._constructor_from_mgr(mgr, axes=mgr.axes)
    return group.__finalize__(sorted_data, method="groupby")


def is_indexed_like(result: Any, group_axes: Sequence[pd.Index]) -> bool:
    """pandas' test of whether a group's result is indexed like the group (a transform)."""
    if PANDAS_3:
        return bool(_is_indexed_like(result, group_axes))
    return bool(_is_indexed_like(result, group_axes, 0))


def wrap_group_results(gb: Any, data: pd.DataFrame | pd.Series, values: list[Any],
                       mutated: bool) -> pd.DataFrame | pd.Series:
    """Assemble per-group results, in group order, into what ``gb.apply`` returns.

    ``values`` may hold :class:`StackedRows` for runs of Series results; they go to pandas'
    assembly of Series results as they are when every result shares one index (the only case
    in which pandas stacks them), and as the Series they stand for otherwise.
    """
    link_identical_indexes(values)
    if any(isinstance(v, StackedRows) for v in values):
        first = next((v for v in values if v is not None), None)
        if (isinstance(gb, pd.core.groupby.DataFrameGroupBy)
                and isinstance(first, (pd.Series, StackedRows))
                and all_indexes_same(v.index for v in values if v is not None)
                and all(v is not None for v in values)):
            first_series = first.first if isinstance(first, StackedRows) else first
            key_index = gb._grouper.result_index if gb.as_index else None
            return gb._wrap_applied_output_series(values, mutated, first_series, key_index,
                                                  False)
        values = [s for v in values
                  for s in (v.series() if isinstance(v, StackedRows) else [v])]
    return gb._wrap_applied_output(data, values, not_indexed_same=mutated, is_transform=False)


def groupby_replaces_func(func: Any) -> bool:
    """pandas 2.2 swaps builtins such as ``sum`` and ``max`` for numpy functions, and warns."""
    if PANDAS_3:
        return False
    from pandas.core import common as com

    try:
        return com.is_builtin_func(func) is not func
    except TypeError:  # unhashable callables
        return False


def groups_columns(gb: Any) -> bool:
    """pandas 2.2 can group columns (``axis=1``, deprecated); pdpar splits rows only."""
    return not PANDAS_3 and getattr(gb, "axis", 0) == 1


def group_mutation_allowed(with_groupings: bool) -> Any:
    """pandas 2.2 silences chained-assignment warnings while ``apply`` passes whole groups.

    The option is global, so it is set only where it differs (a worker process), never
    toggled concurrently by threads of one process.
    """
    if PANDAS_3 or not with_groupings or pd.get_option("mode.chained_assignment") is None:
        return contextlib.nullcontext()
    return pd.option_context("mode.chained_assignment", None)


def groupby_apply_emits_inclusion_warning(gb: Any) -> bool:
    """pandas 2.2 warns when ``apply`` passes the grouping columns to the function."""
    return (not PANDAS_3 and not isinstance(gb.obj, pd.Series) and gb._selection is None
            and gb._selected_obj.shape != gb._obj_with_exclusions.shape)


def groupby_include_groups_message(gb: Any) -> str:
    from pandas.core.groupby.groupby import _apply_groupings_depr

    return _apply_groupings_depr.format(type(gb).__name__, "apply")
