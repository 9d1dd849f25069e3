"""What compiled code computes where numba and the interpreter part ways, made Python's and
numpy's to the last bit.

numba gives IEEE arithmetic (``+ - * /``, comparisons, ``abs``, ``min``, ``max``, ``%``,
``//``, ``round``) exactly as the interpreter does, and calls the C library's ``sin``, ``exp``,
``log10`` ... as CPython's ``math`` module does. The rest, the functions here:

- ``x ** y`` and ``pow``: numba multiplies for an integer exponent (``x * x`` for ``x ** 2``)
  and LLVM turns ``pow(x, 2.0)`` into ``x * x``, where CPython and numpy's scalars call the C
  library's ``pow``, which differs in the last bit now and then (48 of 100,000 random floats
  for ``x ** 2 + 1``). Compiled, they call that same ``pow``, through a pointer LLVM cannot
  see through, with Python's rules for Python numbers (``0.0 ** -1`` raises
  ZeroDivisionError, an overflow raises OverflowError) and numpy's for numpy numbers and
  arrays (numpy squares an array for ``** 2``, takes its square root for ``** 0.5``, its
  reciprocal for ``** -1``);
- ``math.sqrt``, ``math.log`` ...: CPython raises ValueError ("math domain error") or
  OverflowError ("math range error") where the C library returns nan or inf; compiled, they
  raise the same;
- ``a.sum()``, ``a.mean()``, ``np.sum(a)``, ``np.mean(a)``: numpy adds pairwise, numba one
  after another; compiled, they add as numpy does (:mod:`.sums`).

What cannot be made the same is refused (:class:`Inexact`): numpy's own SIMD code for
``np.sin``, ``np.exp`` ... on machines where it differs from the C library (checked here on
sample values, :func:`numpy_is_libm`), sums of other dtypes, variances and deviations, dot
products and linear algebra, and the few functions CPython or numba compute with code of their
own (``math.hypot``, ``math.gamma``, ``math.lgamma``, ``math.erf``, ``math.erfc``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import math
from typing import Any

import numpy as np
from numba import types
from numba.extending import overload, register_jitable

from ..errors import JitError

__all__ = ["Inexact", "python_pow", "numpy_pow", "math_pow", "ufunc_power", "number",
           "float64_vector",
           "MATH_CHECKED", "checked_math", "numpy_is_libm", "PROBED_NUMPY", "DECLINED"]


class Inexact(Exception):
    """The function uses something whose compiled result may differ from Python's or numpy's;
    the message says what."""


def _c_double_function(name: str, nargs: int) -> Any:
    """The C library's ``name`` (the one CPython and numpy call), callable from numba."""
    for library in (None, ctypes.util.find_library("m")):
        found = getattr(ctypes.CDLL(library), name, None)
        if found is not None:
            found.restype = ctypes.c_double
            found.argtypes = [ctypes.c_double] * nargs
            return found
    raise ImportError(f"the C library has no {name}")


_c_pow = _c_double_function("pow", 2)


# --- the functions the user's code is rewritten to call (numba compiles their overloads) ---

def python_pow(a: Any, b: Any) -> Any:
    """``a ** b`` as Python computes it on Python numbers."""
    raise NotImplementedError("compiled only")


def numpy_pow(a: Any, b: Any) -> Any:
    """``a ** b`` as numpy computes it on numpy numbers and arrays."""
    raise NotImplementedError("compiled only")


def math_pow(a: Any, b: Any) -> Any:
    """``math.pow(a, b)``."""
    raise NotImplementedError("compiled only")


def ufunc_power(a: Any, b: Any) -> Any:
    """``np.power(a, b)``."""
    raise NotImplementedError("compiled only")


@register_jitable
def _float_pow(iv: float, iw: float) -> float:
    """CPython's float ``**`` (Objects/floatobject.c: float_pow), on the C library's pow."""
    if iw == 0.0:
        return 1.0
    if math.isnan(iv) or math.isnan(iw) or math.isinf(iw) or math.isinf(iv):
        return _c_pow(iv, iw)  # C99 and CPython agree on these
    if iv == 0.0:
        if iw < 0.0:
            raise ZeroDivisionError("0.0 cannot be raised to a negative power")
        return iv if abs(iw) % 2.0 == 1.0 else 0.0
    negate = False
    if iv < 0.0:
        if iw != math.floor(iw):
            raise JitError("a negative number raised to a fractional power is a complex "
                           "number in Python; compiled code computes floats only")
        iv = -iv
        negate = abs(iw) % 2.0 == 1.0
    if iv == 1.0:
        return -1.0 if negate else 1.0
    ix = _c_pow(iv, iw)
    if math.isinf(ix):
        raise OverflowError("(34, 'Numerical result out of range')")
    return -ix if negate else ix


