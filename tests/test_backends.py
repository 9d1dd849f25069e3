"""The execution layer: joblib pass-through, caller state in workers, in-order windows."""

import os
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pdpar
from pdpar._pandas import PANDAS_3
from pdpar._warnings import attributed_to_caller
from pdpar.cpus import usable_cpu_count
from pdpar.memory import available_bytes
from pdpar.run import run_chunks
from pdpar.run.workers import WORKER_BYTES
from reliability import GIVE_UP, wait_for, worker_processes


def pid_of_row(row):
    return os.getpid()


def test_other_joblib_backend_names_pass_through():
    df = pd.DataFrame({"x": range(30)})
    for name in ["loky", "sequential", "threading"]:
        got = df.par(backend=name, chunksize=4).apply(lambda r: r["x"] * 3, axis=1)
        pd.testing.assert_series_equal(got, df.apply(lambda r: r["x"] * 3, axis=1))
    assert os.getpid() not in set(df.par(backend="loky", chunksize=10).apply(pid_of_row, axis=1))


def test_a_joblib_backend_registered_after_import_can_be_named():
    from joblib import register_parallel_backend
    from joblib._parallel_backends import ThreadingBackend

    s = pd.Series(range(3))
    with pytest.raises(ValueError, match="unknown backend 'pdpar-test-threads'"):
        s.par(backend="pdpar-test-threads")
    register_parallel_backend("pdpar-test-threads", ThreadingBackend)
    got = s.par(backend="pdpar-test-threads", chunksize=1).map(abs)
    pd.testing.assert_series_equal(got, s.map(abs))


def sqrt_of(x):
    return np.sqrt(np.float64(x))


@pytest.mark.parametrize("backend", ["serial", "threads", "processes"])
def test_workers_see_the_callers_numpy_error_settings(backend):
    s = pd.Series([-1.0, 4.0, -9.0, 16.0])
    with np.errstate(invalid="raise"):
        with pytest.raises(FloatingPointError):
            s.par(backend=backend, chunksize=1).map(sqrt_of)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error")
        got = s.par(backend=backend, chunksize=1).map(sqrt_of)
    with np.errstate(invalid="ignore"):
        pd.testing.assert_series_equal(got, s.map(sqrt_of))


def test_warnings_inside_a_call_point_at_the_callers_line():
    with pytest.warns(UserWarning, match="inside") as record:
        with attributed_to_caller():
            warnings.warn("inside", UserWarning, stacklevel=1)
    assert record[0].filename == __file__


class CarefulWarning(UserWarning):
    pass


def warns_on_every_element(x):
    sign = "negative" if x < 0 else "positive"
    warnings.warn(f"careful with {sign} numbers", CarefulWarning, stacklevel=1)
    return x


@pytest.mark.parametrize("backend, chunksize", [("threads", 100), ("processes", 100),
                                                ("processes", None)])
def test_each_distinct_warning_of_the_function_is_shown_once_per_call(backend, chunksize):
    s = pd.Series(np.arange(-2000.0, 2000.0))
    for _ in range(2):  # once per call: the second call shows them again
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("default")
            got = s.par(backend=backend, n_jobs=2, chunksize=chunksize).map(
                warns_on_every_element)
        pd.testing.assert_series_equal(got, s)
        shown = [(r.category, str(r.message), r.filename) for r in record]
        assert sorted(shown) == [(CarefulWarning, "careful with negative numbers", __file__),
                                 (CarefulWarning, "careful with positive numbers", __file__)]


def test_more_worker_processes_than_memory_for_them_are_refused_before_any_starts():

    df = pd.DataFrame({"a": range(20)})
    df.par(backend="processes", n_jobs=2, chunksize=5).apply(lambda row: row.a, axis=1)
    before = {p.pid for p in worker_processes()}
    too_many = available_bytes() // WORKER_BYTES + 1
    with pytest.raises(pdpar.PdparError, match=f"n_jobs={too_many} would start {too_many} "
                                               r"worker processes, about \d+ MB"):
        df.par(backend="processes", n_jobs=too_many, chunksize=5).apply(lambda row: row.a,
                                                                          axis=1)
    assert {p.pid for p in worker_processes()} == before  # the warm pool is still there


