"""``jit=True`` gives pandas' results to the last bit, or raises a JitError saying why.

Powers, the ``math`` functions, numpy's elementwise functions and sums are compiled to compute
what Python and numpy compute (pdpar.compiled.exact); what cannot be is refused before
anything runs. Results are compared bit for bit (the sign of zero included).
"""

import math
import re

import numpy as np
import pandas as pd
import pytest

import pdpar

pytestmark = pytest.mark.filterwarnings("ignore::numba.NumbaWarning")

RNG = np.random.default_rng(11)
VALUES = pd.Series(RNG.standard_normal(100_000) * 3)
POSITIVE = VALUES.abs() + 0.01


def assert_bits(got, expected):
    """The same index and dtype, and the same bits in every value."""
    if isinstance(expected, pd.DataFrame):
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
        got, expected = got.to_numpy(), expected.to_numpy()
    else:
        pd.testing.assert_series_equal(got, expected, check_exact=True)
        got, expected = got.to_numpy(), expected.to_numpy()
    assert got.dtype == expected.dtype
    assert np.array_equal(got.view(np.uint8), expected.view(np.uint8))


ELEMENT_FUNCTIONS = {
    "x ** 2 + 1": (VALUES, lambda x: x ** 2 + 1),
    "x ** 3": (VALUES, lambda x: x ** 3),
    "x ** 0.5": (POSITIVE, lambda x: x ** 0.5),
    "x ** -1": (POSITIVE, lambda x: x ** -1),
    "x ** 1.7": (POSITIVE, lambda x: x ** 1.7),
    "2.0 ** x": (VALUES, lambda x: 2.0 ** x),
    "pow": (VALUES, lambda x: pow(x, 2)),
    "math.pow": (VALUES, lambda x: math.pow(x, 2)),
    "x **= 2": (VALUES, "inplace"),
    "math": (POSITIVE, lambda x: math.sin(x) * math.cos(x) + math.exp(-x) + math.log10(x)
             + math.log(x) + math.sqrt(x) + math.tanh(x)),
    "numpy": (POSITIVE, lambda x: np.sin(x) + np.exp(-x) + np.log10(x) + np.sqrt(x)),
}


def inplace(x):
    x **= 2
    return x


@pytest.mark.parametrize("name", list(ELEMENT_FUNCTIONS))
def test_element_functions_are_bit_identical_to_pandas(name):
    values, func = ELEMENT_FUNCTIONS[name]
    func = inplace if func == "inplace" else func
    got = values.par(jit=True).map(func)
    assert pdpar.last_plan().compiled
    assert_bits(got, values.map(func))


def raw_powers(r):
    return r[0] ** 2 + r[1] ** 3 - abs(r[2]) ** 0.5 + np.sqrt(abs(r[3])) + r.sum() / r.mean()


def test_raw_rows_compute_numpys_powers_and_sums():
    df = pd.DataFrame(RNG.standard_normal((20_000, 4)))
    got = df.par(jit=True).apply(raw_powers, axis=1, raw=True)
    assert pdpar.last_plan().compiled
    assert_bits(got, df.apply(raw_powers, axis=1, raw=True))


def group_frame(n=60_000, groups=40):
    return pd.DataFrame({"k": RNG.integers(0, groups, n), "x": RNG.standard_normal(n),
                         "y": RNG.random(n) + 0.5, "i": RNG.integers(-10**17, 10**17, n)})


GROUP_FUNCTIONS = {
    "sums": lambda g: (g["x"] * g.y).sum() / g["y"].sum(),
    "means": lambda g: g["x"].mean() - np.mean(g.y) + np.sum(g.x),
    "int mean": lambda g: g["i"].mean(),
    "array powers": lambda g: (g["y"] ** 2).sum() + (g.y ** 0.5).sum() + (g.y ** -1).sum()
    + (g["y"] ** 3).max() + np.power(g.y, 1.5).min(),
}


@pytest.mark.parametrize("name", list(GROUP_FUNCTIONS))
def test_group_functions_add_and_raise_as_numpy_does(name):
    df = group_frame()  # groups of about 1,500 rows: pairwise sums differ from running ones
    func = GROUP_FUNCTIONS[name]
    got = df.par(jit=True).groupby("k").apply(func, include_groups=False)
    assert pdpar.last_plan().compiled
    assert_bits(got, df.groupby("k").apply(func, include_groups=False))


