"""Ctrl-C (SIGINT to a program running a long pdpar call) stops the call at once.

The program runs in a subprocess so that the signal reaches it as it reaches a user's program.
It prints what the test waits for; the test checks the time until KeyboardInterrupt, the
worker processes, threads and spool files left, and that a following call works.
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
from reliability import PROMPT, leftovers, still_there, worker_processes

PROGRAM = f"""
import signal, sys, threading, time
import numpy as np, pandas as pd, pdpar

# Python's own Ctrl-C handler, even when the test runs in a background job, which starts its
# children with SIGINT ignored
signal.signal(signal.SIGINT, signal.default_int_handler)

BIG = {BIG}

def busy(x):
    if x % BIG == 0:  # the first element of each chunk keeps its worker busy in Python
        end = time.monotonic() + 60
        while time.monotonic() < end:
            pass
    return x

def pdpar_threads():
    return [t for t in threading.enumerate() if t.name.startswith("pdpar")]

backend = sys.argv[1]
s = pd.Series(np.arange(6 * BIG, dtype=np.float64))
s.iloc[:4].par(backend=backend, n_jobs=2, chunksize=1).map(abs)  # a warm pool
print("ready", flush=True)
try:
    s.par(backend=backend, n_jobs=2, chunksize=BIG).map(busy)
    print("finished", flush=True)
except KeyboardInterrupt:
    print("interrupted", flush=True)
    started = time.monotonic()
    while pdpar_threads() and time.monotonic() - started < 10:
        time.sleep(0.01)
    print(f"threads {{len(pdpar_threads())}} after {{time.monotonic() - started:.2f}} s",
          flush=True)
sys.stdin.readline()  # the test looks at processes and files meanwhile
s = s.iloc[:3 * BIG]
got = s.par(backend=backend, n_jobs=2, chunksize=BIG).map(abs)
print("next", got.equals(s.map(abs)), flush=True)
"""


@pytest.mark.parametrize("backend", ["processes", "threads"])
def test_ctrl_c_stops_the_call_at_once_and_leaves_nothing_behind(backend, spool_dirs):
    shm, disk = spool_dirs  # the program's too: it inherits the environment
    program = subprocess.Popen([sys.executable, "-c", PROGRAM, backend], text=True,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert program.stdout.readline().strip() == "ready"
        if backend == "processes":  # wait until later chunks wait in the spool
            deadline = time.monotonic() + PROMPT
            while not [p for p in leftovers([shm]) if "chunk-" in p]:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        time.sleep(0.5)  # the call is running: both workers busy
        workers = worker_processes(program.pid)
        assert len(workers) == (2 if backend == "processes" else 0)
        program.send_signal(signal.SIGINT)
        sent = time.monotonic()
        assert program.stdout.readline().strip() == "interrupted"
        seconds = time.monotonic() - sent
        threads = program.stdout.readline().strip()
        print(f"\n{backend}: KeyboardInterrupt {seconds:.3f} s after SIGINT; {threads}")
        assert seconds < 2.0
        assert threads.startswith("threads 0 ")
        assert still_there(workers) == []
        assert worker_processes(program.pid) == []
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


def sleep_a_second(x):
    time.sleep(1.0)
    return x


def test_ctrl_c_with_threads_blocked_in_a_c_call_returns_at_once_and_the_threads_follow():
    # a thread blocked in C (sleep, a socket read) can only stop when that call returns
    s = pd.Series(range(40))
    main = threading.main_thread().ident
    timer = threading.Timer(0.5, signal.pthread_kill, (main, signal.SIGINT))
    # Python's Ctrl-C handler, also when the tests run in a background job (SIGINT ignored)
    handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            s.par(backend="threads", n_jobs=2, chunksize=1).map(sleep_a_second)
    finally:
        signal.signal(signal.SIGINT, handler)
    interrupted = time.monotonic()
    timer.join()
    while pdpar_threads() and time.monotonic() - interrupted < PROMPT:
        time.sleep(0.01)
    seconds = time.monotonic() - interrupted
    print(f"\nthreads blocked in sleep(1): gone {seconds:.2f} s after KeyboardInterrupt")
    assert pdpar_threads() == []
    assert seconds < 5.0  # one sleep(1) at most, not the 20 s the call had left
    pd.testing.assert_series_equal(s.par(backend="threads", n_jobs=2, chunksize=1).map(abs),
                                   s.map(abs))


def pdpar_threads():
    return [t for t in threading.enumerate() if t.name.startswith("pdpar")]
