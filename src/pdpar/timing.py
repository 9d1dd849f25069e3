"""Timing, checking and reporting what the workloads (:mod:`pdpar.workloads`) run: the fastest
of some calls (:func:`timed`), exact comparison with pandas (:func:`assert_same`), seconds for
a reader (:func:`format_seconds`).

Like the workloads, this module imports only the standard library and pandas: ``benchmarks/``
loads it by its path, also where pdpar is not installed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pandas as pd

__all__ = ["timed", "assert_same", "format_seconds"]

T = TypeVar("T")


def timed(call: Callable[[], T], repeats: int = 1) -> tuple[T, float]:
    """The result of the last of ``repeats`` calls of ``call``, and the fastest call's seconds."""
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - start)
    return result, best


def assert_same(result: Any, expected: Any, rtol: float | None = None) -> None:
    """Raise AssertionError unless ``result`` is exactly ``expected`` (values, dtypes, index),
    or, given ``rtol``, equal but for floats within that relative tolerance."""
    close: dict[str, Any] = ({"check_exact": False, "rtol": rtol} if rtol
                             else {"check_exact": True})
    if isinstance(expected, pd.DataFrame):
        pd.testing.assert_frame_equal(result, expected, **close)
    else:
        pd.testing.assert_series_equal(result, expected, **close)


def format_seconds(value: float) -> str:
    """Seconds for a reader, with three or so figures: ``2.08 s``, ``61.1 ms``, ``608 us``."""
    if abs(value) >= 1:
        return f"{value:.2f} s"
    if abs(value) >= 1e-3:
        return f"{value * 1e3:.1f} ms"
    return f"{value * 1e6:.0f} us"
