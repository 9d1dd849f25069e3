"""How pdpar's worker processes start and end: what each does as it starts."""

from __future__ import annotations

import os
import signal
import threading
import time

__all__ = ["worker_started", "PARENT_CHECK_SECONDS"]


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
