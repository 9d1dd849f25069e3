"""Chunks reach worker processes through spool files in shared memory, written once, mapped
without copying, and removed; a full or missing /dev/shm falls back to the disk."""

import glob
import mmap
import os
import pickle
import subprocess
import sys
import tempfile

import cloudpickle
import numpy as np
import pandas as pd
import pytest

from conftest import BIG
from pdpar import transport
from pdpar.run import run_chunks
from reliability import leftovers


def _spool_files():
    bases = {tempfile.gettempdir(), "/dev/shm"}
    return sorted(p for base in bases for p in glob.glob(os.path.join(base, "pdpar-*-*"))
                  if os.path.basename(p).startswith(f"pdpar-{os.getpid()}-"))


def _backed_by_mmap(a):
    while a is not None:
        if isinstance(a, mmap.mmap):
            return True
        a = a.obj if isinstance(a, memoryview) else getattr(a, "base", None)
    return False


def test_small_chunks_travel_inside_the_parcel():
    with transport.Spool() as spool:
        parcel = spool.send((np.arange(10), "x"))
        assert parcel.path is None
        got = transport.receive(parcel)
    np.testing.assert_array_equal(got[0], np.arange(10))
    assert got[1] == "x"
    assert got[0].flags.writeable  # a worker may write into its chunk, as the caller could


def test_large_chunks_are_written_once_and_mapped_without_copying():
    df = pd.DataFrame({"a": np.arange(BIG, dtype=np.float64), "b": np.arange(BIG) % 7,
                       "s": ["x"] * BIG})
    with transport.Spool() as spool:
        parcel = spool.send((df,))
        assert parcel.path is not None and os.path.exists(parcel.path)
        assert spool.spooled_bytes >= df["a"].nbytes + df["b"].nbytes
        (got,) = transport.receive(parcel)
        assert not os.path.exists(parcel.path)  # removed as soon as it is mapped
        pd.testing.assert_frame_equal(got, df)
        assert _backed_by_mmap(got["a"].to_numpy())
    assert _spool_files() == []


def test_mapped_arrays_are_private_and_writable():
    source = np.arange(BIG, dtype=np.float64)
    with transport.Spool() as spool:
        (got,) = transport.receive(spool.send((source,)))
    assert _backed_by_mmap(got) and got.flags.writeable
    got[:] = -1.0
    assert source[1] == 1.0


def chunk_facts(piece):
    return bool(_backed_by_mmap(np.asarray(piece.to_numpy()))), float(piece.sum())


def test_process_workers_receive_chunks_mapped_from_the_spool():
    s = pd.Series(np.arange(4 * BIG, dtype=np.float64))
    chunks = [(s.iloc[i * BIG:(i + 1) * BIG],) for i in range(4)]
    got = list(run_chunks(chunk_facts, chunks, backend="processes", n_jobs=2))
    assert all(mapped for mapped, _ in got)
    assert [total for _, total in got] == [float(c[0].sum()) for c in chunks]
    assert _spool_files() == []


def test_unpicklable_chunks_say_so_and_suggest_threads():
    import threading

    with transport.Spool() as spool, pytest.raises(Exception, match="threads") as info:
        spool.send((threading.Lock(),))
    assert "pickle" in str(info.value)


def test_no_shared_memory_folder_falls_back_to_disk(monkeypatch):
    monkeypatch.setenv("PDPAR_SHM_FOLDER", "/nonexistent/shm")
    with transport.Spool() as spool:
        parcel = spool.send((np.zeros(BIG),))
        assert parcel.path.startswith(tempfile.gettempdir())
        np.testing.assert_array_equal(transport.receive(parcel)[0], np.zeros(BIG))
    assert _spool_files() == []


def test_a_small_shared_memory_folder_is_not_used_for_chunks_it_cannot_hold(
        small_tmpfs, monkeypatch):
    monkeypatch.setenv("PDPAR_SHM_FOLDER", str(small_tmpfs))
    s = pd.Series(np.arange(4 * BIG, dtype=np.float64))
    got = s.par(backend="processes", n_jobs=2, chunksize=BIG).map(float.__neg__)
    pd.testing.assert_series_equal(got, s.map(float.__neg__))
    assert os.listdir(small_tmpfs) == []
    assert _spool_files() == []


