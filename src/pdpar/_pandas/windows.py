"""Rolling and expanding windows: what pandas' ``Rolling.apply`` and ``Expanding.apply``
(and their groupby forms) hand to the function, window by window, and how pandas assembles
the result.

pandas computes such a call column by column: it turns each column into float64
(``_prep_values``), asks the window indexer for every window's ``start`` and ``end`` row
(``get_window_bounds``), and calls its Cython loop ``roll_apply``, which calls the function on
each window holding at least ``min_periods`` numbers and writes NaN for the others. pdpar takes
the same columns and bounds (:func:`window_input`), runs that same loop on chunks of the
windows, each with only the rows its windows cover (:func:`apply_windows`), and gives the
outputs to pandas' own ``_apply`` (:func:`assemble_windows`), which builds the result: index,
``step``, the ``on`` column, the groupby MultiIndex.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas._libs.window import aggregations as _aggregations
from pandas.core.window import rolling as _rolling
from pandas.core.window.expanding import Expanding
from pandas.core.window.rolling import Rolling

__all__ = ["WindowInput", "window_input", "apply_windows", "assemble_windows",
           "called_windows", "is_window", "is_grouped_window", "Window_apply",
           "Window_apply_signature"]

#: The base of grouped windows (spelt ``BaseWindowGroupby`` before pandas 3).
_GROUPED = getattr(_rolling, "BaseWindowGroupBy", None) or _rolling.BaseWindowGroupby

#: pandas' own ``apply`` of rolling and expanding windows (the same signature), captured at
#: import.
Rolling_apply = Rolling.apply
Expanding_apply = Expanding.apply
#: The signature both have.
Window_apply_signature = Rolling_apply


def Window_apply(window: Any, *args: Any, **kwargs: Any) -> Any:
    """pandas' own ``window.apply(*args, **kwargs)``."""
    method = Expanding_apply if isinstance(window, Expanding) else Rolling_apply
    return method(window, *args, **kwargs)


def is_window(obj: Any) -> bool:
    """A rolling or expanding window (grouped or not): pandas' objects that have ``apply``."""
    return isinstance(obj, (Rolling, Expanding))


def is_grouped_window(obj: Any) -> bool:
    return isinstance(obj, _GROUPED)


def window_count(window: Any) -> int:
    """The windows a call of ``window.apply`` runs (groups, for a grouped window), as far as
    it is known before the call: 0 when pandas would reject the window."""
    try:
        if is_grouped_window(window):
            return int(window._grouper.ngroups)
        return len(range(0, len(window.obj), window.step or 1))
    except Exception:
        return 0


@dataclass
class WindowInput:
    """A window call's input as pandas' loop sees it.

    ``columns``: each column as float64, in pandas' order; ``names``: their names (None for a
    Series); ``on``: the index of the Series pandas passes the function (``raw=False``);
    ``start`` and ``end``: each window's rows; ``min_periods``; ``rows``: the label of each
    window's row, for messages; ``group_sizes`` and ``group_keys``: for a groupby, the windows
    of each group (they are consecutive) and its key; ``indexer``: pandas' window indexer,
    giving again the bounds it gave (:class:`_KnownBounds`).
    """

    columns: list[np.ndarray]
    names: list[Hashable]
    on: pd.Index
    start: np.ndarray
    end: np.ndarray
    min_periods: int
    rows: pd.Index
    group_sizes: np.ndarray | None = None
    group_keys: list[Hashable] | None = None
    indexer: Any = None


class _KnownBounds:
    """pandas' window indexer, answering the question it was asked again (the same number of
    rows) with the bounds it gave, instead of computing them once more: a groupby's indexer
    takes a Python step per group."""

    def __init__(self, indexer: Any, num_values: int, bounds: tuple[Any, Any]) -> None:
        self.indexer = indexer
        self.window_size = indexer.window_size
        self.num_values = num_values
        self.bounds = bounds

    def get_window_bounds(self, num_values: int = 0, *args: Any, **kwargs: Any) -> Any:
        if num_values == self.num_values:
            return self.bounds
        return self.indexer.get_window_bounds(num_values, *args, **kwargs)