@pytest.mark.parametrize("values, func, error, message", [
    ([1.0, 0.0], lambda x: x ** -1, ZeroDivisionError, "0.0 cannot be raised"),
    ([1.0, 10.0], lambda x: x ** 400.0, OverflowError, "Numerical result out of range"),
    ([1.0, -1.0], lambda x: math.sqrt(x), ValueError, "math domain error"),
    ([1.0, 0.0], lambda x: math.log(x), ValueError, "math domain error"),
    ([1.0, 800.0], lambda x: math.exp(x), OverflowError, "math range error"),
    ([1.0, -1.0], lambda x: math.pow(x, 0.5), ValueError, "math domain error"),
    ([1.5, np.nan], lambda x: int(x), ValueError, "cannot convert float NaN to integer"),
    ([1.5, np.inf], lambda x: round(x), OverflowError, "cannot convert float infinity"),
    ([1.5, np.nan], lambda x: math.floor(x), ValueError, "cannot convert float NaN"),
])
def test_python_numbers_raise_what_python_raises(values, func, error, message):
    s = pd.Series(values * 3000)
    with pytest.raises(error, match=message) as pandas_raised:
        s.map(func)
    with pytest.raises(error, match=message) as compiled_raised:
        s.par(jit=True, n_jobs=1).map(func)
    assert str(compiled_raised.value) == str(pandas_raised.value)
    assert "element labelled 1" in compiled_raised.value.__notes__[-1]


@pytest.mark.parametrize("values, func, why", [
    ([1.0, -8.0], lambda x: x ** 0.5, "complex number in Python"),
    ([1, 2], lambda x: x ** -1, "an int raised to a negative power is a float in Python"),
    ([1.0, 1e19], lambda x: int(x), "an int beyond 64 bits"),
])
def test_what_python_computes_otherwise_raises_a_jit_error_saying_why(values, func, why):
    s = pd.Series(values * 3000)
    expected = s.map(func)  # pandas: complex numbers, floats
    with pytest.raises(pdpar.JitError, match=why):
        s.par(jit=True, n_jobs=1).map(func)
    assert expected.dtype != s.dtype


def hypotenuse(x):
    return math.hypot(x, 2.0)


def _groups(func):
    return lambda df, par: par(df).groupby("k").apply(func, include_groups=False)


def _elements(func):
    return lambda df, par: par(df["x"]).map(func)


@pytest.mark.parametrize("call, what", [
    (_groups(lambda g: g["x"].std()), "uses .std()"),
    (_groups(lambda g: np.std(g.x)), "uses numpy.std"),
    (_groups(lambda g: np.median(g.x)), "uses numpy.median"),
    (_groups(lambda g: g.x @ g.y), "uses @"),
    (_groups(lambda g: np.dot(g.x, g.y)), "uses numpy.dot"),
    (_groups(lambda g: g.x.sum(axis=0)), "calls .sum() with arguments"),
    (_elements(hypotenuse), "uses math.hypot"),
    (_elements(lambda x: math.gamma(abs(x) + 1)), "uses math.gamma"),
])
def test_what_cannot_be_made_the_same_is_declined_before_anything_runs(call, what):
    df = group_frame(n=3000)
    with pytest.raises(pdpar.JitError, match=f"is not compiled: it {re.escape(what)}"):
        call(df, lambda obj: obj.par(jit=True))
    got = call(df, lambda obj: obj.par(jit="auto", n_jobs=2))
    assert "is not compiled" in pdpar.last_plan().jit
    pd.testing.assert_series_equal(got, call(df, lambda obj: obj))


@pytest.mark.parametrize("name", ["sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh",
                                  "cosh", "tanh", "arcsinh", "arctanh", "exp", "exp2", "expm1",
                                  "log", "log2", "log10", "log1p", "cbrt"])
def test_numpys_elementwise_functions_are_compiled_where_numpy_calls_the_c_library(name):
    # numpy's own SIMD code (for np.tanh here, for many more on AVX-512 machines) differs from
    # the C library's, which compiled code calls: those functions are declined
    func = getattr(np, name)
    values = (POSITIVE % 0.9 if name in ("arcsin", "arccos", "arctanh") else POSITIVE).iloc[:5000]
    expected = values.map(lambda x: func(x))
    try:
        got = values.par(jit=True).map(lambda x: func(x))
    except pdpar.JitError as exc:
        assert f"numpy.{name}" in str(exc) and "own SIMD code on this machine" in str(exc)
        from pdpar.compiled import exact

        assert not exact.numpy_is_libm(name)
    else:
        assert_bits(got, expected)
