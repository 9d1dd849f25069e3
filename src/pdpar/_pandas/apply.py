"""pandas' private API for ``DataFrame.apply``, ``DataFrame.map``, ``Series.map`` and
``Series.apply``: pandas' own apply object and its assembly, the values pandas passes to a
mapped function, and the wrapping of compiled results."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pandas.core.apply import frame_apply as _frame_apply
from pandas.core.dtypes.common import is_sequence

from .methods import PANDAS_3
from .results import link_identical_indexes

__all__ = ["frame_apply_op", "wrap_frame_results", "wrap_broadcast_results", "elements_as_mapped",
           "frame_elements_as_mapped", "raw_result", "wrap_raw_results", "interleaved_dtype",
           "wrap_compiled_rows", "wrap_mapped", "wrap_frame_map"]


def frame_apply_op(df: pd.DataFrame, func: Any, axis: Any, raw: bool, result_type: Any,
                   by_row: Any, args: tuple, kwargs: dict) -> Any:
    """pandas' own apply object for ``df.apply(func, ...)``.

    Building it validates ``axis`` and ``result_type`` exactly as pandas does, and it knows how
    to assemble per-row or per-column results (:func:`wrap_frame_results`).
    """
    return _frame_apply(df, func=func, axis=axis, raw=raw, result_type=result_type,
                        by_row=by_row, engine="python", engine_kwargs=None,
                        args=args, kwargs=kwargs)


def wrap_broadcast_results(op: Any, results: list[Any]) -> pd.DataFrame:
    """What ``df.apply(func, result_type="broadcast")`` returns for the results of every row
    or column, in order: pandas' own loop (``FrameApply.apply_broadcast``, the same in pandas
    2.2 and 3), with each result taken from ``results`` instead of from a call to the function,
    and its checks (raising pandas' own ValueError where a result does not fit)."""
    obj = op.obj
    target = obj if int(op.axis) == 0 else obj.T
    values = np.empty_like(target.values)
    length = target.shape[0]
    for i, result in enumerate(results):
        dims = np.asarray(result).ndim
        if dims > 1:
            raise ValueError("too many dims to broadcast")
        if dims == 1 and length != len(result):
            raise ValueError("cannot broadcast result")
        values[:, i] = result
    out = obj._constructor(values, index=target.index, columns=target.columns)
    if int(op.axis) == 1:
        out = out.T
    return out.__finalize__(obj, method="apply")


def wrap_frame_results(op: Any, results: list[Any]) -> pd.DataFrame | pd.Series:
    """Assemble the per-unit results, in order, into what ``df.apply`` returns, by pandas' own
    rules.

    pandas' ``FrameApply.wrap_results`` takes ``{position: result}``; when the first result is
    not a sequence, it makes ``Series(list(results.values()), index=positions)`` and then gives
    it the result's index. That is ``Series(results, index=result_index)``, made here without
    the dict and the index of positions (a fifth of the time, for scalar results).
    """
    link_identical_indexes(results)
    if results and not is_sequence(results[0]) and op.obj._constructor_sliced is pd.Series:
        out = pd.Series(results, index=op.result_index)
    else:
        out = op.wrap_results(dict(enumerate(results)), op.result_index)
    return out.__finalize__(op.obj, method="apply")


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