def window_input(window: Any) -> WindowInput | str:
    """The input of ``window.apply(...)`` as pandas' loop sees it, or why pandas should run
    the call itself (then pandas raises what it raises, or has nothing to call)."""
    try:
        return _window_input(window)
    except Exception:  # pandas raises the same, its own way, when it runs the call
        return "pandas rejects the input"


def _window_input(window: Any) -> WindowInput | str:
    if window.method != "single":
        return "method='table' passes the whole frame: pandas runs it"
    if getattr(window, "axis", 0) not in (0, "index", "rows"):  # pandas 2 only
        return "windows across columns (axis=1) go to pandas directly"
    obj = window._create_data(window._selected_obj)
    frame = obj.ndim == 2
    if frame and obj.shape[1] == 0:
        return "no columns"
    if len(obj) == 0:
        return "empty input"
    try:
        if frame:
            columns = [window._prep_values(arr) for arr in obj._iter_column_arrays()]
            names = list(obj.columns)
        else:
            columns = [window._prep_values(obj._values)]
            names = [None]
    except (TypeError, NotImplementedError, ValueError):
        return "columns that are not numbers: pandas raises"
    indexer = window._get_window_indexer()
    min_periods = window.min_periods if window.min_periods is not None \
        else indexer.window_size
    bounds = indexer.get_window_bounds(num_values=len(obj), min_periods=min_periods,
                                       center=window.center, closed=window.closed,
                                       step=window.step)
    start, end = bounds
    window._check_window_bounds(start, end, len(obj))
    start = np.asarray(start, dtype=np.int64)
    end = np.asarray(end, dtype=np.int64)
    if len(start) and (start.min() < 0 or end.max() > len(obj)):
        return "windows reach outside the data: pandas runs them"
    rows = obj.index[::window.step or 1]
    out = WindowInput([np.ascontiguousarray(c) for c in columns], names, window._on,
                      start, end, int(min_periods), rows,
                      indexer=_KnownBounds(indexer, len(obj), bounds))
    if is_grouped_window(window):
        indices = window._grouper.indices
        out.group_sizes = np.array([len(v) for v in indices.values()], dtype=np.int64)
        out.group_keys = list(indices.keys())
        if int(out.group_sizes.sum()) != len(start):
            return "the groups do not cover the windows: pandas runs them"
    return out


def apply_windows(values: np.ndarray, on: pd.Index | None, start: np.ndarray,
                  end: np.ndarray, min_periods: int, func: Callable[..., Any], raw: bool,
                  args: tuple, kwargs: dict[str, Any]) -> np.ndarray:
    """pandas' own loop over the windows ``start``/``end`` of one column ``values`` (a float64
    array; ``on``, its index, for ``raw=False``): the function's result per window, NaN where
    the window holds fewer than ``min_periods`` numbers."""
    obj: Any = values if raw else pd.Series(values, index=on, copy=False)
    with np.errstate(all="ignore"):
        return _aggregations.roll_apply(obj, start, end, min_periods, function=func, raw=raw,
                                        args=args, kwargs=kwargs)


def called_windows(values: np.ndarray, start: np.ndarray, end: np.ndarray,
                   min_periods: int) -> np.ndarray:
    """The positions of the windows pandas' loop calls the function on: those holding at
    least ``min_periods`` numbers."""
    finite = np.concatenate(([0], np.cumsum(np.isfinite(values), dtype=np.int64)))
    return np.flatnonzero(finite[end] - finite[start] >= min_periods)


def assemble_windows(window: Any, outputs: list[np.ndarray], data: WindowInput) -> Any:
    """What ``window.apply`` returns when its loop gave ``outputs`` (one array per column):
    pandas' own assembly, from the same columns and the bounds of ``data``."""
    remaining = iter(outputs)

    def output(values: np.ndarray, start: Any, end: Any, min_periods: Any, *_: Any) -> Any:
        return next(remaining)

    window._get_window_indexer = lambda: data.indexer
    try:
        result = window._apply(output, name="apply")
    finally:
        vars(window).pop("_get_window_indexer", None)
    if next(remaining, None) is not None:
        raise RuntimeError("pdpar internal error: pandas assembled fewer columns than ran")
    return result