@pytest.mark.slow  # starts a pool of its own
def test_more_worker_processes_than_cpus_warn():
    df = pd.DataFrame({"a": range(20)})
    n_jobs = usable_cpu_count() + 1
    with pytest.warns(pdpar.PdparWarning, match=f"n_jobs={n_jobs} starts {n_jobs} worker "
                                                "processes on .* usable CPUs") as record:
        got = df.par(backend="processes", n_jobs=n_jobs, chunksize=5).apply(lambda row: row.a,
                                                                              axis=1)
    assert record[0].filename == __file__
    pd.testing.assert_series_equal(got, df["a"].rename(None))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # threads may be more than CPUs
        df.par(backend="threads", n_jobs=n_jobs, chunksize=5).apply(lambda row: row.a, axis=1)


def test_a_warning_reaches_a_caller_with_no_source_file():
    # python -c: the caller's frame has globals but no source for warnings to show
    program = ("import warnings, pandas as pd, pdpar\n"
               "def f(x):\n"
               "    warnings.warn('careful', UserWarning, stacklevel=1)\n"
               "    return x\n"
               "pd.Series(range(4)).par(backend='threads', n_jobs=2, chunksize=1).map(f)\n")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "<string>:5: UserWarning: careful"


@pytest.mark.skipif(not PANDAS_3, reason="pandas 3 deprecates Series.map(arg=...)")
def test_pandas_warnings_point_at_the_callers_line():
    s = pd.Series([1, 2, 3])
    with pytest.warns(DeprecationWarning, match="arg") as record:
        s.par(backend="threads", chunksize=1).map(arg=abs)
    assert record[0].filename == __file__


def first_ends_last(folder, i):
    # chunk 0 ends only after chunk 3 has ended: chunks 1 to 3 run on the other worker meanwhile
    if i == 0:
        wait_for(os.path.join(folder, "3"))
    with open(os.path.join(folder, "ended"), "a") as ended:
        ended.write(f"{i}\n")
    Path(folder, str(i)).touch()
    return i


@pytest.mark.parametrize("backend", ["threads", "processes"])
def test_results_are_yielded_in_chunk_order_even_when_later_chunks_finish_first(backend,
                                                                                 tmp_path):
    chunks = [(str(tmp_path), i) for i in range(4)]
    got = list(run_chunks(first_ends_last, chunks, backend=backend, n_jobs=2))
    assert got == [0, 1, 2, 3]
    assert (tmp_path / "ended").read_text().split() == ["1", "2", "3", "0"]


def test_at_most_max_inflight_chunks_are_submitted_and_not_collected():
    lock = threading.Lock()
    state = {"running": 0, "peak": 0}

    def task(i):
        with lock:
            state["running"] += 1
            state["peak"] = max(state["peak"], state["running"])
        time.sleep(0.01)
        with lock:
            state["running"] -= 1
        return i

    collected = []
    for i in run_chunks(task, [(i,) for i in range(40)], backend="threads", n_jobs=8,
                        max_inflight=3):
        collected.append(i)
    assert collected == list(range(40))
    assert state["peak"] <= 3


def test_no_pdpar_threads_outlive_a_call():
    pd.Series(range(100)).par(backend="threads", chunksize=5).map(abs)
    assert not [t for t in threading.enumerate() if t.name.startswith("pdpar")]


def test_a_slow_chunk_does_not_hold_back_the_others():
    last_started = threading.Event()
    ended = []

    def task(i):
        if i == 0:  # runs until the last chunk has started
            last_started.wait(timeout=GIVE_UP)
        elif i == 11:
            last_started.set()
        ended.append(i)
        return i

    got = list(run_chunks(task, [(i,) for i in range(12)], backend="threads", n_jobs=2,
                          max_inflight=3))
    assert got == list(range(12))
    # every other chunk ran on the second thread while the first one was still running
    assert ended[-1] == 0, ended


