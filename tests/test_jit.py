"""``jit=True`` and ``jit="auto"``: functions compiled with numba, run on threads in-process.

Every result is compared with what pandas itself returns for the same call. The compiled
functions are real numba compilations; the threads are real.
"""

import functools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pdpar
from pdpar.compiled import loops as jit

pytestmark = pytest.mark.filterwarnings("ignore::numba.NumbaWarning")

RNG = np.random.default_rng(7)
N = 20_000  # enough rows for several chunks on every thread


def numbers(n=N, columns="abcd", seed=7):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.standard_normal((n, len(columns))), columns=list(columns))


def assert_same(got, expected, rtol=None):
    close = {"check_exact": False, "rtol": rtol} if rtol else {"check_exact": True}
    if isinstance(expected, pd.DataFrame):
        pd.testing.assert_frame_equal(got, expected, **close)
    else:
        pd.testing.assert_series_equal(got, expected, **close)


# ------------------------------------------------------------------------------------------
# functions numba compiles (module level, as users write them)


def raw_arith(r):
    return r[0] * r[1] - r[2] / (1 + abs(r[3]))


def raw_four(r):
    return np.array([r[0] + r[1], r[2] * r[3], r[0], -r[1]])  # one value per column


def raw_int_first_then_fractions(r):
    return 3 if r[0] < 0.5 else r[0] / 7  # numpy keeps the first result's int64


def named(row):
    return row["a"] * row.b - row["c"]


def named_with_label(row):
    return row.a + row.name


def named_pair(row):
    return (row.a + 1.0, row.b * 2.0)


def twice_plus_one(x):
    return x * 2 + 1


def positive(x):
    return x > 0


def scaled(x, factor):
    return x * factor


def weighted(g):
    return (g["x"] * g.y).max() - g["y"].min()


def spread(g):
    return np.array([g["x"].max(), g["x"].min()])


def series_range(values):
    return values.max() - values.min()


def sample_std(g):
    return g["x"].std()  # pandas: ddof=1; numpy: ddof=0


def fails_on_big(r):
    if r[0] > 3.5:
        raise ValueError("too big")
    return r[0]


def reciprocal(x):
    return 1 / x


# ------------------------------------------------------------------------------------------
# rows


@pytest.mark.parametrize("func", [raw_arith, raw_four])
def test_raw_rows_equal_pandas_and_run_compiled(func):
    df = numbers()
    got = df.par(jit=True).apply(func, axis=1, raw=True)
    assert pdpar.last_plan().compiled
    assert_same(got, df.apply(func, axis=1, raw=True))


def test_raw_results_of_another_dtype_than_pandas_gives_are_declined():
    # numpy stores every result in the first one's dtype (int64 here); numba unifies the
    # function's return types to float64: compiled, the values would be the same only by luck
    df = numbers()
    df.iloc[0, 0] = 0.0  # the first result is the int 3
    with pytest.raises(pdpar.JitError, match="differs from pandas"):
        df.par(jit=True).apply(raw_int_first_then_fractions, axis=1, raw=True)
    got = df.par(jit="auto").apply(raw_int_first_then_fractions, axis=1, raw=True)
    assert "differs from pandas" in pdpar.last_plan().jit
    assert_same(got, df.apply(raw_int_first_then_fractions, axis=1, raw=True))
    # float32 rows: numpy computes 1 + abs(x) in float32, numba in float64
    small = numbers(n=500).astype("float32")
    with pytest.raises(pdpar.JitError, match="differs from pandas"):
        small.par(jit=True).apply(raw_arith, axis=1, raw=True)


def test_raw_columns_equal_pandas():
    df = numbers(n=4, columns="abcdefgh")
    got = df.par(jit=True).apply(raw_four, axis=0, raw=True)
    assert pdpar.last_plan().compiled
    assert_same(got, df.apply(raw_four, axis=0, raw=True))
    got = df.par(jit=True).apply(raw_arith, axis=0, raw=True)
    assert_same(got, df.apply(raw_arith, axis=0, raw=True))


@pytest.mark.parametrize("func,result_type", [(named, None), (named_with_label, None),
                                              (named_pair, "expand")])
def test_named_field_rows_equal_pandas(func, result_type):
    df = numbers()
    got = df.par(jit=True).apply(func, axis=1, result_type=result_type)
    assert pdpar.last_plan().compiled
    assert_same(got, df.apply(func, axis=1, result_type=result_type))


