"""``rolling(...).apply`` and ``expanding(...).apply``, grouped or not: exactly pandas' result
on every backend, each window computed once, in parallel when asked, and what goes to pandas
as it is.

The property tests draw small Series and frames (NaN, nullable dtypes, repeated and datetime
labels), fixed and time windows with every ``min_periods``, ``center``, ``closed`` and
``step``, ``raw`` or not, and chunk sizes from one window per chunk up, and compare with
pandas exactly (:func:`test_properties.assert_matches_pandas`).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import pdpar
from conftest import run_with_plan
from test_properties import assert_matches_pandas, property_settings

N_JOBS = 2


#: The backends of the property tests; dask (a cluster to start) and auto among the slow tests.
@pytest.fixture(params=["serial", "threads", "processes",
                        pytest.param("dask", marks=pytest.mark.slow),
                        pytest.param("auto", marks=pytest.mark.slow)])
def backend(request):
    if request.param == "dask":
        request.getfixturevalue("dask_client")
    return request.param


# --------------------------------------------------------------------------------------------
# functions of a window (module level, so that processes pickle them by reference)


def window_summary(w: Any) -> float:
    """Uses what a Series window has (its index) and what an ndarray has."""
    values = np.asarray(w, dtype=float)
    extra = len(pd.unique(w.index)) if isinstance(w, pd.Series) else 0.5
    return float(np.nansum(values) * 2 + len(values) + extra)


def window_last(w: Any) -> float:
    return w.iloc[-1] if isinstance(w, pd.Series) else w[-1]


def window_scaled(w: Any, scale: float, offset: float = 0.0) -> float:
    return float(np.nanmean(w)) * scale + offset if len(w) else offset


FUNCTIONS = [window_summary, window_last]


# --------------------------------------------------------------------------------------------
# inputs


@st.composite
def window_inputs(draw: Any, max_rows: int = 25) -> pd.DataFrame:
    """A frame of numbers with NaN, a nullable column, and an index that may repeat labels or
    be a (monotonic) DatetimeIndex; column "k" holds small group keys."""
    n = draw(st.integers(1, max_rows))
    floats = st.one_of(st.floats(-50, 50, allow_nan=False).map(lambda x: round(x, 2)),
                       st.just(np.nan))
    df = pd.DataFrame({
        "k": draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)),
        "x": draw(st.lists(floats, min_size=n, max_size=n)),
        "y": pd.array(draw(st.lists(st.one_of(st.integers(-9, 9), st.none()),
                                    min_size=n, max_size=n)), dtype="Int64"),
    })
    index = draw(st.sampled_from(["range", "repeated", "time"]))
    if index == "repeated":
        df.index = pd.Index(draw(st.lists(st.sampled_from("abc"), min_size=n, max_size=n)))
    elif index == "time":
        steps = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
        df.index = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.cumsum(steps), unit="h")
    return df


@st.composite
def rolling_arguments(draw: Any, df: pd.DataFrame) -> dict[str, Any]:
    time = isinstance(df.index, pd.DatetimeIndex) and draw(st.booleans())
    kwargs: dict[str, Any] = {
        "window": draw(st.sampled_from(["1h", "2h", "5h"])) if time else draw(st.integers(0, 6)),
        "center": draw(st.booleans()),
        "closed": draw(st.sampled_from([None, "right", "left", "both", "neither"])),
    }
    if draw(st.booleans()):
        most = 4 if time else kwargs["window"]
        kwargs["min_periods"] = draw(st.integers(0, most))
    if not time and draw(st.booleans()):
        kwargs["step"] = draw(st.integers(1, 3))
    return kwargs


def _par(obj: Any, backend: str, chunksize: int | None) -> Any:
    return obj.par(backend=backend, n_jobs=N_JOBS, chunksize=chunksize)


# --------------------------------------------------------------------------------------------
# properties


def test_rolling_apply_matches_pandas(backend, examples):
    @property_settings(backend, examples, scale=0.5)
    @given(data=st.data())
    def check(data):
        df = data.draw(window_inputs())
        kwargs = data.draw(rolling_arguments(df))
        raw = data.draw(st.booleans())
        func = data.draw(st.sampled_from(FUNCTIONS))
        chunksize = data.draw(st.one_of(st.integers(1, len(df)), st.none()))
        obj = df if data.draw(st.booleans()) else df["x"]
        assert_matches_pandas(obj, lambda o: o.rolling(**kwargs).apply(func, raw=raw),
                              lambda o: _par(o, backend, chunksize).rolling(**kwargs)
                              .apply(func, raw=raw))

    check()


def test_expanding_apply_matches_pandas(backend, examples):
    @property_settings(backend, examples, scale=0.5)
    @given(df=window_inputs(), min_periods=st.integers(0, 4), raw=st.booleans(),
           func=st.sampled_from(FUNCTIONS), chunksize=st.one_of(st.integers(1, 8), st.none()),
           column=st.sampled_from([None, "x", "y"]))
    def check(df, min_periods, raw, func, chunksize, column):
        obj = df if column is None else df[column]
        assert_matches_pandas(obj, lambda o: o.expanding(min_periods).apply(func, raw=raw),
                              lambda o: _par(o, backend, chunksize).expanding(min_periods)
                              .apply(func, raw=raw))

    check()


def test_grouped_windows_match_pandas(backend, examples):
    @property_settings(backend, examples, scale=0.5)
    @given(data=st.data())
    def check(data):
        df = data.draw(window_inputs())
        raw = data.draw(st.booleans())
        func = data.draw(st.sampled_from(FUNCTIONS))
        chunksize = data.draw(st.one_of(st.integers(1, 4), st.none()))
        select = data.draw(st.sampled_from([None, "x", ["x", "y"]]))
        expanding = data.draw(st.booleans())
        kwargs = {"min_periods": data.draw(st.integers(0, 2))}
        if not expanding:
            kwargs.update(window=data.draw(st.integers(2, 4)), center=data.draw(st.booleans()))

        def call(gb: Any) -> Any:
            gb = gb if select is None else gb[select]
            window = gb.expanding(**kwargs) if expanding else gb.rolling(**kwargs)
            return window.apply(func, raw=raw)

        assert_matches_pandas(df, lambda o: call(o.groupby("k")),
                              lambda o: call(_par(o, backend, chunksize).groupby("k")))

    check()


# --------------------------------------------------------------------------------------------
# examples


def test_series_groupby_rolling_and_arguments_match_pandas():
    s = pd.Series(np.arange(12.0), index=list("abcdefghijkl"))
    keys = np.arange(12) % 3
    expected = s.groupby(keys).rolling(3, min_periods=1).apply(window_scaled, args=(2.0,),
                                                              kwargs={"offset": 1.0})
    actual = s.par(backend="threads", chunksize=1).groupby(keys).rolling(3, min_periods=1) \
        .apply(window_scaled, args=(2.0,), kwargs={"offset": 1.0})
    pd.testing.assert_series_equal(actual, expected)


def test_processes_run_the_windows_in_several_chunks():
    s = pd.Series(np.arange(2_000.0))
    result, plan = run_with_plan(
        lambda: s.par(backend="processes", n_jobs=2).rolling(10).apply(window_summary, raw=True))
    pd.testing.assert_series_equal(result, s.rolling(10).apply(window_summary, raw=True))
    assert plan.backend == "processes" and not plan.plain
    assert plan.unit == "windows" and len(plan.bounds) > 1


def test_grouped_windows_run_whole_groups_per_chunk():
    df = pd.DataFrame({"k": np.arange(400) % 7, "x": np.arange(400.0)})
    result, plan = run_with_plan(
        lambda: df.par(backend="processes", n_jobs=2).groupby("k").rolling(5).apply(np.sum))
    pd.testing.assert_frame_equal(result, df.groupby("k").rolling(5).apply(np.sum))
    assert plan.unit == "groups" and plan.n_units == 7 and len(plan.bounds) > 1


@pytest.mark.parametrize("backend", ["threads", "processes"])
def test_each_window_runs_once(backend, tmp_path):
    """Look-back rows travel with each chunk, yet the function runs once per window."""
    s = pd.Series(np.arange(60.0))
    marks = tmp_path / "calls"
    s.par(backend=backend, chunksize=7).rolling(5, center=True, min_periods=1).apply(
        _mark_call, raw=True, args=(str(marks),))
    calls = marks.read_text().split()
    assert len(calls) == len(s) and sorted(map(float, calls)) == sorted(
        float(w.sum()) for w in s.rolling(5, center=True, min_periods=1))


def _mark_call(w: np.ndarray, path: str) -> float:
    with open(path, "a") as f:
        f.write(f"{float(w.sum())}\n")
    return 0.0


def _fails_at_40(w: pd.Series) -> float:
    if w.iloc[-1] == 40.0:
        raise KeyError("forty")
    return 1.0


@pytest.mark.parametrize("backend", ["serial", "threads", "processes"])
def test_an_exception_names_the_window_row(backend):
    df = pd.DataFrame({"x": np.arange(60.0)}, index=np.arange(60) * 10)
    with pytest.raises(KeyError, match="forty") as info:
        df.par(backend=backend, chunksize=9).rolling(3).apply(_fails_at_40)
    note = "\n".join(info.value.__notes__)
    assert re.search(r"window of column 'x' at the row labelled (np.int64\(400\)|400) "
                     r"\(chunk 5 of 7", note), note


def test_a_grouped_exception_names_the_group_and_row():
    df = pd.DataFrame({"k": ["a", "b"] * 30, "x": np.arange(60.0)})
    with pytest.raises(KeyError) as info:
        df.par(backend="threads", chunksize=1).groupby("k").expanding().apply(_fails_at_40)
    note = "\n".join(info.value.__notes__)
    assert re.search(r"labelled \('a', (np.int64\(40\)|40)\) \(chunk", note), note


def test_progress_and_broadcast_work():
    s = pd.Series(np.arange(100.0))
    seen = []
    actual = s.par(backend="threads", chunksize=10, progress=lambda done, total:
                   seen.append((done, total)), broadcast={"scale": 3.0}) \
        .rolling(4).apply(window_scaled, raw=True)
    pd.testing.assert_series_equal(actual, s.rolling(4).apply(window_scaled, raw=True,
                                                             args=(3.0,)))
    assert seen[-1] == (100, 100)


@pytest.mark.parametrize("call, reason", [
    (lambda s: s.rolling(3).apply("sum"), "string functions"),
    (lambda s: s.rolling(3, method="table").apply(np.sum, raw=True), "method='table'"),
    pytest.param(lambda s: s.to_frame().rolling(2).apply(np.sum, raw=True, engine="numba"),
                 "engine='numba'", marks=pytest.mark.slow),  # numba compiles: seconds
])
def test_what_goes_to_pandas_says_so(call, reason):
    s = pd.Series(np.arange(10.0))
    expected = outcome_of(lambda: call(s))
    actual, plan = run_with_plan(lambda: outcome_of(lambda: call(_ParObj(s))))
    assert type(actual) is type(expected)
    if isinstance(expected, Exception):
        assert plan is not None and plan.plain and reason in plan.reason
    else:
        pd.testing.assert_frame_equal(pd.DataFrame(actual), pd.DataFrame(expected))
        assert plan.plain and reason in plan.reason
    assert plan.n_units == 10 and "10 windows" in str(plan)


def test_plan_of_a_window_call_runs_no_window():
    s = pd.Series(np.arange(2_000.0))
    ran = []

    def counted(w):
        ran.append(1)
        return window_summary(w)

    plan = s.par(backend="processes", n_jobs=2).rolling(10).plan(counted, raw=True)
    assert plan.backend == "processes" and plan.unit == "windows" and len(plan.bounds) > 1
    assert len(ran) < 2_000  # at most the windows measured
    grouped = pd.DataFrame({"k": np.arange(400) % 7, "x": np.arange(400.0)})
    plan = grouped.par(backend="threads", chunksize=2).groupby("k").rolling(5).plan(np.sum)
    assert plan.unit == "groups" and plan.n_units == 7 and len(plan.bounds) > 1


def outcome_of(call: Any) -> Any:
    try:
        return call()
    except Exception as exc:
        return exc


class _ParObj:
    """A Series whose ``rolling`` and ``to_frame`` go through ``par``."""

    def __init__(self, s: pd.Series) -> None:
        self._s = s

    def rolling(self, *args: Any, **kwargs: Any) -> Any:
        return self._s.par(backend="threads").rolling(*args, **kwargs)

    def to_frame(self) -> Any:
        return _ParFrameObj(self._s.to_frame())


class _ParFrameObj:
    def __init__(self, df: pd.DataFrame) -> None:
        self._df = df

    def rolling(self, *args: Any, **kwargs: Any) -> Any:
        return self._df.par(backend="threads").rolling(*args, **kwargs)


def test_other_window_methods_are_pandas():
    s = pd.Series(np.arange(10.0))
    window = s.par(backend="threads").rolling(3)
    pd.testing.assert_series_equal(window.mean(), s.rolling(3).mean())
    assert [len(w) for w in window] == [len(w) for w in s.rolling(3)]
    with pytest.raises(ValueError):
        s.par.rolling(3).apply(np.sum, raw="yes")
    with pytest.raises(TypeError):
        s.par.rolling(3).apply(np.sum, False, None, None, (), {}, "extra")
    assert pdpar.last_plan() is None or pdpar.last_plan().plain


# --------------------------------------------------------------------------------------------
# jit=True: the windows run compiled


def numeric_trend(v: np.ndarray) -> float:
    return (v[-1] - v[0]) / (v.max() - v.min() + 1.0)


def test_jit_runs_the_windows_compiled():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"k": rng.integers(0, 5, 400), "x": rng.standard_normal(400).cumsum(),
                       "y": rng.standard_normal(400)})
    df.loc[::17, "x"] = np.nan
    calls = [
        lambda o: o.rolling(20).apply(numeric_trend, raw=True),
        lambda o: o.rolling(9, min_periods=3, center=True, step=2).apply(numeric_trend, raw=True),
        lambda o: o.expanding(4).apply(numeric_trend, raw=True),
        lambda o: o.groupby("k").rolling(6, min_periods=2).apply(numeric_trend, raw=True),
    ]
    for call in calls:
        result, plan = run_with_plan(call, df.par(jit=True, n_jobs=2, chunksize=50))
        pd.testing.assert_frame_equal(result, call(df))
        assert plan.compiled and plan.unit == "windows"


def test_jit_declines_what_it_cannot_compile_faithfully():
    s = pd.Series(np.arange(30.0))
    with pytest.raises(pdpar.JitError, match="raw=True"):
        s.par(jit=True).rolling(3).apply(numeric_trend)
    result, plan = run_with_plan(
        lambda: s.par(jit="auto", backend="threads").rolling(3).apply(numeric_trend, raw=True))
    pd.testing.assert_series_equal(result, s.rolling(3).apply(numeric_trend, raw=True))
    assert not plan.compiled and "jit='auto'" in plan.jit


def test_auto_keeps_light_windows_in_the_caller_without_running_any_twice(tmp_path):
    s = pd.Series(np.arange(300.0))
    marks = tmp_path / "calls"
    result, plan = run_with_plan(lambda: s.par(backend="auto", n_jobs=2).rolling(3).apply(
        _mark_call, raw=True, args=(str(marks),)))
    pd.testing.assert_series_equal(result, s.rolling(3).apply(lambda w: 0.0, raw=True))
    assert plan.plain and plan.probed > 0
    assert len(marks.read_text().split()) == len(s) - 2


@pytest.mark.parametrize("backend", ["threads", "processes"])
def test_time_windows_on_a_column_match_pandas(backend):
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"x": rng.standard_normal(120), "t": pd.Timestamp("2024-01-01")
                       + pd.to_timedelta(np.cumsum(rng.integers(0, 3, 120)), unit="h")})
    for kwargs in [{"closed": "both"}, {"center": True}, {"closed": "left", "min_periods": 2}]:
        expected = df.rolling("4h", on="t", **kwargs).apply(window_summary)
        actual = df.par(backend=backend, chunksize=11).rolling("4h", on="t", **kwargs) \
            .apply(window_summary)
        pd.testing.assert_frame_equal(actual, expected)


def test_expanding_chunks_carry_positions_and_rolling_chunks_their_rows():
    """Expanding windows read everything before them: the input goes to the workers once,
    with the function, and chunks carry positions; a short rolling window's chunk carries
    its own rows and the window - 1 before them."""
    from pdpar.errors import ChunkSpan
    from pdpar.kinds.windows import WindowsApply

    s = pd.Series(np.arange(1_000.0))
    arguments = {"func": np.sum, "raw": True, "engine": None, "engine_kwargs": None,
                 "args": None, "kwargs": None}
    span = ChunkSpan(3, 10, "windows", 300, 400)
    expanding = WindowsApply(s.expanding(), arguments, (), {})
    assert expanding.declines() is None
    piece, lo, hi, *_ = expanding.payload(span)
    assert piece is None and (lo, hi) == (0, 400)
    assert len(expanding.shared()[-1][0][0]) == 1_000
    rolling = WindowsApply(s.rolling(5), arguments, (), {})
    assert rolling.declines() is None
    piece, lo, hi, *_ = rolling.payload(span)
    assert (lo, hi) == (296, 400) and len(piece[0][0]) == 104
    assert rolling.shared()[-1] is None
