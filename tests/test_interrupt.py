"""Ctrl-C (SIGINT to a program running a long pdpar call) stops the call at once.

The program runs in a subprocess so that the signal reaches it as it reaches a user's program.
Its chunks run until the test releases them, which it never does: the test checks that
KeyboardInterrupt came while they still ran, that they were stopped rather than left to end,
the worker processes, threads and spool files left, and that a following call works.

The tests press Ctrl-C until it is noticed: CPython runs a signal's handler between bytecodes,
so a SIGINT that arrives just before the main thread starts to wait on a lock is handled only
when that wait ends (here, when a chunk gives up), as a user who presses Ctrl-C twice knows. The
handlers raise KeyboardInterrupt at the first press they handle and ignore the others.
"""

import signal
import subprocess
import sys
import threading
import time

import pandas as pd
import psutil
import pytest

from conftest import BIG
from reliability import GIVE_UP, leftovers, still_there, wait_until, worker_processes

PROGRAM = f"""
import os, signal, sys, threading, time
import numpy as np, pandas as pd, pdpar

BIG = {BIG}
GIVE_UP = {GIVE_UP}
backend, events = sys.argv[1], sys.argv[2]

def event(name):
    open(os.path.join(events, name), "w").close()

def ctrl_c(signum, frame):  # KeyboardInterrupt, at the first press only
    if not os.path.exists(os.path.join(events, "noticed")):
        event("noticed")
        raise KeyboardInterrupt

# also when the test runs in a background job, which starts its children with SIGINT ignored
signal.signal(signal.SIGINT, ctrl_c)

def busy(x):
    if x % BIG == 0:  # the first element of each chunk keeps its worker busy in Python
        chunk = int(x) // BIG
        event(f"busy {{chunk}}")
        released, end = os.path.join(events, "released"), time.monotonic() + GIVE_UP
        while not os.path.exists(released) and time.monotonic() < end:
            pass
        event(f"ended {{chunk}}")
    return x

def pdpar_threads():
    return [t for t in threading.enumerate() if t.name.startswith("pdpar")]

s = pd.Series(np.arange(6 * BIG, dtype=np.float64))
s.iloc[:4].par(backend=backend, n_jobs=2, chunksize=1).map(abs)  # a warm pool
print("ready", flush=True)
try:
    s.par(backend=backend, n_jobs=2, chunksize=BIG).map(busy)
    print("finished", flush=True)
except KeyboardInterrupt:
    print("interrupted", flush=True)
    end = time.monotonic() + GIVE_UP
    while pdpar_threads() and time.monotonic() < end:
        time.sleep(0.01)
    print(f"threads {{len(pdpar_threads())}}", flush=True)
sys.stdin.readline()  # the test looks at processes and files meanwhile
s = s.iloc[:3 * BIG]
got = s.par(backend=backend, n_jobs=2, chunksize=BIG).map(abs)
print("next", got.equals(s.map(abs)), flush=True)
"""


def press_ctrl_c(press, noticed, first=lambda: True):
    """A thread that, once ``first()`` holds, calls ``press()`` (a SIGINT) every 0.05 s until
    ``noticed()``; it gives up after GIVE_UP seconds. Started; join it."""

    def pressing():
        deadline = time.monotonic() + GIVE_UP
        while not first() and time.monotonic() < deadline:
            time.sleep(0.005)
        while not noticed() and time.monotonic() < deadline:
            press()
            time.sleep(0.05)

    thread = threading.Thread(target=pressing)
    thread.start()
    return thread


@pytest.mark.parametrize("backend", [pytest.param("processes", marks=pytest.mark.slow), "threads"])
def test_ctrl_c_stops_the_call_at_once_and_leaves_nothing_behind(backend, spool_dirs, tmp_path):
    shm, disk = spool_dirs  # the program's too: it inherits the environment
    events = tmp_path / "events"
    events.mkdir()
    program = subprocess.Popen([sys.executable, "-c", PROGRAM, backend, str(events)], text=True,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert program.stdout.readline().strip() == "ready"
        wait_until(lambda: len(list(events.glob("busy *"))) == 2, "both workers are busy")
        if backend == "processes":
            wait_until(lambda: [p for p in leftovers([shm]) if "chunk-" in p],
                       "later chunks wait in the spool")
        workers = worker_processes(program.pid)
        assert len(workers) == (2 if backend == "processes" else 0)
        pressing = press_ctrl_c(lambda: program.send_signal(signal.SIGINT),
                                (events / "noticed").exists)
        assert program.stdout.readline().strip() == "interrupted"
        pressing.join()
        # KeyboardInterrupt came while the busy chunks still ran: the call did not wait
        assert sorted(events.glob("ended *")) == []
        assert program.stdout.readline().strip() == "threads 0"
        assert still_there(workers) == []
        assert worker_processes(program.pid) == []
        # the chunks were stopped (never released, none of them ran to its end)
        assert sorted(events.glob("ended *")) == []
        assert leftovers([shm, disk]) == []
        program.stdin.write("\n")
        program.stdin.flush()
        assert program.stdout.readline().strip() == "next True"
        everything = psutil.Process(program.pid).children(recursive=True)
        assert program.wait(timeout=60) == 0
        assert still_there(everything) == []  # nothing outlives the program
    finally:
        if program.poll() is None:
            program.kill()
            program.wait()
    assert leftovers([shm, disk]) == []


def test_ctrl_c_with_threads_blocked_in_a_c_call_returns_at_once_and_the_threads_follow():
    # a thread blocked in C (a lock, sleep, a socket read) can only stop when that call returns
    s = pd.Series(range(40))
    started, ended = [], []
    release, noticed = threading.Event(), threading.Event()

    def blocked_in_c(x):
        started.append(x)
        release.wait(timeout=GIVE_UP)  # blocked in C, acquiring a lock
        ended.append(x)
        return x

    def ctrl_c(signum, frame):  # KeyboardInterrupt, at the first press only
        if not noticed.is_set():
            noticed.set()
            raise KeyboardInterrupt

    main = threading.main_thread().ident
    # also when the tests run in a background job, which starts them with SIGINT ignored
    handler = signal.signal(signal.SIGINT, ctrl_c)
    try:
        pressing = press_ctrl_c(lambda: signal.pthread_kill(main, signal.SIGINT),
                                noticed.is_set, first=lambda: len(started) == 2)
        with pytest.raises(KeyboardInterrupt):
            s.par(backend="threads", n_jobs=2, chunksize=1).map(blocked_in_c)
        # the call returned while both threads were still blocked
        assert sorted(started) == [0, 1] and ended == []
    finally:
        release.set()
        pressing.join()
        signal.signal(signal.SIGINT, handler)
    wait_until(lambda: not pdpar_threads(), "the pool's threads end")
    # each thread stopped as its C call returned: its chunk did not go on, and no chunk of the
    # 38 the call had left started
    assert sorted(started) == [0, 1] and ended == []
    pd.testing.assert_series_equal(s.par(backend="threads", n_jobs=2, chunksize=1).map(abs),
                                   s.map(abs))


def pdpar_threads():
    return [t for t in threading.enumerate() if t.name.startswith("pdpar")]