@register_jitable
def _math_pow(x: float, y: float) -> float:
    """CPython's ``math.pow`` (Modules/mathmodule.c: math_pow_impl)."""
    if not (math.isfinite(x) and math.isfinite(y)):
        return _c_pow(x, y)
    if x == 0.0 and y < 0.0:
        raise ValueError("math domain error")
    if x < 0.0 and y != math.floor(y):
        raise ValueError("math domain error")
    r = _c_pow(x, y)
    if math.isinf(r):
        raise OverflowError("math range error")
    return r


def number(t: Any) -> bool:
    """Whether numba type ``t`` is a number (or a bool)."""
    return isinstance(t, (types.Integer, types.Float, types.Boolean))


def float64_vector(t: Any) -> bool:
    """Whether numba type ``t`` is a 1-d array of float64."""
    return isinstance(t, types.Array) and t.ndim == 1 and t.dtype == types.float64


@overload(python_pow)
def _python_pow(a, b):  # type: ignore[no-untyped-def]
    if isinstance(a, types.Integer) and isinstance(b, types.Integer):
        def int_pow(a, b):  # type: ignore[no-untyped-def]
            if b < 0:
                raise JitError("an int raised to a negative power is a float in Python; "
                               "compiled code keeps ints ints")
            return a ** b
        return int_pow
    if number(a) and number(b):
        return lambda a, b: _float_pow(float(a), float(b))
    return _numpy_pow(a, b)  # arrays: numpy's ** (a Python number with an array)


@overload(math_pow)
def _math_pow_overload(a, b):  # type: ignore[no-untyped-def]
    if number(a) and number(b):
        return lambda a, b: _math_pow(float(a), float(b))
    raise Inexact(f"math.pow of {a} and {b} is not compiled")


@overload(numpy_pow)
def _numpy_pow(a, b):  # type: ignore[no-untyped-def]
    if isinstance(a, types.Integer) and isinstance(b, types.Integer):
        def int_pow(a, b):  # type: ignore[no-untyped-def]
            if b < 0:
                raise ValueError("Integers to negative integer powers are not allowed.")
            return a ** b
        return int_pow
    if number(a) and number(b):
        if types.float32 in (a, b):
            raise Inexact("** on float32 numbers is not compiled (numba computes it in float64)")
        return lambda a, b: _c_pow(float(a), float(b))
    if float64_vector(a) and number(b):
        if not numpy_is_libm("power"):
            raise Inexact("numpy computes ** on arrays with its own SIMD code on this machine, "
                          "which differs from the C library's pow in the last bits")
        return _array_power
    raise Inexact(f"** of {a} and {b} is not compiled (float64 arrays raised to a number, "
                  "and numbers, are)")


@overload(ufunc_power)
def _ufunc_power(a, b):  # type: ignore[no-untyped-def]
    if float64_vector(a) and number(b):
        return _numpy_pow(a, b)
    raise Inexact("np.power is compiled for a float64 array and a number only (numpy "
                  "squares numbers for an exponent of 2 there): write a ** b")


def _array_power(a, b):  # type: ignore[no-untyped-def]
    """numpy's ``a ** b`` for a float64 array and a number: numpy squares for 2, takes the
    square root for 0.5 and the reciprocal for -1, and calls pow otherwise."""
    e = float(b)
    out = np.empty(a.shape[0], np.float64)
    for i in range(a.shape[0]):
        x = a[i]
        if e == 2.0:
            out[i] = x * x
        elif e == 0.5:
            out[i] = math.sqrt(x)
        elif e == -1.0:
            out[i] = 1.0 / x
        else:
            out[i] = _c_pow(x, e)
    return out


# --- math functions with CPython's errors --------------------------------------------------

#: ``math`` functions that CPython computes with the C library function of the same name,
#: raising ValueError where it returns nan and, for the first ones, OverflowError where it
#: overflows (the rest: ValueError), as numba compiles them (Modules/mathmodule.c: math_1).
MATH_CHECKED = {"exp": True, "expm1": True, "sinh": True, "cosh": True, "sqrt": False,
                "log": False, "log2": False, "log10": False, "log1p": False, "sin": False,
                "cos": False, "tan": False, "asin": False, "acos": False, "atan": False,
                "tanh": False, "asinh": False, "acosh": False, "atanh": False}


