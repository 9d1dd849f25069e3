"""Compiled ``rolling(...).apply(func, raw=True)`` and ``expanding(...).apply(func, raw=True)``:
the function gets each window as the float64 array pandas passes it.

The windows pandas' loop calls the function on (those holding at least ``min_periods``
numbers) are found first; a compiled loop calls the function on each of them, column by
column, and the others stay NaN, as in pandas. The first window runs through pandas' own loop
(the Python function), and the compiled function must give the same value on it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

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
    run_parts,
    same,
    scalar_args,
)

__all__ = ["apply_windows"]


def apply_windows(window: Any, data: _pandas.WindowInput, func: Any, args: tuple,
                  kwargs: dict[str, Any], unit: str, options: Options) -> Any:
    """``window.apply(func, raw=True, args=args)`` compiled; None when declined."""
    n_windows = len(data.start)

    def run() -> Any:
        f = function_of(func)
        extra = scalar_args(args, kwargs)
        called = [_pandas.called_windows(values, data.start, data.end, data.min_periods)
                  for values in data.columns]
        outputs = [np.full(n_windows, np.nan) for _ in data.columns]
        order = sorted(range(len(called)), key=lambda j: not len(called[j]))
        if not len(called[order[0]]):  # no window is called: all NaN, as in pandas
            return _pandas.assemble_windows(window, outputs, data)
        compiled = compile_for(options, "groups", n_windows, f, "numpy")
        before = compiled.seconds
        parts: list[tuple[int, np.ndarray, Part]] = []
        offset = 0
        for j in order:
            if not len(called[j]):
                continue
            values = data.columns[j]
            starts = np.ascontiguousarray(data.start[called[j]])
            ends = np.ascontiguousarray(data.end[called[j]])
            name = data.names[j]
            what = "window at the row" if name is None \
                else f"window of column {name!r} at the row"
            labels = _labels(data, called[j])
            if not parts:
                with labelled_head(what, unit, labels[0], int(called[j][0])):
                    first = _check_first(compiled, values, starts[0], ends[0],
                                         data.min_periods, f, extra)
            out = np.empty(len(starts), np.float64)
            loop = loops.prepare_loop(compiled, "groups scalar", values, starts, ends, out,
                                      extra)
            parts.append((j, out, Part(loop, (values, starts, ends), out, extra, labels, what,
                                       len(starts), offset)))
            offset += len(starts)
        parts[0][1][0] = first
        run_parts(unit, [part for _, _, part in parts], 1, options,
                  compiled.seconds - before)
        for j, out, _ in parts:
            outputs[j][called[j]] = out
        return _pandas.assemble_windows(window, outputs, data)

    return attempt(options, unit, n_windows, run)


def _check_first(compiled: loops.Compiled, values: np.ndarray, start: int, end: int,
                 min_periods: int, f: Any, extra: tuple) -> float:
    """pandas' result on the window ``values[start:end]``, checked against the compiled
    function's."""
    window = values[start:end]
    spec = loops.result_spec(compiled, window, extra)
    if spec.length is not None:
        raise Declined("the function returns an array; pandas needs one number per window")
    bounds = np.array([start], np.int64), np.array([end], np.int64)
    first = float(_pandas.apply_windows(values, None, *bounds, min_periods, f, True, extra,
                                        {})[0])
    _, value = loops.value_on(compiled, spec, window, extra)
    if not same(value, first, np.dtype(np.float64)):
        raise Disagree(None)
    return first


def _labels(data: _pandas.WindowInput, called: np.ndarray) -> Any:
    """The labels of the called windows: their rows, with the group's key for a groupby."""
    rows = data.rows[called]
    if data.group_sizes is None or data.group_keys is None:
        return rows
    edges = np.cumsum(data.group_sizes)
    groups = np.searchsorted(edges, called, side="right")
    return [(data.group_keys[g], row) for g, row in zip(groups, rows)]
