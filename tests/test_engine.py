"""``pdpar.engine``: pandas' execution-engine protocol (pandas >= 3.0).

``df.apply(fn, engine=pdpar.engine)`` and ``s.map(fn, engine=pdpar.engine)`` must return what
the same calls without an engine return, on the property tests' inputs. On pandas 2,
``pdpar.engine`` is absent and says why.
"""

from __future__ import annotations

import os

import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import pdpar
from pdpar._pandas import PANDAS_3
from strategies import frames, series
from test_properties import (
    ELEMENT_CALLS,
    UNIT_FUNCTIONS,
    assert_matches_pandas,
    property_settings,
    unit_count_plus,
)

needs_pandas_3 = pytest.mark.skipif(not PANDAS_3, reason="the engine protocol is pandas >= 3")

ENGINE_BACKENDS = ["serial", "threads", "processes"]


@needs_pandas_3
@pytest.mark.parametrize("backend", ENGINE_BACKENDS)
def test_frame_apply_with_the_engine_matches_frame_apply(backend, examples):
    engine = pdpar.engine(backend=backend, n_jobs=2, chunksize=1)

    @property_settings(backend, examples, scale=0.5)
    @given(df=frames(), func=st.sampled_from(UNIT_FUNCTIONS),
           axis=st.sampled_from([0, 1, "index", "columns"]), raw=st.booleans())
    def check(df, func, axis, raw):
        # pandas answers empty frames itself, by other rules than without an engine
        assume(all(df.shape))
        assert_matches_pandas(
            df,
            lambda d: d.apply(func, axis=axis, raw=raw),
            lambda d: d.apply(func, axis=axis, raw=raw, engine=engine),
        )

    check()


@needs_pandas_3
@pytest.mark.parametrize("backend", ENGINE_BACKENDS)
def test_frame_apply_with_the_engine_passes_args_and_kwargs(backend, examples):
    engine = pdpar.engine(backend=backend, n_jobs=2, chunksize=2)

    @property_settings(backend, examples, scale=0.3)
    @given(df=frames(), axis=st.sampled_from([0, 1]), raw=st.booleans(),
           offset=st.integers(-2, 2), scale=st.integers(1, 3))
    def check(df, axis, raw, offset, scale):
        assume(all(df.shape))
        assert_matches_pandas(
            df,
            lambda d: d.apply(unit_count_plus, axis=axis, raw=raw, args=(offset,), scale=scale),
            lambda d: d.apply(unit_count_plus, axis=axis, raw=raw, args=(offset,), scale=scale,
                              engine=engine),
        )

    check()


@needs_pandas_3
@pytest.mark.parametrize("backend", ENGINE_BACKENDS)
def test_series_map_with_the_engine_matches_series_map(backend, examples):
    engine = pdpar.engine(backend=backend, n_jobs=2, chunksize=3)

    @property_settings(backend, examples, scale=0.5)
    @given(s=series(), call=ELEMENT_CALLS, na_action=st.sampled_from([None, "ignore"]))
    def check(s, call, na_action):
        func, kwargs = call
        assert_matches_pandas(
            s,
            lambda x: x.map(func, na_action=na_action, **kwargs),
            lambda x: x.map(func, na_action=na_action, engine=engine, **kwargs),
        )

    check()


def where_it_runs(_):
    return os.getpid()


@needs_pandas_3
def test_the_engine_runs_with_its_own_options():
    df = pd.DataFrame({"a": range(8)})
    pids = df.apply(where_it_runs, axis=1, engine=pdpar.engine(backend="processes", n_jobs=2,
                                                                chunksize=2))
    assert os.getpid() not in set(pids)
    assert set(df["a"].map(where_it_runs, engine=pdpar.engine(backend="serial"))) == {
        os.getpid()}


@needs_pandas_3
def test_engine_options_are_checked_when_written_and_combine():
    with pytest.raises(ValueError, match="n_jobs"):
        pdpar.engine(n_jobs=0)
    with pytest.raises(TypeError, match="unknown pdpar option"):
        pdpar.engine(workers=2)
    engine = pdpar.engine(backend="threads")(n_jobs=2)
    assert engine.overrides == {"backend": "threads", "n_jobs": 2}
    assert repr(engine) == "pdpar.engine(backend='threads', n_jobs=2)"
    from pandas.api.executors import BaseExecutionEngine

    assert issubclass(pdpar.engine.__pandas_udf__, BaseExecutionEngine)


@needs_pandas_3
def test_the_engine_keeps_pandas_errors_and_the_label_note():
    df = pd.DataFrame({"a": [1, 0, 2]}, index=["x", "y", "z"])
    with pytest.raises(ZeroDivisionError) as info:
        df.apply(lambda r: 1 // int(r["a"]), axis=1, engine=pdpar.engine(backend="threads",
                                                                         chunksize=1))
    assert "'y'" in "".join(info.value.__notes__)
    with pytest.raises(NotImplementedError):  # pandas' own answer to result_type
        df.apply(lambda r: r, axis=1, result_type="expand", engine=pdpar.engine)


@pytest.mark.skipif(PANDAS_3, reason="pandas 2 has no engine protocol")
def test_on_pandas_2_the_engine_is_absent_and_says_why():
    assert not hasattr(pdpar, "engine")
    with pytest.raises(AttributeError, match="pandas 3.0 or newer"):
        pdpar.engine  # noqa: B018
