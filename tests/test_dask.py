"""``backend="dask"`` on a real dask.distributed cluster (a local cluster per test module: 2 worker
processes on loopback addresses): what travels to the workers and how often, dead workers,
back-pressure, and the error without a running client.

The property tests and every test taking the ``backend`` fixture also run on dask.
"""

import os
import signal
import time

import numpy as np
import pandas as pd
import pytest

import pdpar
from pdpar.options import Options
from pdpar.plan.policy import plan_call

distributed = pytest.importorskip("distributed")

# --------------------------------------------------------------------------------------------
# what travels

_PICKLED = []  # in the caller: one entry each time a Counted value is pickled


class Counted:
    """A value that counts, in the process that pickles it, how often it is pickled."""

    def __init__(self, value):
        self.value = value

    def __reduce__(self):
        _PICKLED.append(self.value)
        return (Counted, (self.value,))


def counted_value(row):
    return row["c"].value * 2 + row["x"]


def test_each_row_is_sent_once_however_many_chunks(dask_client):
    df = pd.DataFrame({"x": range(200), "c": [Counted(i) for i in range(200)]})
    expected = df.apply(counted_value, axis=1)
    _PICKLED.clear()
    got = df.par(backend="dask", chunksize=10).apply(counted_value, axis=1)
    pd.testing.assert_series_equal(got, expected)
    # 20 chunks, and every row pickled once: the frame is not sent with every chunk
    assert sorted(_PICKLED) == list(range(200))
    assert pdpar.last_transfer().chunks == 20


def column_total(column):
    return column.sum()


def test_a_large_frame_is_scattered_once_in_all(dask_client):
    df = pd.DataFrame(np.random.default_rng(0).random((250_000, 8)))  # 16 MB
    got = df.par(backend="dask", chunksize=1).apply(column_total)
    pd.testing.assert_series_equal(got, df.apply(column_total))
    sent = pdpar.last_transfer()
    nbytes = df.memory_usage(index=False).sum()
    # 8 chunks of 2 MB, each scattered to a worker; together the frame once, plus headers
    assert sent.chunks == sent.scattered_chunks == 8
    assert nbytes <= sent.scattered_bytes < nbytes * 1.01 + 8 * 65_536
    assert sent.broadcast_scatters == 0


_LOADS = {}  # in each worker: how often each broadcast object was unpickled there


class Table:
    def __init__(self, key, values):
        self.key = key
        self.values = values

    def __reduce__(self):
        return (_load_table, (self.key, self.values))


def _load_table(key, values):
    _LOADS[key] = _LOADS.get(key, 0) + 1
    return Table(key, values)


_KEPT = []  # in each worker: every table its chunks received, kept alive so ids stay unique


def table_use(x, table):
    _KEPT.append(table)
    return os.getpid(), id(table), _LOADS[table.key], int(table.values[x])


def test_broadcast_objects_reach_each_worker_once_per_call(dask_client):
    key = f"table-{time.time_ns()}"
    table = Table(key, np.arange(1_000, dtype=np.int64) * 3)
    s = pd.Series(range(0, 1_000, 10))
    seen = s.par(backend="dask", chunksize=4, broadcast={"table": table}).map(table_use)
    assert [v for *_, v in seen] == [x * 3 for x in s]
    assert pdpar.last_transfer().broadcast_scatters == 1
    per_worker = {}
    for pid, table_id, loads, _ in seen:
        per_worker.setdefault(pid, set()).add((table_id, loads))
    workers = set(dask_client.run(os.getpid).values())
    assert set(per_worker) <= workers and os.getpid() not in per_worker
    # 25 chunks; in each worker every chunk saw the one table, unpickled there once
    assert all(len(seen_here) == 1 for seen_here in per_worker.values()), per_worker
    assert all(loads == 1 for seen_here in per_worker.values() for _, loads in seen_here)


# --------------------------------------------------------------------------------------------
# dead workers, back-pressure, progress, options


def kill_own_worker_at(row, row_to_kill, caller):
    if row["x"] == row_to_kill and os.getpid() != caller:
        os.kill(os.getpid(), signal.SIGKILL)
    return row["x"] + 1


def test_a_worker_that_dies_raises_worker_crashed_and_the_next_call_works(dask_client):
    df = pd.DataFrame({"x": range(40)})
    with pytest.raises(pdpar.WorkerCrashedError, match="dask worker died"):
        df.par(backend="dask", chunksize=5).apply(kill_own_worker_at, axis=1,
                                                   args=(17, os.getpid()))
    got = df.par(backend="dask", chunksize=5).apply(kill_own_worker_at, axis=1,
                                                     args=(-1, os.getpid()))
    pd.testing.assert_series_equal(
        got, df.apply(kill_own_worker_at, axis=1, args=(-1, os.getpid())))
    dask_client.wait_for_workers(2, timeout=60)  # the nanny restarts the dead worker


def running_span(x):
    start = time.time()
    time.sleep(0.02)
    return start, time.time()


def test_max_inflight_bounds_the_chunks_on_the_cluster(dask_client):
    s = pd.Series(range(12))
    spans = s.par(backend="dask", chunksize=2, max_inflight=1).map(running_span)
    chunks = [(spans[i][0], spans[i + 1][1]) for i in range(0, 12, 2)]
    # one chunk at a time, although two workers are free
    assert all(a[1] <= b[0] for a, b in zip(chunks, chunks[1:]))


def test_progress_advances_as_dask_chunks_complete(dask_client):
    seen = []
    s = pd.Series(range(30))
    got = s.par(backend="dask", chunksize=4,
                progress=lambda done, total: seen.append((done, total))).map(abs)
    pd.testing.assert_series_equal(got, s.map(abs))
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert len(seen) == 8 and seen[-1] == (30, 30)


def test_n_jobs_minus_one_means_every_thread_of_the_cluster(dask_client):
    assert plan_call("rows", 10_000, Options(backend="dask")).n_jobs == 2
    assert plan_call("rows", 10_000, Options(backend="dask", n_jobs=-2)).n_jobs == 1
    assert plan_call("rows", 10_000, Options(backend="dask", n_jobs=5)).n_jobs == 5


def test_without_a_running_client_dask_says_to_start_one():
    with pytest.raises(pdpar.PdparError, match=r"(?s)no Client was found.*Client\("):
        pd.Series(range(10)).par(backend="dask").map(abs)