def test_chunks_are_taken_from_a_lazy_source_only_when_there_is_room():
    finished = []
    ahead = []

    def chunks():
        for i in range(20):
            ahead.append(i - len(finished))  # chunks made and not yet finished
            yield (i,)

    def task(i):
        time.sleep(0.005)
        finished.append(i)
        return i

    assert list(run_chunks(task, chunks(), backend="threads", n_jobs=2,
                           max_inflight=4)) == list(range(20))
    assert max(ahead) <= 4


class _Collected:
    """A progress sink that learns which chunk the caller collected: run with sizes=range(n),
    run_chunks reports chunk i as update(i)."""

    def __init__(self, chunk, event):
        self._chunk = chunk
        self._event = event

    def update(self, i):
        if i == self._chunk:
            self._event.set()

    def close(self):
        pass


def test_the_first_failure_in_input_order_wins_and_later_chunks_are_cancelled():
    ran = []
    second_collected = threading.Event()

    def task(i):
        ran.append(i)
        if i == 0:  # fails after the caller has collected chunk 1's failure
            second_collected.wait(timeout=GIVE_UP)
            raise KeyError("first")
        if i == 1:
            raise ValueError("second")
        return i

    with pytest.raises(KeyError, match="first"):
        list(run_chunks(task, [(i,) for i in range(50)], backend="threads", n_jobs=2,
                        max_inflight=4, progress=_Collected(1, second_collected),
                        sizes=range(50)))
    assert second_collected.is_set()
    # nothing was submitted once chunk 1 had failed: only the first window of 4 chunks ran
    assert {0, 1} <= set(ran) <= {0, 1, 2, 3}, ran


def blas_threads(_):
    from threadpoolctl import threadpool_info

    return max((pool["num_threads"] for pool in threadpool_info()), default=0)


@pytest.mark.parametrize("backend", ["threads", "processes"])
def test_blas_threads_are_limited_so_workers_times_threads_fit_the_cpus(backend):
    from threadpoolctl import threadpool_info

    from pdpar.run.threads import inner_threads

    if not threadpool_info():
        pytest.skip("no BLAS or OpenMP library loaded")
    seen = list(run_chunks(blas_threads, [(i,) for i in range(4)], backend=backend, n_jobs=2))
    assert 0 < max(seen) <= inner_threads(2)


def pid_after(i, seconds):
    time.sleep(seconds)
    return i, os.getpid()


def test_while_a_pool_starts_the_caller_runs_chunks_itself_when_auto_chose_it():
    import pdpar

    pdpar.shutdown()  # a cold pool: its workers take a moment to start
    chunks = [(i, 0.05) for i in range(40)]
    got = list(run_chunks(pid_after, chunks, backend="processes", n_jobs=2, caller_helps=True))
    assert [i for i, _ in got] == list(range(40))  # every chunk once, in order
    pids = [pid for _, pid in got]
    assert os.getpid() in pids  # the caller ran some while the workers started
    assert set(pids) - {os.getpid()}  # and the workers ran the others
    pdpar.shutdown()
    named = list(run_chunks(pid_after, chunks[:6], backend="processes", n_jobs=2))
    assert os.getpid() not in {pid for _, pid in named}  # a named backend runs there only


def test_a_call_shorter_than_the_pool_start_runs_in_the_caller_alone():
    import pdpar

    pdpar.shutdown()  # a cold pool: starting it takes far longer than these chunks
    chunks = [(i, 0.005) for i in range(6)]
    got = list(run_chunks(pid_after, chunks, backend="processes", n_jobs=2, caller_helps=True))
    assert got == [(i, os.getpid()) for i in range(6)]  # nothing waited for the workers
    pdpar.shutdown()
