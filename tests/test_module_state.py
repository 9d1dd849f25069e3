"""Worker processes see the module globals a function reads as the calling process has them
(pdpar.module_state): a result never mixes the caller's values (in the units the caller runs
while measuring) with those of a fresh import (in the workers)."""

import numpy as np
import pandas as pd
import pytest

import state_config
import state_module

#: enough elements that the caller measures some and the workers run the rest
S = pd.Series(np.arange(20_000, dtype=np.float64))


def on_processes(call, chunksize=None):
    """``call(par)`` with processes (measured first in the caller when ``chunksize`` is
    None), checked against ``call`` on the Series itself."""
    got = call(S.par(backend="processes", n_jobs=2, chunksize=chunksize))
    expected = call(S)
    pd.testing.assert_series_equal(got, expected)
    return got


@pytest.mark.parametrize("chunksize", [None, 2_500])
def test_a_global_changed_at_run_time_is_seen_by_the_workers(monkeypatch, chunksize):
    monkeypatch.setattr(state_module, "RATE", 2.5)
    got = on_processes(lambda s: s.map(state_module.scaled), chunksize)
    assert (got == S * 2.5).all()


def test_globals_read_through_helpers_and_other_modules(monkeypatch):
    monkeypatch.setattr(state_module, "RATE", 3.0)
    monkeypatch.setitem(state_module.SETTINGS, "offset", 10.0)  # mutated in place
    monkeypatch.setattr(state_config, "FACTOR", 0.5)
    on_processes(lambda s: s.map(state_module.through_a_helper))
    on_processes(lambda s: s.map(state_module.through_another_module))
    # a function defined here reading a module's global through the module
    on_processes(lambda s: s.map(lambda x: x - state_module.RATE + state_config.FACTOR))
    # a function sent by value, calling a helper of its module sent by reference
    on_processes(lambda s: s.map(state_module.make_scaler(1.0)))


def test_a_global_added_at_run_time_is_seen_and_gone_afterwards(monkeypatch):
    monkeypatch.setattr(state_module, "EXTRA", 7.0, raising=False)
    on_processes(lambda s: s.map(lambda x: x + state_module.EXTRA), chunksize=5_000)
    monkeypatch.delattr(state_module, "EXTRA")
    with pytest.raises(AttributeError, match="EXTRA"):
        S.par(backend="processes", n_jobs=2, chunksize=5_000).map(
            lambda x: x + state_module.EXTRA)


def test_classes_stay_the_modules_own(monkeypatch):
    monkeypatch.setattr(state_module, "RATE", 2.0)
    points = S.iloc[:1000].par(backend="processes", n_jobs=2, chunksize=250).map(
        state_module.point)
    assert all(type(p) is state_module.Point for p in points)  # the caller's class
    assert points.tolist() == S.iloc[:1000].map(state_module.point).tolist()
    back = points.par(backend="processes", n_jobs=2, chunksize=250).map(state_module.is_point)
    assert back.all()  # isinstance holds in the workers too
    scaled = points.par(backend="processes", n_jobs=2, chunksize=250).map(
        state_module.Point.scaled)  # a method reads the module's global
    pd.testing.assert_series_equal(scaled, points.map(state_module.Point.scaled))


def test_a_global_that_cannot_be_pickled_stays_the_workers_own(monkeypatch):
    monkeypatch.setattr(state_module, "RATE", 4.0)
    monkeypatch.setattr(state_module, "LOCK", state_module.threading.RLock())
    on_processes(lambda s: s.map(state_module.locked), chunksize=5_000)


def test_globals_the_function_assigns_stay_the_workers_own():
    s = S.iloc[:4000]
    for _ in range(2):  # set on each worker's first element, kept from call to call
        got = s.par(backend="processes", n_jobs=2, chunksize=500).map(state_module.opened_once)
        assert (got == 1).all()
    assert state_module.opened == 0  # the caller ran nothing