def test_a_shared_memory_folder_that_fills_up_falls_back_to_disk(small_tmpfs, spool_dirs,
                                                                  monkeypatch):
    # pdpar's free-space check passes, then the folder is full (as when another program fills
    # it during the call): every write there fails for real
    monkeypatch.setenv("PDPAR_SHM_FOLDER", str(small_tmpfs))
    monkeypatch.setattr(transport, "free_bytes", lambda folder: 1 << 40)
    with transport.Spool() as spool:
        parcel = spool.send((np.ones(4 * BIG),))
        assert parcel.path.startswith(tempfile.gettempdir())
        assert [f for _, _, files in os.walk(small_tmpfs) for f in files] == []
        np.testing.assert_array_equal(transport.receive(parcel)[0], np.ones(4 * BIG))
    assert os.listdir(small_tmpfs) == []
    # a whole call: every 2 MB column is retried on disk
    df = pd.DataFrame(np.random.default_rng(0).random((BIG, 4)))
    got = df.par(backend="processes", n_jobs=2, chunksize=1).apply(np.sum)
    pd.testing.assert_series_equal(got, df.apply(np.sum))
    assert leftovers([small_tmpfs, *spool_dirs]) == []


def fail_on_chunk_two(piece):
    if piece.iloc[0] == 2 * BIG:
        raise ValueError("chunk two")
    return float(piece.sum())


def test_the_next_call_removes_the_spool_folders_of_dead_processes_only(spool_dirs):
    from pdpar.sweep import sweep

    shm, disk = spool_dirs
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # its pid is free: no process has it
    left = [base / f"pdpar-{dead.pid}-{name}" for base in (shm, disk) for name in ("a", "b")]
    for folder in left:
        folder.mkdir()
        (folder / "chunk-1").write_bytes(b"x" * 100)
    kept = [shm / f"pdpar-{os.getpid()}-mine", shm / f"pdpar-{os.getppid()}-parent",
            shm / "pdpar-bench-files-x", shm / "other"]
    for folder in kept:
        folder.mkdir()
    (disk / f"pdpar-{dead.pid}-file").write_bytes(b"not a folder")
    s = pd.Series(np.arange(2 * BIG, dtype=np.float64))  # spooled: in shm, where room is
    assert s.par(backend="processes", n_jobs=2, chunksize=BIG).map(abs).equals(s)
    assert leftovers([shm]) == sorted(map(str, kept))  # the call spooled in shm and swept it
    # the temporary folder is swept by the next call that spools there
    assert sorted(sweep(str(disk))) == [f"pdpar-{dead.pid}-a", f"pdpar-{dead.pid}-b"]
    assert [f.name for f in disk.iterdir()] == [f"pdpar-{dead.pid}-file"]


def test_spool_files_are_removed_when_a_chunk_fails():
    s = pd.Series(np.arange(6 * BIG, dtype=np.float64))
    chunks = [(s.iloc[i * BIG:(i + 1) * BIG],) for i in range(6)]
    with pytest.raises(ValueError, match="chunk two"):
        list(run_chunks(fail_on_chunk_two, chunks, backend="processes", n_jobs=2))
    assert _spool_files() == []


@pytest.mark.parametrize("values", [
    np.array([f"w{i % 97}" for i in range(30_000)], dtype=object),
    np.array([f"w{i}" for i in range(30_000)], dtype=object).reshape(3, -1),
    np.array([f"w{i}" for i in range(30_000)], dtype=object).reshape(3, -1).T,
], ids=["1-d", "2-d", "fortran"])
def test_object_arrays_of_strings_come_back_the_same(values):
    with transport.Spool() as spool:
        parcel = spool.send((values,))
        (got,) = transport.receive(parcel)
    assert got.dtype == object and got.shape == values.shape
    assert all(type(x) is str for x in got.ravel())
    np.testing.assert_array_equal(got, values)