def checked_math(name: str) -> Any:
    """The function computing ``math.<name>`` compiled, with CPython's errors."""
    return _CHECKED[name]


def _checked_math(name: str) -> Any:
    func = getattr(math, name)
    overflows = MATH_CHECKED[name]

    def stub(x):  # type: ignore[no-untyped-def]
        raise NotImplementedError("compiled only")

    @overload(stub)
    def _stub(x):  # type: ignore[no-untyped-def]
        if not number(x):
            raise Inexact(f"math.{name} of {x} is not compiled")

        def impl(x):  # type: ignore[no-untyped-def]
            v = float(x)
            r = func(v)
            if math.isnan(r) and not math.isnan(v):
                raise ValueError("math domain error")
            if math.isinf(r) and math.isfinite(v):
                if overflows:
                    raise OverflowError("math range error")
                raise ValueError("math domain error")
            return r
        return impl

    stub.__name__ = stub.__qualname__ = f"math_{name}"
    return stub


# made at import: numba sees overloads registered before a compilation starts
_CHECKED = {name: _checked_math(name) for name in MATH_CHECKED}


# --- numpy's elementwise functions, and what is refused -----------------------------------

#: numpy functions numba computes with the C library: exact when numpy does too.
PROBED_NUMPY = {"sin": "sin", "cos": "cos", "tan": "tan", "arcsin": "asin", "arccos": "acos",
                "arctan": "atan", "sinh": "sinh", "cosh": "cosh", "tanh": "tanh",
                "arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh", "exp": "exp",
                "exp2": "exp2", "expm1": "expm1", "log": "log", "log2": "log2",
                "log10": "log10", "log1p": "log1p", "cbrt": "cbrt", "power": "pow"}

#: What is refused, by name (``np.<name>``, ``math.<name>``, ``a.<name>()``), and why.
DECLINED = {
    "std": "a deviation: pandas' has ddof=1 and numpy's ddof=0, and each adds in its own order",
    "var": "a variance: pandas' has ddof=1 and numpy's ddof=0, and each adds in its own order",
    "dot": "a dot product: BLAS adds in an order of its own", "vdot": "a dot product",
    "inner": "a dot product", "matmul": "a matrix product: BLAS adds in an order of its own",
    "linalg": "linear algebra: LAPACK and BLAS compute in an order of their own",
    "nansum": "numpy adds it in its own order", "nanmean": "numpy adds it in its own order",
    "nanstd": "a deviation", "nanvar": "a variance", "average": "numpy adds it in its own order",
    "median": "numpy's interpolation", "nanmedian": "numpy's interpolation",
    "percentile": "numpy's interpolation", "quantile": "numpy's interpolation",
    "nanpercentile": "numpy's interpolation", "nanquantile": "numpy's interpolation",
    "cov": "numpy adds it in its own order", "corrcoef": "numpy adds it in its own order",
    "convolve": "numpy adds it in its own order", "correlate": "numpy adds it in its own order",
    "trapz": "numpy adds it in its own order", "trapezoid": "numpy adds it in its own order",
    "hypot": "CPython computes math.hypot with an algorithm of its own",
    "gamma": "CPython and numba compute it with code of their own",
    "lgamma": "CPython and numba compute it with code of their own",
    "erf": "numba computes it with code of its own", "erfc": "numba computes it with code of "
                                                            "its own",
}

_SAMPLES = np.concatenate([np.linspace(-20, 20, 2001), np.geomspace(1e-8, 1e8, 500),
                           np.random.default_rng(0).standard_normal(1500) * 4])


@functools.cache
def numpy_is_libm(name: str) -> bool:
    """Whether numpy computes ``np.<name>`` on float64 with the C library on this machine (on
    sample values): numpy's own SIMD code (AVX-512 builds) differs in the last bits."""
    c_name = PROBED_NUMPY[name]
    try:
        c_function = _c_double_function(c_name, 2 if name == "power" else 1)
    except ImportError:
        return False
    with np.errstate(all="ignore"):
        if name == "power":
            x, y = np.abs(_SAMPLES[:2000]) + 0.5, np.linspace(-3.3, 3.3, 2000)
            got = np.power(x, y)
            expected = np.array([c_function(a, b) for a, b in zip(x, y)])
        else:
            got = getattr(np, name)(_SAMPLES)
            expected = np.array([c_function(v) for v in _SAMPLES])
    return bool(np.array_equal(got, expected, equal_nan=True))

