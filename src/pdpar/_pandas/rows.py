"""The values and labels pandas' row Series give a function of rows (``df.apply(func,
axis=1)``), column by column, for the rows pdpar hands such a function without building a
Series per row (:mod:`pdpar.kinds.cheap`).

pandas builds one row Series and swaps its values row by row (``FrameColumnApply`` in
pandas/core/apply.py). When the row's dtype (the frame's interleaved dtype) is a numpy dtype,
the values are the rows of ``df.values``, with datetimes and timedeltas wrapped in pandas'
arrays, and the label is the frame's index iterated; ``row[label]`` is then an element of that
array. When it is an extension dtype, each row is an array of that dtype built from the row's
elements, and the label is ``df.index[i]``. Column by column, the same values are the columns
of ``df.values`` (numpy dtypes), or each element of the column's own array (extension dtypes
where every column has the row's dtype, and building the row keeps each element as it is:
:func:`columns_reason` says which).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionDtype
from pandas.core.construction import ensure_wrapped_if_datetimelike
from pandas.core.dtypes.dtypes import BaseMaskedDtype

from .methods import PANDAS_3

__all__ = ["row_dtype", "columns_reason", "row_columns", "row_names", "reads_attribute"]


def row_dtype(df: pd.DataFrame) -> Any:
    """The dtype of the row Series pandas passes the function (``df.iloc[0].dtype``)."""
    return df.iloc[0].dtype


def _arrow_kind(dtype: pd.ArrowDtype) -> bool:
    import pyarrow as pa

    t = dtype.pyarrow_dtype
    return bool(pa.types.is_integer(t) or pa.types.is_boolean(t) or pa.types.is_string(t)
                or pa.types.is_large_string(t) or (PANDAS_3 and pa.types.is_floating(t)))


def columns_reason(df: pd.DataFrame) -> str | None:
    """Why the values pandas' row Series hold cannot be taken column by column exactly
    (None: :func:`row_columns` gives them)."""
    dtype = row_dtype(df)
    if not isinstance(dtype, ExtensionDtype):
        return None
    if any(d != dtype for d in df.dtypes):
        return (f"the rows are of dtype {dtype}, which pandas builds from columns of other "
                "dtypes")
    if isinstance(dtype, BaseMaskedDtype):
        # pandas 2.2 builds a row from its elements, which makes a float NaN missing
        if dtype.kind in "iub" or PANDAS_3:
            return None
    elif isinstance(dtype, (pd.StringDtype, pd.CategoricalDtype, pd.DatetimeTZDtype)):
        return None
    elif isinstance(dtype, pd.ArrowDtype) and _arrow_kind(dtype):
        return None
    return f"the rows are of dtype {dtype}, whose values pdpar does not take column by column"


def _each(values: Any) -> list[Any]:
    return [values[i] for i in range(len(values))]


def row_columns(piece: pd.DataFrame, positions: Sequence[int]) -> list[list[Any]]:
    """For each column position, the values ``row.iloc[position]`` of each row of ``piece``
    in pandas' row Series (for a frame :func:`columns_reason` accepts)."""
    dtype = row_dtype(piece)
    if not isinstance(dtype, ExtensionDtype):
        values = ensure_wrapped_if_datetimelike(piece.values)
        if isinstance(values, np.ndarray):
            return [list(values[:, j]) for j in positions]
        return [_each(values[:, j]) for j in positions]  # datetimes or timedeltas
    out = []
    for j in positions:
        array = piece.iloc[:, j].array
        if isinstance(dtype, BaseMaskedDtype):
            column = list(array._data)
            na = dtype.na_value
            for i in np.flatnonzero(array._mask).tolist():
                column[i] = na
            out.append(column)
        else:
            out.append(_each(array))
    return out


def row_names(piece: pd.DataFrame) -> list[Hashable]:
    """The ``row.name`` of each row of ``piece`` in pandas' row Series."""
    if not isinstance(row_dtype(piece), ExtensionDtype):
        return list(piece.index)
    return _each(piece.index)


def reads_attribute(columns: pd.Index, name: str) -> bool:
    """Whether ``row.<name>`` reads the column ``name`` of a row Series with these columns
    (not a Series attribute or method, nor an attribute pandas keeps for itself)."""
    import inspect

    if name.startswith("_") or name not in columns:
        return False
    probe = pd.Series(np.arange(len(columns)), index=columns)
    try:
        inspect.getattr_static(probe, name)
        return False  # a Series attribute, method or property
    except AttributeError:
        pass
    try:
        value = getattr(probe, name)
    except AttributeError:
        return False
    return isinstance(value, np.integer) and int(value) == columns.get_loc(name)
