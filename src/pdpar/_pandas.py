"""The one place where pdpar touches pandas' private API, and the real pandas methods.

pandas decides a result's shape, dtypes and index only after it has seen every per-row or
per-group result. pdpar computes those results in chunks and then hands the whole ordered
collection to the same pandas code that would have assembled it, so the result is pandas' own.
The pieces of pandas used for that are private, so they are reached only through this module,
which is tested on every supported pandas version (2.2 and 3.x).

The real methods are captured at import: pdpar calls these, never the attributes on the
classes, so a program (or pdpar's conformance tests) that reroutes ``DataFrame.apply`` through
pdpar cannot make pdpar call itself.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas._libs import lib
from pandas.core.apply import frame_apply as _frame_apply
from pandas.core.groupby.ops import _is_indexed_like
from pandas.core.indexes.api import all_indexes_same
from pandas.core.internals import SingleBlockManager

__all__ = [
    "PANDAS_3",
    "DataFrame_apply",
    "DataFrame_map",
    "DataFrame_groupby",
    "Series_apply",
    "Series_map",
    "Series_groupby",
    "frame_apply_op",
    "wrap_frame_results",
    "GroupSplit",
    "split_groups",
    "group_data",
    "is_indexed_like",
    "wrap_group_results",
]

PANDAS_3 = int(pd.__version__.split(".", 1)[0]) >= 3

DataFrame_apply = pd.DataFrame.apply
DataFrame_map = pd.DataFrame.map
DataFrame_groupby = pd.DataFrame.groupby
Series_apply = pd.Series.apply
Series_map = pd.Series.map
Series_groupby = pd.Series.groupby


def all_strings(values: np.ndarray) -> bool:
    """True if every element of the 1-D object array ``values`` is a ``str`` (no None, NaN)."""
    return bool(lib.is_string_array(values, skipna=False))


def given(value: Any) -> bool:
    """False for pandas' marker of an argument left at its default."""
    return value is not None and value is not pd.api.extensions.no_default


# --------------------------------------------------------------------------------------------
# DataFrame.apply


def frame_apply_op(df: pd.DataFrame, func: Any, axis: Any, raw: bool, result_type: Any,
                   by_row: Any, args: tuple, kwargs: dict) -> Any:
    """pandas' own apply object for ``df.apply(func, ...)``.

    Building it validates ``axis`` and ``result_type`` exactly as pandas does, and it knows how
    to assemble per-row or per-column results (:func:`wrap_frame_results`).
    """
    return _frame_apply(df, func=func, axis=axis, raw=raw, result_type=result_type,
                        by_row=by_row, engine="python", engine_kwargs=None,
                        args=args, kwargs=kwargs)


def wrap_frame_results(op: Any, results: dict[int, Any]) -> pd.DataFrame | pd.Series:
    """Assemble ``{position: result}`` into what ``df.apply`` returns, by pandas' own rules."""
    link_identical_indexes(list(results.values()))
    return op.wrap_results(results, op.result_index).__finalize__(op.obj, method="apply")


# --------------------------------------------------------------------------------------------
# the stand-in for the user's function when pandas finishes a call (pdpar.kinds.replay)


def switching_standin(func: Any, args: tuple) -> functools.partial:
    """``functools.partial(func, *args)``, which :func:`switch_standin` can make another
    function in place, even after pandas took it.

    pandas binds extra arguments (``args=``, keyword arguments) with
    ``functools.partial(f, *args, **kwargs)``, and CPython copies the target of a plain partial
    into the new one, so that changing it afterwards would not reach the copy pandas calls. A
    partial with an attribute is kept as it is. A partial is called at C speed, so a stand-in
    that only hands back recorded results costs little more than pandas' own loop.
    """
    standin = functools.partial(next, iter(()))
    standin.pdpar_replay = True  # type: ignore[attr-defined]
    switch_standin(standin, func, args)
    return standin


