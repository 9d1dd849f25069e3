"""Real faults during a call: dying workers, unpicklable things, failing chunks.

Each test injects the fault for real and checks what the caller gets (type and message), that
it does not wait for chunks still running, that no worker process and no spool file is left
behind, and that the next call works.
Ctrl-C is in test_interrupt.py, memory in test_memory.py, many calls in test_soak.py.
"""

import ctypes
import functools
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pdpar
from conftest import BIG
from pdpar import transport
from reliability import leftovers, still_there, wait_for, worker_processes


def warm_workers():
    """Start the warm pool (two workers) and return its worker processes."""
    s = pd.Series(range(8))
    s.par(backend="processes", n_jobs=2, chunksize=1).map(abs)
    return worker_processes()


def crash(how):
    if how == "exit":
        os._exit(3)
    if how == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if how == "segfault":
        ctypes.string_at(0)


def crash_in_chunk_three(x, how, events):
    if x == 0:  # the first chunk runs until its worker is stopped (or it gives up)
        wait_for(os.path.join(events, "no such event"))
        Path(events, "first chunk ended").touch()
    if x == 2 * BIG:  # the first element of the third chunk
        crash(how)
    return x


@pytest.mark.parametrize("how, words", [
    ("exit", "exit code 3"),
    # the same path, other deaths: each of these restarts the pool again
    pytest.param("kill", "SIGKILL", marks=pytest.mark.slow),
    pytest.param("segfault", "SIGSEGV", marks=pytest.mark.slow),
])
def test_a_dying_worker_raises_worker_crashed_naming_the_chunk_and_the_exit(
        how, words, spool_dirs, tmp_path):
    before = warm_workers()
    events = tmp_path / "events"
    events.mkdir()
    s = pd.Series(np.arange(5 * BIG, dtype=np.float64))
    with pytest.raises(pdpar.WorkerCrashedError) as info:
        s.par(backend="processes", n_jobs=2, chunksize=BIG).apply(crash_in_chunk_three,
                                                                  args=(how, str(events)))
    # the crash was raised while the first chunk still ran: pdpar did not wait for it
    assert not (events / "first chunk ended").exists()
    message = str(info.value)
    print(f"\n{how}: {message}")
    assert words in message
    # the other worker's chunk was running too: each worker stops when one dies
    assert (f"while running one of: chunk 1 of 5, elements 0 to {BIG - 1}; "
            f"chunk 3 of 5, elements {2 * BIG} to {3 * BIG - 1}.") in message
    assert "n_jobs" in message and "chunksize" in message
    assert still_there(before) == []  # the dead worker and the others were all stopped
    assert leftovers(spool_dirs) == []
    # the next call works: a new pool replaces the broken one
    pd.testing.assert_series_equal(s.par(backend="processes", n_jobs=2, chunksize=BIG).map(abs),
                                   s.map(abs))
    assert len(worker_processes()) == 2
    assert leftovers(spool_dirs) == []


def crash_once_alone(x, how):
    if x == 3:
        crash(how)
    return x


def test_one_worker_names_exactly_the_chunk_it_ran(spool_dirs):
    s = pd.Series(range(10))
    with pytest.raises(pdpar.WorkerCrashedError,
                       match=r"exit code 3\) while running chunk 2 of 5, elements 2 to 3\."):
        s.par(backend="processes", n_jobs=1, chunksize=2).apply(crash_once_alone,
                                                                args=("exit",))
    pd.testing.assert_series_equal(s.par(backend="processes", n_jobs=1, chunksize=2).map(abs),
                                   s.map(abs))
    assert leftovers(spool_dirs) == []


# -- fail fast ---------------------------------------------------------------------------------

def fail_on_1(x, events, later_chunks_wait_for):
    Path(events, f"started {x}").touch()
    if x == 1:
        raise ValueError("one")
    # chunk 0 ends once the caller has collected chunk 1's failure; the later chunks end
    # on the event they are given
    wait_for(os.path.join(events, "collected" if x == 0 else later_chunks_wait_for))
    Path(events, f"ended {x}").touch()
    return x


def _numbered(folder, word):
    return {int(p.name.split()[1]) for p in folder.glob(f"{word} *")}


@pytest.mark.parametrize("backend", ["threads", "processes"])
def test_a_failing_chunk_raises_without_waiting_for_the_others(backend, spool_dirs, tmp_path):
    events = tmp_path / "events"
    events.mkdir()
    # a thread cannot be stopped: a call on threads ends when its running chunks have ended
    later = "call ended" if backend == "processes" else "collected"
    s = pd.Series(range(20))
    with pytest.raises(ValueError, match="one") as info:
        s.par(backend=backend, n_jobs=2, chunksize=1,
              progress=lambda done, total: (events / "collected").touch()).map(
            functools.partial(fail_on_1, events=str(events), later_chunks_wait_for=later))
    ended = _numbered(events, "ended")
    (events / "call ended").touch()
    # chunk 1 waited for chunk 0, which could have failed first: pandas runs it first
    assert 0 in ended
    if backend == "processes":
        assert ended == {0}  # and for nothing else: the later chunks were still running
    assert "element labelled 1 (chunk 2 of 20" in "\n".join(info.value.__notes__)
    # the chunks already running in processes finish on their own; the next call queues
    # behind them and works
    pd.testing.assert_series_equal(s.par(backend=backend, n_jobs=2, chunksize=1).map(abs),
                                   s.map(abs))
    # nothing was started after chunk 1 failed: only the first window (2 per worker) ran
    assert {0, 1} <= _numbered(events, "started") <= {0, 1, 2, 3}
    assert leftovers(spool_dirs) == []
    assert not [t for t in threading.enumerate() if t.name.startswith("pdpar")]