@pytest.mark.parametrize("odd", [None, np.nan, 1, b"bytes", pd.NA])
def test_object_arrays_with_anything_but_strings_are_pickled_as_they_are(odd):
    values = np.array([f"w{i}" for i in range(30_000)], dtype=object)
    values[7] = odd
    with transport.Spool() as spool:
        (got,) = transport.receive(spool.send((values,)))
    assert type(got[7]) is type(odd)
    assert got[7] is odd if odd is None or odd is pd.NA else (got[7] == odd or odd != odd)
    np.testing.assert_array_equal(got[:7], values[:7])


def test_frames_with_object_string_columns_come_back_the_same():
    df = pd.DataFrame({"s": pd.Series([f"w{i % 13}" for i in range(40_000)], dtype=object),
                       "t": pd.Series([f"v{i}" for i in range(40_000)], dtype=object),
                       "x": np.arange(40_000.0)})
    with transport.Spool() as spool:
        (got,) = transport.receive(spool.send((df,)))
    pd.testing.assert_frame_equal(got, df)


@pytest.mark.parametrize("scalar", [np.float64, np.float32, np.float16, np.int64, np.int8,
                                    np.uint32, np.bool_, np.complex128, np.longdouble])
def test_numpy_scalar_results_come_back_as_the_same_scalars(scalar):
    results = [scalar(v) for v in (0, 1, -0.0, 3)] if scalar is not np.bool_ \
        else [np.bool_(v) for v in (True, False, True)]
    sent = cloudpickle.dumps(transport.compact(results))
    got = pickle.loads(sent)
    assert type(got) is list
    assert [type(x) for x in got] == [scalar] * len(results)
    assert got == results
    signs = [np.signbit(np.real(x)) for x in results]
    assert [np.signbit(np.real(x)) for x in got] == signs  # -0.0 stays -0.0


def test_numpy_scalar_results_travel_as_one_array():
    results = [np.float64(i) / 7 for i in range(10_000)]
    as_array = len(pickle.dumps(np.array(results)))
    assert len(cloudpickle.dumps(transport.compact(results))) < 1.1 * as_array
    assert len(cloudpickle.dumps(results)) > 1.5 * as_array


@pytest.mark.parametrize("results", [
    [np.float64(1.0), 2.0],                                   # a Python float among them
    [np.float64(1.0), np.float32(2.0)],                       # two scalar types
    [np.datetime64("2020-01-01", "D"), np.datetime64("2020-01-01T10", "h")],  # units differ
    [np.str_("a"), np.str_("bc")],
    [np.float64(1.0)],
    [],
], ids=["python-float", "two-types", "datetime64", "str_", "one", "empty"])
def test_other_results_travel_as_they_are(results):
    assert transport.compact(results) is results
    got = pickle.loads(cloudpickle.dumps(transport.compact(results)))
    assert [type(x) for x in got] == [type(x) for x in results]
    assert [repr(x) for x in got] == [repr(x) for x in results]


def test_a_chunk_of_groups_results_is_compacted_inside_its_tuple():
    results = ([np.int64(3), np.int64(4)], True)
    compacted = transport.compact(results)
    assert type(compacted) is tuple and compacted[1] is True
    got = pickle.loads(cloudpickle.dumps(compacted))
    assert got == results and [type(x) for x in got[0]] == [np.int64, np.int64]


@pytest.mark.parametrize("backend", ["processes", "threads"])
def test_row_results_of_numpy_scalars_equal_pandas_through_workers(backend):
    df = pd.DataFrame({"a": np.arange(4_000, dtype=np.float32),
                       "b": np.arange(4_000, dtype=np.float32) / 3})
    fn = lambda row: row["a"] * np.float32(0.5) + row["b"]  # noqa: E731 - float32 scalars
    got = df.par(backend=backend, n_jobs=2, chunksize=500).apply(fn, axis=1)
    pd.testing.assert_series_equal(got, df.apply(fn, axis=1))
