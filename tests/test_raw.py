"""``apply(raw=True)``: the chunks fill arrays of the first unit's result dtype and shape, as
``np.apply_along_axis`` does, so every numpy storing rule holds across chunk boundaries."""

import numpy as np
import pandas as pd
import pytest

FRAME = pd.DataFrame({"a": np.arange(12.0), "b": np.arange(12.0) * 1.5, "c": np.arange(12) % 5})


def int_first_then_fractions(u):
    return 3 if u[0] == 0 else u[0] / 7  # numpy keeps int64 and truncates the rest


def text_of(u):
    return f"{u[0]:.1f}"


def pair(u):
    return np.array([u[0], u.sum()])


def triple(u):
    return np.array([u[0], u.sum(), 1.0])  # as many values as the frame has columns


def masked(u):
    return np.ma.masked_array([u[0], 1.0], mask=[False, True])


def maybe_none(u):
    return None if u[0] == 3 else u[0]


def sized_by_first(u):
    return np.zeros(3 if u[0] == 0 else 2)  # numpy cannot store the later ones


CASES = [int_first_then_fractions, text_of, pair, triple, masked, maybe_none, len, np.sum]


def _outcome(call):
    try:
        return call(), None
    except Exception as exc:  # pandas' own error for the input is part of the specification
        return None, type(exc)


@pytest.mark.parametrize("func", CASES, ids=lambda f: getattr(f, "__name__", repr(f)))
@pytest.mark.parametrize("axis", [0, 1])
def test_raw_results_are_stored_as_numpy_stores_them(backend, func, axis):
    expected, expected_error = _outcome(lambda: FRAME.apply(func, axis=axis, raw=True))
    got, error = _outcome(lambda: FRAME.par(backend=backend, chunksize=2).apply(
        func, axis=axis, raw=True))
    assert error is expected_error
    if isinstance(expected, pd.DataFrame):
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
    elif expected is not None:
        pd.testing.assert_series_equal(got, expected, check_exact=True)


def test_a_result_numpy_cannot_store_raises_what_pandas_raises(backend):
    with pytest.raises(ValueError) as expected:
        FRAME.apply(sized_by_first, axis=1, raw=True)
    with pytest.raises(ValueError) as got:
        FRAME.par(backend=backend, chunksize=2).apply(sized_by_first, axis=1, raw=True)
    assert type(got.value) is type(expected.value)


def test_raw_rows_are_measured_and_sized_automatically(backend):
    df = pd.DataFrame(np.random.default_rng(1).random((3000, 3)))
    expected = df.apply(triple, axis=1, raw=True)
    got = df.par(backend=backend).apply(triple, axis=1, raw=True)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


@pytest.mark.parametrize("options", [{}, {"backend": "serial", "chunksize": 3},
                                     {"backend": "threads"}, {"backend": "processes"},
                                     {"jit": True}],
                         ids=["auto", "serial", "threads", "processes", "jit"])
def test_the_plan_counts_every_row_of_a_raw_call(options):
    import pdpar

    df = pd.DataFrame(np.arange(40.0).reshape(10, 4))
    df.par(**options).apply(lambda r: r[0] + r[1], axis=1, raw=True)
    plan = pdpar.last_plan()
    assert plan.n_units == 10 and str(plan).startswith("Plan(10 rows"), plan
