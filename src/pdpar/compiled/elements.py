"""Compiled ``Series.map``, ``Series.apply`` and ``DataFrame.map``: the function on each
element, as the number pandas would pass it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .. import _pandas
from ..options import Options
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

__all__ = ["map_series", "map_frame"]


def element_values(s: pd.Series) -> np.ndarray:
    dtype = s.dtype
    if not isinstance(dtype, np.dtype) or dtype.kind not in "biufc":
        raise Declined(f"jit compiles numbers and booleans; the elements have dtype {dtype} "
                       "(str, object, category, datetime, nullable and Arrow data are "
                       "declined)")
    values = s.to_numpy()
    return values.astype(python_scalar_dtype(dtype, values), copy=False)


def map_series(s: pd.Series, func: Any, na_action: Any, args: tuple, kwargs: dict[str, Any],
               method: str, options: Options) -> Any:
    """``s.map(func, na_action=...)`` or ``s.apply(func, args=...)`` compiled. None when
    declined; an :class:`~pdpar.work.Unfinished` when it disagreed with pandas on the first
    element."""
    n = len(s)

    def run() -> Any:
        f = function_of(func)
        extra = scalar_args(args, kwargs)
        values = element_values(s)
        skip = np.isnan(values) if na_action == "ignore" and values.dtype.kind in "fc" \
            else np.zeros(0, np.bool_)
        first = int(np.argmin(skip)) if skip.size else 0
        if skip.size and skip[first]:
            raise Declined("every element is missing")
        compiled = compile_for(options, "elements", n, f, "python")
        before = compiled.seconds
        spec = loops.result_spec(compiled, values[first], extra)
        if spec.length is not None:
            raise Declined("the function returns a sequence; jit maps elements to numbers")
        piece = s.iloc[first:first + 1]
        with labelled_head("element", "elements", s.index[first], first):
            head = _pandas.Series_map(piece, f, na_action=na_action) if method == "map" \
                else _pandas.Series_apply(piece, f, args=args)
        spec, value = loops.value_on(compiled, spec, values[first], extra)
        if head.dtype != spec.dtype or not same(value, head.iloc[0], spec.dtype):
            raise Disagree([head.iloc[0]])
        dtype = spec.dtype
        if skip.any():
            if dtype.kind == "b":
                raise Declined("booleans with missing values left out make an object result")
            dtype = np.result_type(dtype, np.float64)
        out = np.full(n, np.nan, dtype) if skip.any() else np.empty(n, dtype)
        out[first] = head.iloc[0]
        loop = loops.prepare_loop(compiled, "units scalar", values, skip, out, extra)
        run_parts("elements", [Part(loop, (values, skip), out, extra, s.index, "element", n)],
                  first + 1, options, compiled.seconds - before)
        return _pandas.wrap_mapped(s, out, method)

    return attempt(options, "elements", n, run)


def map_frame(df: pd.DataFrame, func: Any, na_action: Any, options: Options) -> Any:
    """``df.map(func, na_action=...)`` compiled, column by column. None when declined; a
    :class:`~pdpar.work.Unfinished` when it disagreed with pandas on the first element."""
    n_rows, n_columns = df.shape

    def run() -> Any:
        f = function_of(func)
        columns = [element_values(df.iloc[:, j]) for j in range(n_columns)]
        skips = [np.isnan(v) if na_action == "ignore" and v.dtype.kind in "fc"
                 else np.zeros(0, np.bool_) for v in columns]
        # the first element pandas passes to the function: the first one not left out
        starts = [int(np.argmin(skip)) if skip.size else 0 for skip in skips]
        j0 = next((j for j, (skip, at) in enumerate(zip(skips, starts))
                   if not (skip.size and skip[at])), None)
        if j0 is None:
            raise Declined("every element is missing")
        at0 = starts[j0]
        compiled = compile_for(options, "elements", df.size, f, "python")
        before = compiled.seconds
        specs: list[loops.ResultSpec | None] = []
        for values, skip, at in zip(columns, skips, starts):
            if skip.size and skip[at]:
                specs.append(None)
                continue
            spec = loops.result_spec(compiled, values[at], ())
            if spec.length is not None:
                raise Declined("the function returns a sequence; jit maps elements to numbers")
            specs.append(spec)
        with labelled_head(f"element in column {df.columns[j0]!r} of the row", "elements",
                           df.index[at0]):
            head = _pandas.DataFrame_map(df.iloc[at0:at0 + 1, j0:j0 + 1], f,
                                         na_action=na_action)
        spec0 = specs[j0]
        assert spec0 is not None
        spec0, value0 = loops.value_on(compiled, spec0, columns[j0][at0], ())
        if head.dtypes.iloc[0] != spec0.dtype or not same(value0, head.iat[0, 0],
                                                             spec0.dtype):
            raise Disagree([head.iat[0, 0]])
        outs = []
        for skip, found in zip(skips, specs):
            if found is None:  # every element missing and left out: pandas keeps them
                outs.append(np.full(n_rows, np.nan))
                continue
            dtype = found.dtype
            if dtype not in (np.dtype(np.float64), np.dtype(np.int64), np.dtype(np.bool_),
                             np.dtype(np.complex128)):
                raise Declined(f"the function returns {dtype}; pandas would infer another "
                               "dtype from the Python results")
            if skip.any():
                if dtype.kind == "b":
                    raise Declined("booleans with missing values left out make an object "
                                   "result")
                dtype = np.result_type(dtype, np.float64)
            outs.append(np.full(n_rows, np.nan, dtype) if skip.any() else np.empty(n_rows, dtype))
        outs[j0][at0] = head.iat[0, 0]
        parts = [Part(loops.prepare_loop(compiled, "units scalar", values, skip, out, ()),
                      (values, skip), out, (), df.index,
                      f"element in column {df.columns[j]!r} of the row", n_rows, j * n_rows)
                 for j, (values, skip, out) in enumerate(zip(columns, skips, outs))]
        # the columns before j0 are all missing, and so are column j0's elements before at0
        run_parts("elements", parts, j0 * n_rows + at0 + 1, options,
                  compiled.seconds - before)
        return _pandas.wrap_frame_map(df, outs)

    return attempt(options, "elements", df.size, run)
