"""How pdpar's worker processes start and end: what each does as it starts, how the pool is
stopped when the process that started it ends, and where no worker process may be started."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from ..errors import PdparError

__all__ = ["unavailable", "check_possible", "worker_started", "stop_at_exit",
           "PARENT_CHECK_SECONDS"]


def unavailable() -> str | None:
    """Why this process cannot start worker processes, or None when it can."""
    import multiprocessing

    if multiprocessing.current_process().daemon:
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