# -- things that cannot be pickled -----------------------------------------------------------

_LOCK = threading.Lock()


def holds_a_lock(x):
    with _LOCK:
        return x


def with_argument(x, extra):
    return x


def returns_a_lock(x):
    return threading.Lock()


class UnpicklableHere:
    """Pickles in a worker, but cannot be unpickled in the calling process."""

    def __reduce__(self):
        return (int, ("not a number",))


def returns_unpicklable_here(x):
    return UnpicklableHere()


#: Set in the calling process only: a worker imports this module afresh.
_CALLER = {"pid": None}


def _only_in_the_caller():
    if _CALLER["pid"] != os.getpid():
        raise ImportError("this module is not importable in a worker")
    return "fine"


class LoadsOnlyInTheCaller:
    def __reduce__(self):
        return (_only_in_the_caller, ())


def with_lock_in_closure():
    lock = threading.Lock()

    def func(x):
        with lock:
            return x
    return func


CASES = {
    "function": (lambda s: s.par(backend="processes", n_jobs=2, chunksize=5).map(
        with_lock_in_closure()), "could not pickle the function with_lock_in_closure.<locals>"),
    "argument": (lambda s: s.par(backend="processes", n_jobs=2, chunksize=5).apply(
        with_argument, args=(threading.Lock(),)), "could not pickle an argument given for the "
                                                  "function"),
    "keyword": (lambda s: s.par(backend="processes", n_jobs=2, chunksize=5).apply(
        with_argument, extra=threading.Lock()), "could not pickle an argument given"),
    "data": (lambda s: s.astype(object).where(s != 3, threading.Lock()).par(
        backend="processes", n_jobs=2, chunksize=5).map(str), "could not pickle the data"),
    "broadcast": (lambda s: s.par(backend="processes", n_jobs=2, chunksize=5,
                                  broadcast={"extra": threading.Lock()}).map(with_argument),
                  "broadcast"),
    "result": (lambda s: s.par(backend="processes", n_jobs=2, chunksize=5).map(returns_a_lock),
               "a result of the function could not be pickled to be sent back from the worker "
               "process (chunk 1 of 4, elements 0 to 4)"),
    "result-in-caller": (lambda s: s.par(backend="processes", n_jobs=2, chunksize=5).map(
        returns_unpicklable_here), "a result sent back by a worker process could not be "
                                   "unpickled in the calling process"),
    "argument-in-worker": (lambda s: s.par(backend="processes", n_jobs=2, chunksize=5).apply(
        with_argument, args=(LoadsOnlyInTheCaller(),)), "a worker process could not unpickle "
                                                        "its chunk"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_what_cannot_be_pickled_is_named_and_threads_are_suggested(case, spool_dirs):
    call, words = CASES[case]
    _CALLER["pid"] = os.getpid()
    s = pd.Series(range(20))
    with pytest.raises(pdpar.PdparError) as info:
        call(s)
    message = str(info.value)
    assert words in message, message
    assert "backend='threads'" in message
    assert not isinstance(info.value, pdpar.WorkerCrashedError)
    pd.testing.assert_series_equal(s.par(backend="processes", n_jobs=2, chunksize=5).map(abs),
                                   s.map(abs))
    assert leftovers(spool_dirs) == []


def test_the_same_calls_work_on_threads():
    s = pd.Series(range(20))
    got = s.par(backend="threads", n_jobs=2, chunksize=5).apply(with_argument,
                                                                args=(threading.Lock(),))
    pd.testing.assert_series_equal(got, s)
    func = with_lock_in_closure()
    pd.testing.assert_series_equal(s.par(backend="threads", n_jobs=2, chunksize=5).map(func),
                                   s.map(func))


MAIN_SCRIPT = """
import pandas as pd
import pdpar

def top_level(x):
    return x * 2

def make_closure(k):
    def add_k(x):
        return x + k
    return add_k

if __name__ == "__main__":
    s = pd.Series(range(50))
    for func in [top_level, make_closure(7), lambda x: x - 1]:
        got = s.par(backend="processes", n_jobs=2, chunksize=5).map(func)
        pd.testing.assert_series_equal(got, s.map(func))
    df = pd.DataFrame({"k": [i % 4 for i in range(50)], "x": range(50)})
    got = df.par(backend="processes", n_jobs=2, chunksize=1).groupby("k").apply(
        lambda g: g["x"].sum() + 1)
    pd.testing.assert_series_equal(got, df.groupby("k").apply(lambda g: g["x"].sum() + 1))
    print("ok")
"""


@pytest.mark.slow
def test_functions_defined_in_main_lambdas_and_closures_work_with_processes(tmp_path):
    import subprocess
    import sys

    script = tmp_path / "script.py"
    script.write_text(MAIN_SCRIPT)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
    assert "Exception ignored" not in done.stderr  # the warm pool stops cleanly at exit


# -- files left behind ------------------------------------------------------------------------

def test_files_a_worker_adds_while_the_call_ends_are_removed_with_the_folder(spool_dirs):
    # a chunk left running by a failed call marks files in the call's folder while the call
    # removes it: nothing may survive
    from pdpar.run.processes import _touch

    for _ in range(50):
        spool = transport.Spool()
        folder = spool.scratch_folder()
        stop = threading.Event()

        def left_running(folder=folder, stop=stop):
            i = 0
            while not stop.is_set():
                _touch(os.path.join(folder, f"running-{i}"))
                i += 1

        worker = threading.Thread(target=left_running)
        worker.start()
        time.sleep(0.002)
        spool.close()
        stop.set()
        worker.join()
        assert leftovers(spool_dirs) == []
