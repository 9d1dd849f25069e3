"""``broadcast=``: large read-only objects reach the function as keyword arguments, and each
worker process loads them once per call, not once per chunk."""

import os

import numpy as np
import pandas as pd
import pytest

import pdpar
from pdpar import broadcast, transport

TABLE = np.arange(1_000_000, dtype=np.int64)  # 8 MB: spooled, not sent with every chunk


def lookup(x, table, offset):
    return int(table[x]) + offset


_SEEN = []  # in each worker: every table object its chunks received, kept alive


def loads_in_this_process(x, table, offset):
    # kept alive, a table loaded again would be a new object with a new id
    _SEEN.append(table)
    return os.getpid(), id(table)


def test_broadcast_objects_are_keyword_arguments(backend):
    s = pd.Series([3, 1, 4, 1, 5, 9, 2, 6] * 5)
    got = s.par(backend=backend, chunksize=3,
                broadcast={"table": TABLE, "offset": 10}).map(lookup)
    pd.testing.assert_series_equal(got, s.map(lambda x: lookup(x, TABLE, 10)))


def test_broadcast_with_rows_groups_and_pandas_kwargs(backend):
    df = pd.DataFrame({"k": [1, 2, 1, 2, 3] * 4, "x": range(20)})

    def row(r, scale, table):
        return r["x"] * scale + table[r["k"]]

    got = df.par(backend=backend, chunksize=4, broadcast={"table": TABLE}).apply(
        row, axis=1, scale=2)
    pd.testing.assert_series_equal(got, df.apply(row, axis=1, scale=2, table=TABLE))

    def group(g, table):
        return g["x"].sum() + table[len(g)]

    got = df.par(backend=backend, chunksize=1, broadcast={"table": TABLE}).groupby("k").apply(
        group, include_groups=False)
    pd.testing.assert_series_equal(
        got, df.groupby("k").apply(lambda g: group(g, TABLE), include_groups=False))


def test_each_worker_process_loads_the_objects_once_per_call():
    s = pd.Series(range(64))
    seen = s.par(backend="processes", n_jobs=2, chunksize=2,
                 broadcast={"table": TABLE, "offset": 0}).map(loads_in_this_process)
    # 32 chunks, but within each worker every chunk saw the same loaded table object
    per_worker = {}
    for pid, table_id in seen:
        per_worker.setdefault(pid, set()).add(table_id)
    assert os.getpid() not in per_worker
    assert all(len(ids) == 1 for ids in per_worker.values())


def test_the_broadcast_file_is_removed_after_the_call():
    with broadcast.Broadcasting(len, {"table": TABLE}) as wrapped:
        parcel = wrapped.__reduce__()[1][2]
        assert parcel.shared and os.path.exists(parcel.path)
        objects = transport.receive(parcel)
        np.testing.assert_array_equal(objects["table"], TABLE)
        assert os.path.exists(parcel.path)  # shared: readers do not remove it
    assert not os.path.exists(parcel.path)


def test_broadcast_must_be_a_dict_of_keyword_names():
    with pytest.raises(TypeError, match="broadcast"):
        pdpar.Options(broadcast=[1, 2])
    with pytest.raises(ValueError, match="keyword-argument names"):
        pd.Series([1]).par(broadcast={"not a name": 1})
    with pytest.raises(TypeError, match="callable"):
        pd.Series([1]).par(broadcast={"t": 1}).map({1: 2})


def table_in_args(x, table):
    _SEEN.append(table)
    return os.getpid(), id(table)


def test_a_large_argument_in_args_reaches_each_worker_once_per_call():
    # what every chunk shares (the function and its arguments) is sent once per call when it
    # is large, as broadcast= objects are, not inside every chunk
    s = pd.Series(range(64))
    seen = s.par(backend="processes", n_jobs=2, chunksize=2).apply(table_in_args,
                                                                   args=(TABLE,))
    per_worker = {}
    for pid, table_id in seen:
        per_worker.setdefault(pid, set()).add(table_id)
    assert os.getpid() not in per_worker
    assert all(len(ids) == 1 for ids in per_worker.values()), per_worker


def test_a_small_shared_part_travels_inside_each_chunk_pickled_once():
    shared = broadcast.Shared((len, (1, 2), {}))
    assert len(shared.pickled()) < broadcast.SHARE_MIN_BYTES
    rebuilt, = [f(*args) for f, args in [shared.__reduce__()]]
    assert rebuilt.value == (len, (1, 2), {})
    large = broadcast.Shared((len, (TABLE,), {}))
    rebuilt_large = [f(*args) for f, args in [large.__reduce__()]][0]
    np.testing.assert_array_equal(rebuilt_large.value[1][0], TABLE)
    parcel = large.__reduce__()[1][1]
    assert parcel.shared and os.path.exists(parcel.path)
    large.close()
    assert not os.path.exists(parcel.path)
