"""``backend="threads"``: a thread pool that lives for the call.

Each chunk runs in a copy of the caller's :mod:`contextvars` context, so settings such as
``np.errstate`` carry over. Ctrl-C raises KeyboardInterrupt in the running chunks
(:class:`RunningThreads`) and does not wait for them.
"""

from __future__ import annotations

import contextvars
import ctypes
import threading
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from ..cpus import usable_cpu_count
from .protocol import call_task, windowed

__all__ = ["run", "inner_threads", "RunningThreads"]


def inner_threads(n_jobs: int) -> int:
    """Threads each worker may give BLAS or OpenMP so that workers times threads <= CPUs."""
    return max(usable_cpu_count() // max(n_jobs, 1), 1)


def run(task: Callable[..., Any], chunks: Iterable[tuple], n_jobs: int, window: int,
        completed: Callable[[int], None]) -> Generator[Any, None, None]:
    """Outcomes of ``task(*args)`` for each chunk, computed on ``n_jobs`` threads, in order."""
    from threadpoolctl import threadpool_limits

    context = contextvars.copy_context()
    executor = ThreadPoolExecutor(max_workers=n_jobs, thread_name_prefix="pdpar")
    running = RunningThreads()

    def submit(i: int, args: tuple) -> Future:
        return executor.submit(running.run, context.copy().run, call_task, task, args, False)

    interrupted = False
    try:
        with threadpool_limits(limits=inner_threads(n_jobs)):
            yield from windowed(submit, chunks, window, completed)
    except KeyboardInterrupt:
        # Ctrl-C: ask the running chunks to stop and do not wait for them
        interrupted = True
        running.interrupt()
        raise
    finally:
        executor.shutdown(wait=not interrupted, cancel_futures=True)


class RunningThreads:
    """The pool threads running a chunk of one call, so that Ctrl-C can reach them.

    A thread cannot be killed. :meth:`interrupt` raises KeyboardInterrupt in each of them
    (``PyThreadState_SetAsyncExc``), which takes effect when the thread next runs Python
    code: a function looping in Python stops at once, one blocked in C (``time.sleep``, a
    socket read) when that call returns. An interrupt that arrives after the chunk ended is
    withdrawn, so it never reaches the pool's own code.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idents: set[int] = set()
        self._stopping = False

    def run(self, func: Callable[..., Any], *args: Any) -> Any:
        ident = threading.get_ident()
        with self._lock:
            if self._stopping:
                raise KeyboardInterrupt
            self._idents.add(ident)
        try:
            return func(*args)
        finally:
            with self._lock:
                self._idents.discard(ident)
                if self._stopping:
                    _set_async_exc(ident, None)

    def interrupt(self) -> None:
        with self._lock:
            self._stopping = True
            for ident in self._idents:
                _set_async_exc(ident, KeyboardInterrupt)


def _set_async_exc(ident: int, exc: type[BaseException] | None) -> None:
    """Raise ``exc`` in thread ``ident`` when it next runs Python code (None withdraws it)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(ident), ctypes.py_object(exc) if exc is not None else None)
