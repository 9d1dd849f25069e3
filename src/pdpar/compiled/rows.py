"""Compiled ``DataFrame.apply`` over rows: raw rows (``raw=True``: the frame's array) and rows
of named fields (``row["a"]``, ``row.a``, ``row.name``: a record array of the columns the
function names)."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd

from .. import _pandas
from ..options import Options
from ..work import Unfinished
from . import (
    Declined,
    Disagree,
    Part,
    attempt,
    compile_for,
    function_of,
    labelled_head,
    loops,
    python_scalar_dtype,
    run_parts,
    same,
    scalar_args,
)

__all__ = ["raw_rows", "named_rows", "named_fields", "record"]


def raw_rows(units: np.ndarray, first: np.ndarray, func: Any, args: tuple,
             kwargs: dict[str, Any], unit: str, labels: pd.Index,
             options: Options) -> np.ndarray | None:
    """``np.apply_along_axis`` over the rows of ``units`` (one unit per row) with the compiled
    ``func``: the array of every unit's result, ``first`` being pandas' own result for unit 0
    (its dtype and shape are those numpy gives the whole result). None when declined, or
    when the compiled function disagreed with pandas on unit 0 (the caller goes on from the
    unit it ran)."""
    n = len(units)

    def run() -> np.ndarray:
        f = function_of(func)
        extra = scalar_args(args, kwargs)
        if units.dtype.kind not in "biufc" or first.ndim > 1:
            raise Declined(f"jit compiles raw rows of numbers into numbers or 1-D arrays; the "
                           f"frame's array holds {units.dtype}" if units.dtype.kind not in
                           "biufc" else "the function returns arrays of more than one axis")
        compiled = compile_for(options, "raw rows", n, f, "numpy")
        before = compiled.seconds
        spec, value = loops.value_on(compiled, loops.result_spec(compiled, units[0], extra),
                                   units[0], extra)
        # the same dtype, not one numpy would cast: numba promotes a Python number with a
        # float32 to float64, where numpy keeps float32, and the last bits would differ
        if spec.dtype != first.dtype or (spec.length is None) != (first.ndim == 0) \
                or not same(value, first, first.dtype):
            raise Disagree(None)
        out = np.empty((n, *first.shape), first.dtype)
        out[0] = first
        skip = np.zeros(0, np.bool_)
        loop = loops.prepare_loop(compiled, f"units {spec.per_unit}", units, skip, out, extra)
        what = "row" if unit == "rows" else "column"
        run_parts(unit, [Part(loop, (units, skip), out, extra, labels, what, n)], 1, options,
                  compiled.seconds - before)
        return out

    outcome = attempt(options, unit, n, run)
    return None if isinstance(outcome, Unfinished) else outcome


def named_fields(frame: pd.DataFrame, func: Any, extra_name: Hashable | None = None,
            what: str = "row") -> list[Hashable]:
    """The columns of ``frame`` the function names (``x["a"]`` or ``x.a``)."""
    if not all(isinstance(c, str) for c in frame.columns):
        raise Declined("jit reads columns by name, and the column labels are not all str")
    if not frame.columns.is_unique:
        raise Declined("jit reads columns by name, and the column labels repeat")
    named = loops.used_names(func)
    fields = [c for c in frame.columns if c in named]
    attributes = loops.attribute_names(func)
    shadowed = [c for c in fields if c in attributes and hasattr(pd.Series, c)
                and c != extra_name]
    if shadowed:
        raise Declined(f"column {shadowed[0]!r} has the name of a pandas attribute, which "
                       f"{what}.{shadowed[0]} means in pandas")
    for c in fields:
        dtype = frame[c].dtype
        if not isinstance(dtype, np.dtype) or dtype.kind not in "biufc":
            raise Declined(f"column {c!r} has dtype {dtype}, which jit does not compile "
                           "(numbers and booleans only; str, object, category, datetime, "
                           "nullable and Arrow columns are declined)")
    return fields


def record(columns: dict[str, np.ndarray], n: int) -> np.ndarray:
    """A record array with one field per column, in a fresh row-major buffer."""
    rec = np.empty(n, dtype=[(name, values.dtype) for name, values in columns.items()])
    for name, values in columns.items():
        rec[name] = values
    return rec


def named_rows(df: pd.DataFrame, func: Any, result_type: Any, args: tuple,
               kwargs: dict[str, Any], options: Options) -> Any:
    """``df.apply(func, axis=1)`` for a function of named fields (``row["a"]``, ``row.a``,
    ``row.name``), compiled over a record array of the columns it names. None when declined;
    an :class:`~pdpar.work.Unfinished` when it disagreed with pandas on the first row."""
    n = len(df)

    def run() -> Any:
        f = function_of(func)
        extra = scalar_args(args, kwargs)
        uses_name = "name" in loops.attribute_names(f)
        if uses_name and "name" in df.columns:
            raise Declined("row.name is the row's label in pandas, and a column is also "
                           "called 'name'")
        fields = named_fields(df, f, "name" if uses_name else None)
        interleaved = _pandas.interleaved_dtype(df)
        numeric_rows = isinstance(interleaved, np.dtype) and interleaved.kind in "biufc"
        columns: dict[str, np.ndarray] = {}
        for c in fields:
            values = df[c].to_numpy()
            # pandas' row is one array of the frame's common dtype: numbers of that dtype,
            # or Python scalars when the frame also holds non-numeric columns
            dtype = interleaved if numeric_rows else python_scalar_dtype(values.dtype, values)
            columns[str(c)] = values.astype(dtype, copy=False)
        if uses_name:
            index = df.index
            if not isinstance(index.dtype, np.dtype) or index.dtype.kind not in "iuf":
                raise Declined(f"row.name is a label of dtype {index.dtype}, which jit does "
                               "not compile (int or float labels only)")
            columns["name"] = index.to_numpy()
        if not columns:
            raise Declined("the function names no column of the frame (jit passes each row "
                           "as a record: row['a'] or row.a; Series methods such as "
                           "row.sum() do not compile)")
        rec = record(columns, n)
        compiled = compile_for(options, "rows", n, f, "numpy" if numeric_rows else "python")
        before = compiled.seconds
        spec = loops.result_spec(compiled, rec[0], extra)
        with labelled_head("row", "rows", df.index[0]):
            head = _pandas.DataFrame_apply(df.iloc[:1], f, axis=1, result_type=result_type,
                                           args=args)
        spec, value = loops.value_on(compiled, spec, rec[0], extra)
        if spec.length is None:
            if not isinstance(head, pd.Series) or head.dtype != spec.dtype \
                    or not same(value, head.iloc[0], spec.dtype):
                raise Disagree([head.iloc[0]] if isinstance(head, pd.Series) else None)
            out = np.empty(n, spec.dtype)
            out[0] = head.iloc[0]
        else:
            if result_type != "expand":
                raise Declined("the function returns a sequence: jit builds columns from it "
                               "with result_type='expand' only")
            if not isinstance(head, pd.DataFrame) or head.shape[1] != spec.length \
                    or any(d != spec.dtype for d in head.dtypes) \
                    or not same(value, head.iloc[0].to_numpy(), spec.dtype):
                raise Disagree(None)
            out = np.empty((n, spec.length), spec.dtype)
            out[0] = head.iloc[0].to_numpy()
        skip = np.zeros(0, np.bool_)
        loop = loops.prepare_loop(compiled, f"units {spec.per_unit}", rec, skip, out, extra)
        run_parts("rows", [Part(loop, (rec, skip), out, extra, df.index, "row", n)], 1, options,
                  compiled.seconds - before)
        return _pandas.wrap_compiled_rows(df, out)

    return attempt(options, "rows", n, run)
