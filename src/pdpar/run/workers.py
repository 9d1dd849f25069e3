"""How pdpar's worker processes start and end: how many may start, what each does as it
starts, how the pool is stopped when the process that started it ends, and where no worker
process may be started."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any

from ..cpus import usable_cpu_count
from ..errors import PdparError, PdparWarning
from ..memory import available_bytes

__all__ = ["unavailable", "check_possible", "check_worker_count", "worker_started",
           "stop_at_exit", "PARENT_CHECK_SECONDS", "WORKER_BYTES"]

#: Memory one idle worker process takes: Python with numpy, pandas, pyarrow and pdpar (measured
#: here: 110 MB resident, 58 MB of it its own); the modules a function needs come on top.
WORKER_BYTES = 100 << 20


def check_worker_count(n_jobs: int) -> None:
    """Before ``n_jobs`` worker processes start: more of them than usable CPUs take turns on
    the CPUs, each with its own memory, and gain nothing: a :class:`PdparWarning`, or a
    PdparError when they would not fit in the memory available (64 workers asked for on 2 CPUs
    took 6 GB within seconds). Threads may be more than CPUs: they wait well."""
    cpus = usable_cpu_count()
    if n_jobs <= cpus:
        return
    need, room = n_jobs * WORKER_BYTES, available_bytes()
    if room is not None and need > room:
        raise PdparError(
            f"n_jobs={n_jobs} would start {n_jobs} worker processes, about {need >> 20} MB "
            f"({WORKER_BYTES >> 20} MB each), and {room >> 20} MB of memory is available; "
            f"this process may use {cpus} CPUs, so n_jobs={cpus} (or -1) is enough for "
            "processes (backend='threads' may have more threads than CPUs)")
    warnings.warn(
        f"n_jobs={n_jobs} starts {n_jobs} worker processes on {cpus} usable CPUs: processes "
        f"beyond the CPUs only take turns on them, and each takes about {WORKER_BYTES >> 20} "
        f"MB. n_jobs=-1 starts one per usable CPU; backend='threads' may have more threads "
        "than CPUs, for functions that wait.", PdparWarning, stacklevel=2)


def unavailable() -> str | None:
    """Why this process cannot start worker processes, or None when it can."""
    # a process multiprocessing started has imported it; importing it here to find out would
    # cost a first call about 8 ms
    multiprocessing = sys.modules.get("multiprocessing")
    if multiprocessing is not None and multiprocessing.current_process().daemon:
        return ("this is a daemonic process (a multiprocessing.Pool worker, say), and a "
                "daemonic process may not start processes of its own")
    return None


def check_possible() -> None:
    """Raise PdparError, saying what works instead, when this process cannot start worker
    processes (``backend="processes"`` named in a daemonic process)."""
    why = unavailable()
    if why:
        raise PdparError(f"backend='processes' cannot start worker processes here: {why}. "
                         "backend='threads' (or 'auto', which then runs on threads or in "
                         "the calling process) works here.")


#: Seconds between a worker's checks that the process that started it is alive.
PARENT_CHECK_SECONDS = 1.0


def worker_started(caller: int) -> None:
    """Run in each worker process as it starts.

    SIGINT is ignored: Ctrl-C in a terminal, or a notebook kernel's shutdown, sends it to the
    whole process group, and each idle worker printed a KeyboardInterrupt traceback. The
    calling process stops its workers itself when it is interrupted. And the worker exits,
    busy or idle, within :data:`PARENT_CHECK_SECONDS` of the death of the process that started
    it, ``caller`` (killed, or ended without stopping its pool), instead of living on until its
    idle timeout: a thread watches for the worker being handed to another parent. The caller
    may be dead already: it can be killed while this worker still imports what it needs.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(caller,), daemon=True,
                     name="pdpar-parent-watch").start()


def _exit_with_parent(caller: int) -> None:
    while os.getppid() == caller:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)


def stop_at_exit(stop: Callable[[], None]) -> Any:
    """Stop the pool when this process ends, also as a ``multiprocessing`` child.

    A child started by ``multiprocessing`` (a ``ProcessPoolExecutor`` job, an ``mp.Process``)
    never runs ``atexit`` handlers: it ends by waiting for its own children, pdpar's idle
    workers among them, which left only at their idle timeout (300 s). multiprocessing runs
    its finalizers first, in children and at the main process's exit alike.
    """
    from multiprocessing import util

    return util.Finalize(None, stop, exitpriority=100)
