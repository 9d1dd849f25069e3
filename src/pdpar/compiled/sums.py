"""Sums and means of arrays, added in numpy's order, to the last bit.

numpy adds a float64 array pairwise (numpy/_core/src/umath/loops_utils.h.src): eight running
sums in blocks of at most 128 elements, and above that the sum of the two halves. numba adds
one element after another, and the last bits differ from about a dozen elements on. An int or
bool array's mean is numpy's sum of float64 copies made in buffers of ``np.getbufsize()``
elements (8,192), each buffer added pairwise and the buffers one after another. Sums of ints and
bools are exact in any order. Other dtypes (float32, complex) are refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import types
from numba.extending import overload, register_jitable

from .exact import Inexact, float64_vector

__all__ = ["array_sum", "array_mean"]


def array_sum(a: Any) -> Any:
    """``a.sum()``, ``np.sum(a)``."""
    raise NotImplementedError("compiled only")


def array_mean(a: Any) -> Any:
    """``a.mean()``, ``np.mean(a)``."""
    raise NotImplementedError("compiled only")


@register_jitable
def _block_sum(a: Any, start: int, n: int) -> float:
    """numpy's sum of at most 128 elements: one after another below 8, else eight running
    sums, combined in pairs, and the rest one after another."""
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[start + i]
        return res
    r0, r1, r2, r3 = a[start], a[start + 1], a[start + 2], a[start + 3]
    r4, r5, r6, r7 = a[start + 4], a[start + 5], a[start + 6], a[start + 7]
    i = 8
    while i < n - n % 8:
        j = start + i
        r0 += a[j]
        r1 += a[j + 1]
        r2 += a[j + 2]
        r3 += a[j + 3]
        r4 += a[j + 4]
        r5 += a[j + 5]
        r6 += a[j + 6]
        r7 += a[j + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[start + i]
        i += 1
    return res


@register_jitable
def _pairwise(a: Any) -> float:
    """numpy's pairwise sum (numpy/_core/src/umath/loops_utils.h.src) with the same additions
    in the same order: blocks of at most 128 (:func:`_block_sum`), and above that the sum of
    the two halves (the first a multiple of 8), the first half first. numpy recurses; this
    walks the same tree with a stack of tasks: (start, n), or n = -1 to add the last two sums
    found."""
    tasks = np.empty((256, 2), np.int64)
    sums = np.empty(128, np.float64)
    tasks[0, 0], tasks[0, 1] = 0, a.shape[0]
    n_tasks, n_sums = 1, 0
    while n_tasks:
        n_tasks -= 1
        start, n = tasks[n_tasks, 0], tasks[n_tasks, 1]
        if n == -1:
            n_sums -= 1
            sums[n_sums - 1] = sums[n_sums - 1] + sums[n_sums]
        elif n <= 128:
            sums[n_sums] = _block_sum(a, start, n)
            n_sums += 1
        else:
            half = n // 2
            half -= half % 8
            tasks[n_tasks, 0], tasks[n_tasks, 1] = 0, -1
            tasks[n_tasks + 1, 0], tasks[n_tasks + 1, 1] = start + half, n - half
            tasks[n_tasks + 2, 0], tasks[n_tasks + 2, 1] = start, half
            n_tasks += 3
    return sums[0] if n_sums else 0.0


def _sum_refused(a: Any, what: str) -> Inexact:
    return Inexact(f"{what} of {a} is not compiled: numpy adds it in an order of its own; "
                   "those of 1-d arrays of float64, int and bool are")


@overload(array_sum)
def _array_sum(a):  # type: ignore[no-untyped-def]
    if float64_vector(a):
        return lambda a: _pairwise(a)
    if isinstance(a, types.Array) and isinstance(a.dtype, (types.Integer, types.Boolean)):
        return lambda a: a.sum()  # exact in any order
    raise _sum_refused(a, "the sum")


@overload(array_mean)
def _array_mean(a):  # type: ignore[no-untyped-def]
    if float64_vector(a):
        return lambda a: _pairwise(a) / a.shape[0]
    if isinstance(a, types.Array) and a.ndim == 1 \
            and isinstance(a.dtype, (types.Integer, types.Boolean)):
        size = np.getbufsize()

        def int_mean(a):  # type: ignore[no-untyped-def]
            # numpy casts to float64 in buffers of np.getbufsize() elements, sums each
            # pairwise and adds the buffers' sums one after another
            total = 0.0
            for start in range(0, a.shape[0], size):
                total += _pairwise(a[start:start + size].astype(np.float64))
            return total / a.shape[0]
        return int_mean
    raise _sum_refused(a, "the mean")