def switch_standin(standin: functools.partial, func: Any, args: tuple) -> None:
    """Make ``standin`` call ``func(*args, ...)`` from now on."""
    standin.__setstate__((func, args, None, standin.__dict__))  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------
# Series.map, Series.apply, DataFrame.map


def _converted_before_mapping(values: Any) -> bool:
    # pandas 2.2 maps nullable and numeric Arrow arrays through ``to_numpy()`` of the whole
    # array: one missing value anywhere turns every element passed to the function into float
    if PANDAS_3:
        return False
    from pandas.core.arrays import ArrowExtensionArray, BaseMaskedArray

    if isinstance(values, BaseMaskedArray):
        return True
    return isinstance(values, ArrowExtensionArray) and pd.api.types.is_numeric_dtype(values.dtype)


def elements_as_mapped(s: pd.Series) -> pd.Series:
    """``s`` holding the very values pandas passes to a mapped function, ready to chunk."""
    if _converted_before_mapping(s.array):
        return pd.Series(s.array.to_numpy(), index=s.index, name=s.name, copy=False)
    return s


def frame_elements_as_mapped(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with each column holding the values ``DataFrame.map`` passes to the function."""
    if not any(_converted_before_mapping(df.iloc[:, j].array) for j in range(df.shape[1])):
        return df
    columns = {j: elements_as_mapped(df.iloc[:, j]) for j in range(df.shape[1])}
    out = pd.DataFrame(columns, index=df.index)
    out.columns = df.columns
    return out


# --------------------------------------------------------------------------------------------
# groupby(...).apply


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


def raw_result(result: Any) -> Any:
    """What pandas' raw apply makes of a function's result before numpy stores it: a str
    becomes a 0-d object array (pandas works around a numpy issue that way)."""
    return np.array(result, dtype=object) if isinstance(result, str) else result


def wrap_raw_results(op: Any, result: np.ndarray) -> pd.DataFrame | pd.Series:
    """What ``df.apply(func, raw=True)`` returns for the array ``np.apply_along_axis`` made.

    The end of pandas' ``FrameApply.apply_raw`` (the same in pandas 2.2 and 3), and the
    ``__finalize__`` of ``DataFrame.apply``.
    """
    if result.ndim == 2:
        out = op.obj._constructor(result, index=op.index, columns=op.columns)
    else:
        out = op.obj._constructor_sliced(result, index=op.agg_axis)
    return out.__finalize__(op.obj, method="apply")


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



# --------------------------------------------------------------------------------------------
# the compiled path


def interleaved_dtype(df: pd.DataFrame) -> Any:
    """The dtype of the one array pandas makes of a frame's rows (``df.values``)."""
    from pandas.core.dtypes.cast import find_common_type

    return find_common_type(list(df.dtypes)) if df.shape[1] else np.dtype(object)


def wrap_compiled_rows(df: pd.DataFrame, out: np.ndarray) -> pd.DataFrame | pd.Series:
    """What ``df.apply(func, axis=1)`` returns for the array of the rows' results (one value
    per row, or a row of values for ``result_type="expand"``)."""
    if out.ndim == 2:
        return pd.DataFrame(out, index=df.index).__finalize__(df, method="apply")
    return pd.Series(out, index=df.index).__finalize__(df, method="apply")


def wrap_mapped(s: pd.Series, values: np.ndarray, method: str) -> pd.Series:
    """What ``s.map(func)`` (``method="map"``) or ``s.apply(func)`` returns for the array of
    the function's results."""
    return s._constructor(values, index=s.index, copy=False).__finalize__(s, method=method)


def wrap_frame_map(df: pd.DataFrame, columns: list[np.ndarray]) -> pd.DataFrame:
    """What ``df.map(func)`` returns for the arrays of each column's results."""
    out = pd.DataFrame(dict(enumerate(columns)), index=df.index, copy=False)
    out.columns = df.columns
    return out.__finalize__(df, method="apply").__finalize__(df, method="map")
