"""Floats made ints as Python makes them: ``int(x)``, ``round(x)``, ``math.floor(x)``,
``math.ceil(x)`` and ``math.trunc(x)`` raise ValueError for NaN and OverflowError for an
infinity, as CPython does, where numba's conversion gives an undefined number. A float beyond
64-bit ints is a Python int compiled code cannot hold: a JitError says so.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import types
from numba.extending import overload, register_jitable

from ..errors import JitError
from .exact import Inexact

__all__ = ["python_int", "python_round", "math_floor", "math_ceil", "math_trunc"]


@register_jitable
def _integral(v: float) -> float:
    """``v`` (a whole number), once known to make an int of 64 bits; CPython's errors else."""
    if math.isnan(v):
        raise ValueError("cannot convert float NaN to integer")
    if math.isinf(v):
        raise OverflowError("cannot convert float infinity to integer")
    if not -9.223372036854775808e18 <= v < 9.223372036854775808e18:
        raise JitError("an int beyond 64 bits (Python ints have no limit): compiled code "
                       "cannot hold it")
    return v


def python_int(x: Any) -> Any:
    """``int(x)``."""
    raise NotImplementedError("compiled only")


def python_round(x: Any, ndigits: Any = None) -> Any:
    """``round(x)``, ``round(x, ndigits)``."""
    raise NotImplementedError("compiled only")


def math_floor(x: Any) -> Any:
    """``math.floor(x)``."""
    raise NotImplementedError("compiled only")


def math_ceil(x: Any) -> Any:
    """``math.ceil(x)``."""
    raise NotImplementedError("compiled only")


def math_trunc(x: Any) -> Any:
    """``math.trunc(x)``."""
    raise NotImplementedError("compiled only")


def _refused(x: Any, what: str) -> Inexact:
    return Inexact(f"{what} of {x} is not compiled")


@overload(python_int)
def _python_int(x):  # type: ignore[no-untyped-def]
    if isinstance(x, types.Float):
        return lambda x: int(_integral(np.trunc(x)))
    if isinstance(x, (types.Integer, types.Boolean)):
        return lambda x: int(x)
    raise _refused(x, "int()")


@overload(python_round)
def _python_round(x, ndigits=None):  # type: ignore[no-untyped-def]
    if isinstance(ndigits, (types.NoneType, types.Omitted)) or ndigits is None:
        if isinstance(x, types.Float):
            return lambda x, ndigits=None: round(_integral(x))
        if isinstance(x, (types.Integer, types.Boolean)):
            return lambda x, ndigits=None: round(x)
        raise _refused(x, "round()")
    return lambda x, ndigits=None: round(x, ndigits)


def _rounding(name: str, stub: Any) -> None:
    rounded = getattr(np, name)  # a float: numba's math.floor gives an int, even for NaN

    @overload(stub)
    def _overload(x):  # type: ignore[no-untyped-def]
        if isinstance(x, types.Float):
            return lambda x: int(_integral(rounded(x)))
        if isinstance(x, (types.Integer, types.Boolean)):
            return lambda x: int(x)
        raise _refused(x, f"math.{name}")


_rounding("floor", math_floor)
_rounding("ceil", math_ceil)
_rounding("trunc", math_trunc)