def test_named_rows_of_a_mixed_frame_read_the_frames_common_dtype():
    # int and float columns: pandas' row is float64, so row["i"] // 2 is a float
    df = pd.DataFrame({"i": np.arange(N) % 7, "f": np.linspace(0, 1, N)})
    func = lambda row: row["i"] // 2 + row.f  # noqa: E731
    assert_same(df.par(jit=True).apply(func, axis=1), df.apply(func, axis=1))
    ints = pd.DataFrame({"i": np.arange(N) % 7, "j": np.arange(N) % 3})
    assert_same(ints.par(jit=True).apply(lambda row: row.i // 2 - row.j, axis=1),
                ints.apply(lambda row: row.i // 2 - row.j, axis=1))


def test_named_rows_skip_unused_text_columns():
    df = numbers().assign(label="x")
    got = df.par(jit=True).apply(named, axis=1)
    assert pdpar.last_plan().compiled
    assert_same(got, df.apply(named, axis=1))


def test_rows_with_extra_positional_arguments():
    df = numbers()
    func = lambda r, k: r[0] * k  # noqa: E731
    assert_same(df.par(jit=True).apply(func, axis=1, raw=True, args=(3.0,)),
                df.apply(func, axis=1, raw=True, args=(3.0,)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(0, 300), nan_share=st.sampled_from([0.0, 0.3]),
       chunksize=st.sampled_from([None, 1, 7, 64]), dtype=st.sampled_from(["float64",
                                                                            "float32"]))
def test_random_numeric_frames_equal_pandas(n, nan_share, chunksize, dtype):
    rng = np.random.default_rng(n)
    values = rng.standard_normal((n, 4)).astype(dtype)
    values[rng.random((n, 4)) < nan_share] = np.nan
    df = pd.DataFrame(values, columns=list("abcd"), index=rng.permutation(n) * 3)
    par = df.par(jit=True, chunksize=chunksize)
    auto = df.par(jit="auto", chunksize=chunksize)  # float32 raw rows are declined
    assert_same(auto.apply(raw_arith, axis=1, raw=True), df.apply(raw_arith, axis=1, raw=True))
    assert_same(par.apply(named, axis=1), df.apply(named, axis=1))
    assert_same(df["a"].par(jit=True, chunksize=chunksize).map(twice_plus_one),
                df["a"].map(twice_plus_one))


# ------------------------------------------------------------------------------------------
# elements


@pytest.mark.parametrize("values", [np.linspace(-1, 1, N), np.arange(N) - N // 2,
                                    np.arange(N) % 3 == 0, np.linspace(0, 1, N, dtype="float32")])
@pytest.mark.parametrize("func", [twice_plus_one, positive])
def test_series_map_and_apply_equal_pandas(values, func):
    s = pd.Series(values, index=np.arange(N) * 2, name="v")
    assert_same(s.par(jit=True).map(func), s.map(func))
    assert pdpar.last_plan().compiled
    assert_same(s.par(jit=True).apply(func), s.apply(func))


def test_series_apply_with_args():
    s = pd.Series(np.linspace(0, 1, N))
    assert_same(s.par(jit=True).apply(scaled, args=(2.5,)), s.apply(scaled, args=(2.5,)))


def test_na_action_ignore_leaves_missing_values_as_pandas_does():
    values = np.linspace(-1, 1, N)
    values[::5] = np.nan
    values[0] = np.nan
    s = pd.Series(values)
    assert_same(s.par(jit=True).map(twice_plus_one, na_action="ignore"),
                s.map(twice_plus_one, na_action="ignore"))
    assert pdpar.last_plan().compiled
    ints = lambda x: int(x)  # noqa: E731  (int results with missing values: float64)
    assert_same(s.par(jit=True).map(ints, na_action="ignore"), s.map(ints, na_action="ignore"))
    # booleans with missing values make pandas build an object result: declined
    with pytest.raises(pdpar.JitError, match="object"):
        s.par(jit=True).map(positive, na_action="ignore")
    assert_same(s.par(jit="auto").map(positive, na_action="ignore"),
                s.map(positive, na_action="ignore"))


def test_frame_map_equal_pandas():
    df = numbers().assign(i=np.arange(N) % 11)
    assert_same(df.par(jit=True).map(twice_plus_one), df.map(twice_plus_one))
    assert pdpar.last_plan().compiled
    assert_same(df.par(jit=True).map(positive), df.map(positive))


# ------------------------------------------------------------------------------------------
# groups


def group_frame(n=N, groups=300, seed=3):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"k": rng.integers(0, groups, n), "j": rng.integers(0, 3, n),
                         "x": rng.standard_normal(n), "y": rng.random(n)})


@pytest.mark.parametrize("by", ["k", ["k", "j"]])
@pytest.mark.parametrize("func", [weighted, spread])
def test_group_functions_equal_pandas(by, func):
    df = group_frame()
    got = df.par(jit=True).groupby(by).apply(func, include_groups=False)
    assert pdpar.last_plan().compiled
    expected = df.groupby(by).apply(func, include_groups=False)
    if isinstance(expected.iloc[0], np.ndarray):
        assert got.index.equals(expected.index) and got.dtype == expected.dtype
        assert all(np.array_equal(a, b) for a, b in zip(got, expected))
    else:
        assert_same(got, expected)


def test_series_groupby_and_dropped_missing_keys():
    df = group_frame()
    df.loc[df.index[::17], "k"] = np.nan
    got = df.par(jit=True).groupby("k")["x"].apply(series_range)
    assert pdpar.last_plan().compiled
    assert_same(got, df.groupby("k")["x"].apply(series_range))
    got = df["x"].par(jit=True).groupby(df["j"]).apply(series_range)
    assert_same(got, df["x"].groupby(df["j"]).apply(series_range))


def test_group_sums_match_pandas_to_the_last_bits():
    # compiled sums add in numpy's pairwise order
    df = group_frame(groups=20)
    func = lambda g: (g["x"] * g.y).sum() / g["y"].sum()  # noqa: E731
    got = df.par(jit=True).groupby("k").apply(func, include_groups=False)
    assert_same(got, df.groupby("k").apply(func, include_groups=False))


def test_empty_groups_are_declined():
    # observed=False: pandas calls the function on the empty groups of unused categories
    df = group_frame(groups=20)
    df["c"] = pd.Categorical(df["k"], categories=range(25))
    with pytest.raises(pdpar.JitError, match="empty"):
        df.par(jit=True).groupby("c", observed=False).apply(weighted, include_groups=False)
    got = df.par(jit="auto").groupby("c", observed=False).apply(weighted, include_groups=False)
    assert_same(got, df.groupby("c", observed=False).apply(weighted, include_groups=False))
    got = df.par(jit=True).groupby("c", observed=True).apply(weighted, include_groups=False)
    assert_same(got, df.groupby("c", observed=True).apply(weighted, include_groups=False))


def test_groups_with_missing_values_are_declined():
    df = group_frame()
    df.loc[df.index[5], "x"] = np.nan
    with pytest.raises(pdpar.JitError, match="missing values"):
        df.par(jit=True).groupby("k").apply(weighted, include_groups=False)
    got = df.par(jit="auto").groupby("k").apply(weighted, include_groups=False)
    assert "missing values" in pdpar.last_plan().jit
    assert_same(got, df.groupby("k").apply(weighted, include_groups=False))


def test_a_function_that_means_something_else_compiled_is_caught():
    # Python's ints do not overflow: pandas gets an int beyond 64 bits (an object column);
    # compiled, the product is a 64-bit number
    s = pd.Series([3, 1, 2] * 1000)
    func = lambda x: x * 2**63  # noqa: E731
    with pytest.raises(pdpar.JitError, match="differs from pandas"):
        s.par(jit=True).map(func)
    got = s.par(jit="auto", n_jobs=2).map(func)
    assert "differs from pandas" in pdpar.last_plan().jit
    assert_same(got, s.map(func))


def test_a_group_function_that_means_something_else_compiled_is_declined():
    df = group_frame()
    with pytest.raises(pdpar.JitError, match="ddof=1"):
        df.par(jit=True).groupby("k").apply(sample_std, include_groups=False)
    got = df.par(jit="auto", n_jobs=2).groupby("k").apply(sample_std, include_groups=False)
    assert "ddof=1" in pdpar.last_plan().jit
    assert_same(got, df.groupby("k").apply(sample_std, include_groups=False))


# ------------------------------------------------------------------------------------------
# when numba cannot compile


@pytest.mark.parametrize("make,reason", [
    (lambda df: df.assign(s="x").par(jit=True).apply(lambda r: r["s"], axis=1), "dtype"),
    (lambda df: df.par(jit=True).apply(lambda r: r.sum(), axis=1), "names no column"),
    (lambda df: df.par(jit=True).apply(lambda r: r.a.upper(), axis=1), "numba cannot"),
    (lambda df: df.par(jit=True).apply(functools.partial(scaled, factor=2), axis=1, raw=True),
     "Python functions"),
    (lambda df: df.par(jit=True).apply(named, axis=0), "axis=0"),
    (lambda df: df["a"].astype(str).par(jit=True).map(twice_plus_one), "dtype"),
    (lambda df: df["a"].astype("category").par(jit=True).map(twice_plus_one), None),
    (lambda df: df["a"].astype("Float64").par(jit=True).map(twice_plus_one), "Float64"),
    (lambda df: pd.Series(pd.date_range("2020", periods=5)).par(jit=True).map(positive),
     "datetime64"),
    (lambda df: df["a"].par(jit=True).apply(scaled, factor=2), "keyword"),
    (lambda df: df.par(jit=True).apply(lambda r: [r[0]], axis=1, raw=True), "numbers"),
])
def test_jit_true_raises_jit_error_saying_why(make, reason):
    df = numbers(n=100)
    if reason is None:  # categorical data: pandas maps the categories; nothing to compile
        expected = df["a"].astype("category").map(twice_plus_one)
        pd.testing.assert_series_equal(make(df), expected)
        assert pdpar.last_plan().plain
        return
    with pytest.raises(pdpar.JitError, match=reason):
        make(df)


def test_jit_auto_falls_back_and_the_plan_says_why():
    df = numbers(n=100).assign(s="x")
    func = lambda r: r["s"] + "!"  # noqa: E731
    got = df.par(jit="auto").apply(func, axis=1)
    assert_same(got, df.apply(func, axis=1))
    plan = pdpar.last_plan()
    assert not plan.compiled and ("dtype str" in plan.jit or "dtype object" in plan.jit)
    assert "not compiled" in plan.explain()


def test_jit_auto_leaves_small_inputs_to_the_python_path():
    fresh = lambda x: x * 3.25 + 1  # noqa: E731  (never compiled before)
    s = pd.Series(np.arange(100.0))
    assert_same(s.par(jit="auto").map(fresh), s.map(fresh))
    assert "too few" in pdpar.last_plan().jit
    assert not jit.is_cached(fresh, "python")


def test_jit_auto_compiles_large_inputs_and_reuses_compiled_functions():
    fresh = lambda r: r[0] * 2.5 - r[1]  # noqa: E731
    big = numbers(n=400_000, columns="ab")
    assert_same(big.par(jit="auto").apply(fresh, axis=1, raw=True),
                big.apply(fresh, axis=1, raw=True))
    first = pdpar.last_plan()
    assert first.compiled and first.compile_seconds > 0
    small = big.iloc[:50]
    assert_same(small.par(jit="auto").apply(fresh, axis=1, raw=True),
                small.apply(fresh, axis=1, raw=True))  # compiled before: compiled again
    assert pdpar.last_plan().compiled


# ------------------------------------------------------------------------------------------
# errors, cache, progress, processes afterwards


def test_a_compiled_functions_exception_keeps_its_type_and_names_the_row():
    df = numbers(n=N)
    bad = int(np.argmax(df["a"].to_numpy() > 3.5))
    with pytest.raises(ValueError, match="too big") as info:
        df.par(jit=True).apply(fails_on_big, axis=1, raw=True)
    assert any(f"labelled {df.index[bad]!r}" in note for note in info.value.__notes__)


def test_division_by_zero_raises_as_in_python():
    s = pd.Series(np.r_[np.linspace(1, 2, N), 0.0, 3.0])
    with pytest.raises(ZeroDivisionError) as info:
        s.par(jit=True).map(reciprocal)
    with pytest.raises(ZeroDivisionError):
        s.map(reciprocal)
    assert any(f"labelled {N!r}" in note for note in info.value.__notes__)
    # a raw row holds numpy floats: inf, as numpy gives
    df = pd.DataFrame({"a": [1.0, 0.0] * 5000})
    func = lambda r: 1 / r[0]  # noqa: E731
    with np.errstate(divide="ignore"):
        assert_same(df.par(jit=True).apply(func, axis=1, raw=True),
                    df.apply(func, axis=1, raw=True))


def test_compiled_once_per_function_and_again_when_its_closure_changes():
    def make(k):
        return lambda x: x * k

    s = pd.Series(np.linspace(0, 1, 1000))
    triple, quadruple = make(3.0), make(4.0)
    assert_same(s.par(jit=True).map(triple), s.map(triple))
    assert pdpar.last_plan().compile_seconds > 0
    assert_same(s.par(jit=True).map(triple), s.map(triple))
    assert pdpar.last_plan().compile_seconds == 0
    assert jit.is_cached(triple, "python") and not jit.is_cached(quadruple, "python")
    assert_same(s.par(jit=True).map(quadruple), s.map(quadruple))  # same code, new closure


def test_progress_reaches_the_total():
    seen = []
    df = numbers()
    df.par(jit=True, progress=lambda done, total: seen.append((done, total))).apply(
        raw_arith, axis=1, raw=True)
    assert seen[-1] == (N, N)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_plan_of_a_compiled_call():
    df = numbers()
    plan = df.par(jit=True).plan(raw_arith, axis=1, raw=True)
    assert plan.compiled and plan.n_jobs >= 1 and plan.bounds
    assert "compil" in plan.explain()


def test_processes_work_after_compiled_calls():
    df = numbers(n=2000)
    df.par(jit=True).apply(raw_arith, axis=1, raw=True)
    got = df.par(backend="processes", n_jobs=2).apply(named, axis=1)
    assert_same(got, df.apply(named, axis=1))


def slow(r):
    acc = 0.0
    for i in range(300):
        acc += np.sin(r[0] + i) * r[1]
    return acc


def test_chunks_run_on_the_calling_processes_threads():
    df = numbers(n=100_000, columns="ab")
    got = df.par(jit=True, n_jobs=2).apply(slow, axis=1, raw=True)
    plan = pdpar.last_plan()
    for part in (slice(0, 200), slice(-200, None)):  # pandas itself is slow here
        assert_same(got.iloc[part], df.iloc[part].apply(slow, axis=1, raw=True))
    assert plan.compiled and plan.backend == "threads" and plan.n_jobs == 2
    assert "2 threads" in plan.reason
    # row 0 ran in pandas, the next 4096 were timed in the caller, the rest ran in chunks
    assert plan.probed == 1 + 4096 and plan.bounds[0][0] == 4097
    assert plan.n_chunks == 2 * 4 and plan.bounds[-1][1] == len(df)


def test_a_loop_too_short_for_threads_runs_on_one():
    df = numbers(n=50_000)
    df.par(jit=True, n_jobs=2).apply(raw_arith, axis=1, raw=True)
    plan = pdpar.last_plan()
    assert plan.compiled and plan.backend == "serial" and plan.n_jobs == 1
    assert "too little" in plan.reason


def test_math_functions_compile():
    s = pd.Series(np.linspace(0.1, 3, N))
    func = lambda x: math.log(x) + math.sqrt(x)  # noqa: E731
    assert_same(s.par(jit=True).map(func), s.map(func))


def too_big(row):
    if row["a"] > 5:
        raise ValueError("a is too big")
    return row.b


def test_an_exception_on_the_first_unit_is_pandas_own_with_its_label():
    df = numbers(n=1000)
    df.iloc[0, 0] = 10.0
    with pytest.raises(ValueError, match="too big") as got:
        df.par(jit=True).apply(too_big, axis=1)
    assert any("labelled 0" in note for note in got.value.__notes__)
    df.iloc[0, 0] = 0.0
    df.iloc[700, 0] = 10.0  # raised by the compiled function, in a chunk
    with pytest.raises(ValueError, match="too big") as got:
        df.par(jit=True).apply(too_big, axis=1)
    assert any("labelled 700" in note for note in got.value.__notes__)


def test_frame_map_leaving_out_missing_values_from_the_first_on():
    df = numbers(n=2000)
    df.iloc[:5, 0] = np.nan
    df["b"] = np.nan
    df.iloc[3, 2] = np.nan
    got = df.par(jit=True).map(twice_plus_one, na_action="ignore")
    assert pdpar.last_plan().compiled
    assert_same(got, df.map(twice_plus_one, na_action="ignore"))
    everything_missing = df[["b"]]
    assert_same(everything_missing.par(jit="auto").map(twice_plus_one, na_action="ignore"),
                everything_missing.map(twice_plus_one, na_action="ignore"))
