"""``backend="ray"`` on a real local ray cluster (2 CPUs, loopback address, no dashboard),
started once for this module and shut down at its end. Skipped when ray is not installed:
``pip install -e ".[test,ray]"``."""

import os
import signal

import numpy as np
import pandas as pd
import pytest

import pdpar

ray = pytest.importorskip("ray", reason="ray is not installed (pip install -e '.[test,ray]')")

# slow: starting a ray cluster takes most of 10 s on two cores
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture(scope="module", autouse=True)
def ray_cluster():
    # ray's workers do not inherit sys.path: they need it to import this module's functions
    here = os.path.dirname(os.path.abspath(__file__))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             _node_ip_address="127.0.0.1",
             runtime_env={"env_vars": {"PYTHONPATH": here}})
    try:
        yield
    finally:
        ray.shutdown()


def row_value(row, offset=0):
    return row["x"] * row["y"] + offset


def test_rows_elements_and_groups_match_pandas_on_ray():
    df = pd.DataFrame({"k": [1, 2, 1, 3, 2, 1] * 5, "x": range(30), "y": np.linspace(0, 1, 30)})
    par = df.par(backend="ray", chunksize=4)
    pd.testing.assert_series_equal(par.apply(row_value, axis=1, offset=2),
                                   df.apply(row_value, axis=1, offset=2))
    pd.testing.assert_frame_equal(par.apply(lambda c: c * 2), df.apply(lambda c: c * 2))
    pd.testing.assert_series_equal(df["x"].par(backend="ray", chunksize=7).map(str),
                                   df["x"].map(str))
    pd.testing.assert_frame_equal(
        par.groupby("k").apply(lambda g: g[["x", "y"]].sum()),
        df.groupby("k").apply(lambda g: g[["x", "y"]].sum()))


def test_a_failing_row_raises_its_own_error_with_the_label_note():
    df = pd.DataFrame({"x": [1, 2, 0, 4] * 5}, index=[f"r{i}" for i in range(20)])
    with pytest.raises(ZeroDivisionError) as info:
        df.par(backend="ray", chunksize=3).apply(lambda r: 1 // int(r["x"]), axis=1)
    assert "'r2'" in "".join(info.value.__notes__)


_KEPT = []


def table_use(x, table):
    _KEPT.append(table)  # kept alive, so a table loaded again would have a new id
    return os.getpid(), id(table), int(table[x])


def test_broadcast_objects_are_put_once_and_loaded_once_per_worker():
    table = np.arange(1_000) * 3
    s = pd.Series(range(0, 1_000, 25))
    seen = s.par(backend="ray", chunksize=2, broadcast={"table": table}).map(table_use)
    assert [v for *_, v in seen] == [x * 3 for x in s]
    assert pdpar.last_transfer().broadcast_scatters == 1
    per_worker = {}
    for pid, table_id, _ in seen:
        per_worker.setdefault(pid, set()).add(table_id)
    assert os.getpid() not in per_worker
    assert all(len(ids) == 1 for ids in per_worker.values())


def test_progress_advances_as_ray_chunks_complete():
    seen = []
    pd.Series(range(30)).par(backend="ray", chunksize=4,
                             progress=lambda done, total: seen.append(done)).map(abs)
    assert seen == sorted(seen) and len(seen) == 8 and seen[-1] == 30


def kill_own_worker_at(x, at, caller):
    if x == at and os.getpid() != caller:
        os.kill(os.getpid(), signal.SIGKILL)
    return x


def test_a_ray_worker_that_dies_raises_worker_crashed_and_the_next_call_works():
    s = pd.Series(range(20))
    with pytest.raises(pdpar.WorkerCrashedError, match="ray worker died"):
        s.par(backend="ray", chunksize=4).apply(kill_own_worker_at, args=(7, os.getpid()))
    got = s.par(backend="ray", chunksize=4).apply(kill_own_worker_at, args=(-1, os.getpid()))
    pd.testing.assert_series_equal(got, s)


def test_n_jobs_minus_one_means_the_cpus_of_the_ray_cluster():
    from pdpar.options import Options
    from pdpar.plan.policy import plan_call

    assert plan_call("rows", 1_000, Options(backend="ray")).n_jobs == 2
