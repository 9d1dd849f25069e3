"""What the fault and ordering tests share: events that chunks and tests wait for, what is left
in a folder, pdpar's worker processes."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import psutil

#: Seconds to wait for processes that were stopped to be gone, on a busy 2-core machine.
PROMPT = 10.0

#: Seconds a test, or a chunk it runs, waits for an event before it gives up: only a test
#: that is failing waits this long (a chunk that gave up ends, so no worker is left spinning).
GIVE_UP = 120.0


def wait_for(path: str | Path, give_up: float = GIVE_UP) -> bool:
    """Wait until the file ``path`` exists: an event another thread or process made by
    creating it (``Path.touch``). False if it did not come within ``give_up`` seconds."""
    deadline = time.monotonic() + give_up
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def wait_until(condition: Callable[[], object], what: str, give_up: float = GIVE_UP) -> None:
    """Wait until ``condition()`` holds; fail, saying ``what`` never happened, if it does not
    within ``give_up`` seconds (the test would hang otherwise)."""
    deadline = time.monotonic() + give_up
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.01)


def leftovers(folders: list[Path]) -> list[str]:
    """Everything left in ``folders`` (files and folders, recursively)."""
    return sorted(str(p) for folder in folders for p in folder.rglob("*"))


def _is_resource_tracker(proc: psutil.Process) -> bool:
    # one per interpreter, started by multiprocessing and loky; not a worker of any call
    try:
        return "resource_tracker" in " ".join(proc.cmdline())
    except psutil.Error:
        return False


def _joblib_worker_pids() -> set[int]:
    # joblib.Parallel's own pool (backend="loky" in other tests): pdpar's pool is apart from it
    from joblib.externals.loky import reusable_executor

    executor = reusable_executor._executor
    return set(getattr(executor, "_processes", None) or ()) if executor is not None else set()


def _is_live(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def worker_processes(pid: int | None = None) -> list[psutil.Process]:
    """The live worker processes below process ``pid`` (default: this one), trackers and the
    workers of joblib's own pool left out.

    A worker that ended but that its pool has not reaped yet (a zombie) is not counted;
    :func:`still_there` counts it.
    """
    try:
        children = psutil.Process(pid or os.getpid()).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    joblib_workers = _joblib_worker_pids()
    return [p for p in children if _is_live(p) and not _is_resource_tracker(p)
            and p.pid not in joblib_workers]


def still_there(procs: list[psutil.Process], timeout: float = PROMPT) -> list[psutil.Process]:
    """Those of ``procs`` that still exist (zombies included) after waiting up to ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        alive = [p for p in procs if p.is_running()]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)
