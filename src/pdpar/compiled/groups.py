"""Compiled ``groupby(...).apply``: the function gets each group as a record array of the
columns it names (``g["x"]``, ``g.x``), or as an array for a Series groupby."""

from __future__ import annotations

from collections.abc import Callable
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
    loops,
    run_parts,
    same,
    scalar_args,
)
from .rows import named_fields, record

__all__ = ["apply_groups"]


def apply_groups(gb: Any, data: pd.DataFrame | pd.Series, split: _pandas.GroupSplit,
                 func: Any, args: tuple, kwargs: dict[str, Any],
                 run_first: Callable[[], Any], options: Options) -> Any:
    """``gb.apply(func, *args)`` compiled: the function gets each group as a record array of
    the columns it names (``g["x"]``, ``g.x``), or as an array for a Series groupby, and
    returns a number or a fixed-length array. ``run_first()`` is pandas' result for the first
    group. None when declined; an :class:`~pdpar.work.Unfinished` when it disagreed with
    pandas."""
    ngroups = split.ngroups

    def run() -> Any:
        f = function_of(func)
        extra = scalar_args(args, kwargs)
        sorted_data = split.sorted_data
        if isinstance(sorted_data, pd.Series):
            dtype = sorted_data.dtype
            if not isinstance(dtype, np.dtype) or dtype.kind not in "biufc":
                raise Declined(f"the groups hold {dtype}, which jit does not compile")
            units: np.ndarray = sorted_data.to_numpy()
            _no_missing(units, sorted_data.name)
        else:
            named = named_fields(sorted_data, f, what="group")
            if not named:
                raise Declined("the function names no column of the groups (jit passes each "
                               "group as a record array: g['x'] or g.x are arrays; DataFrame "
                               "methods do not compile)")
            columns = {str(c): sorted_data[c].to_numpy() for c in named}
            for name, values in columns.items():
                _no_missing(values, name)
            units = record(columns, len(sorted_data))
        starts = np.ascontiguousarray(split.starts, dtype=np.int64)
        ends = np.ascontiguousarray(split.ends, dtype=np.int64)
        if np.any(ends == starts):
            raise Declined("some groups are empty (unobserved categories): pandas' reductions "
                           "give NaN on them, numpy's in compiled code raise")
        compiled = compile_for(options, "groups", ngroups, f, "numpy")
        before = compiled.seconds
        spec = loops.result_spec(compiled, units[starts[0]:ends[0]], extra)
        first = run_first()
        spec, value = loops.value_on(compiled, spec, units[starts[0]:ends[0]], extra)
        expected = np.asarray(first) if isinstance(first, (np.ndarray, np.generic, int,
                                                           float, bool, complex)) else None
        if expected is None or expected.dtype != spec.dtype \
                or (expected.ndim != 0) != (spec.length is not None) \
                or not same(value, expected, spec.dtype):
            raise Disagree([first])
        out = np.empty(ngroups if spec.length is None else (ngroups, spec.length), spec.dtype)
        loop = loops.prepare_loop(compiled, f"groups {spec.per_unit}", units, starts, ends, out,
                                extra)
        weights = (ends - starts).astype(np.float64)
        run_parts("groups", [Part(loop, (units, starts, ends), out, extra, split.keys, "group",
                                  ngroups)], 1, options, compiled.seconds - before, weights)
        values = [first, *(out[1:] if out.ndim == 1 else (row.copy() for row in out[1:]))]
        return _pandas.wrap_group_results(gb, data, values, True)

    return attempt(options, "groups", ngroups, run)


def _no_missing(values: np.ndarray, name: Any) -> None:
    if values.dtype.kind in "fc" and np.isnan(values).any():
        raise Declined(f"column {name!r} has missing values: pandas' reductions skip them, "
                       "numpy's in compiled code do not")
