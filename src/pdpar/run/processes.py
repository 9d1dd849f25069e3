"""``backend="processes"``: a loky executor of pdpar's own, kept warm from call to call.

Never ``fork``; apart from the executor ``joblib.Parallel`` uses. Chunks reach the workers
through :mod:`pdpar.transport` (shared-memory spool files, not the pipe); the caller's
``np.errstate`` travels with each chunk. Inside workers the thread pools of BLAS and OpenMP
libraries are limited (threadpoolctl) so that workers times inner threads does not exceed the
CPUs.

A worker process that dies raises :class:`~pdpar.errors.WorkerCrashedError` naming its exit
code or signal and the chunk it was running (each chunk marks a file in the call's spool folder
while it runs). Ctrl-C kills the workers. Chunks already running when a chunk fails are left to
finish (killing them would cost the warm pool).

The pool lives no longer than the process that started it (:mod:`.workers`): workers ignore
SIGINT and exit within a second or two of its death, a process forked from it starts a pool of
its own, and a ``multiprocessing`` child stops its pool before ``multiprocessing`` waits for
that child's own children to end. A daemonic process (a ``multiprocessing.Pool`` worker) may
not start processes.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib
import os
import re
import threading
import time
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future
from typing import Any

import numpy as np

from .. import module_state, transport
from .._warnings import Warned, collected, reissue
from ..errors import ChunkSpan, PdparError, WorkerCrashedError
from .protocol import Failure, call_task, unpacking_failed, windowed
from .threads import inner_threads
from .workers import check_possible, check_worker_count, stop_at_exit, worker_started

__all__ = ["run", "shutdown", "pool_is_warm", "measured_start", "POOL_IDLE_SECONDS"]


def pool_is_warm(n_jobs: int) -> bool:
    """True when processes with ``n_jobs`` workers would find their pool already running."""
    pool = _pool
    return (pool is not None and pool.n_jobs == n_jobs and pool.usable()
            and bool(pool.executor._processes))


#: Thread-pool settings of numeric libraries, set for workers when they start so that
#: libraries loaded later are limited too.
_THREAD_LIMIT_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                      "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMBA_NUM_THREADS",
                      "NUMEXPR_NUM_THREADS")


#: Idle worker processes exit after this many seconds; the next call starts new ones.
POOL_IDLE_SECONDS = 300


class _Pool:
    """pdpar's loky executor and what it was started with."""

    __slots__ = ("executor", "n_jobs", "env", "at_exit", "ready")

    def __init__(self, n_jobs: int, env: dict[str, str]) -> None:
        from joblib.externals.loky import ProcessPoolExecutor

        self.executor = ProcessPoolExecutor(max_workers=n_jobs, timeout=POOL_IDLE_SECONDS,
                                            env=env, initializer=worker_started,
                                            initargs=(os.getpid(),))
        self.n_jobs = n_jobs
        self.env = env
        self.at_exit = stop_at_exit(shutdown)
        self.ready: Future | None = None  # the first task of the new workers

    def usable(self) -> bool:
        flags = self.executor._flags
        return not (flags.broken or flags.shutdown)


_pool: _Pool | None = None
_pool_lock = threading.Lock()


def _forget_inherited_pool() -> None:
    """In a forked child: the parent's pool is not this process's (its threads and pipes are
    the parent's); a call here starts a pool of its own."""
    global _pool, _pool_lock
    _pool = None
    _pool_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_inherited_pool)


def _process_pool(n_jobs: int, thread_limit: int, task_module: str) -> _Pool:
    """pdpar's own loky executor, kept warm from call to call, and its first task.

    Not joblib's reusable executor: ``joblib.Parallel`` (and scikit-learn through it) uses
    that one with other arguments, and each change of arguments restarts its workers, so a
    program alternating joblib and pdpar calls paid 0.3-0.8 s on every call (measured here).
    A pool of its own stays warm whatever else uses joblib. It is started again only when the
    workers or their thread limits change, or when a worker died. Chunks travel by
    :mod:`pdpar.transport`, not by joblib's memory-mapping.

    A new pool's first task imports ``task_module`` (what unpickling the first chunk would
    import anyway); the time until it is done is the pool's start-up as measured here
    (:func:`measured_start`), and until then a call that lets the caller help submits nothing
    (:func:`run`).
    """
    global _pool
    check_possible()
    env = {var: os.environ.get(var, str(thread_limit)) for var in _THREAD_LIMIT_VARS}
    with _pool_lock:
        pool = _pool
        if pool is None or pool.n_jobs != n_jobs or pool.env != env or not pool.usable():
            check_worker_count(n_jobs)  # before the warm pool is stopped
            if pool is not None:
                pool.at_exit.cancel()
                pool.executor.shutdown(wait=True, kill_workers=True)
            pool = _pool = _Pool(n_jobs, env)
            started = time.perf_counter()
            pool.ready = pool.executor.submit(importlib.import_module, task_module)
            pool.ready.add_done_callback(
                lambda future: _started(future, time.perf_counter() - started))
        return pool


_measured_start: float | None = None


def _started(future: Future, seconds: float) -> None:
    global _measured_start
    if not future.cancelled() and future.exception() is None:
        _measured_start = seconds


def measured_start() -> float | None:
    """Seconds the last start of pdpar's worker processes took here, until the first worker
    had imported what the call's chunks need; None before any start."""
    return _measured_start


_worker_thread_limit: int | None = None


def _limit_worker_threads(limit: int) -> None:
    """Limit the BLAS/OpenMP pools already loaded in this worker (once per worker and limit)."""
    global _worker_thread_limit
    if _worker_thread_limit != limit:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=limit)
        _worker_thread_limit = limit


def _call_parcel(task: Callable[..., Any], parcel: transport.Parcel,
                 errstate: dict[str, Any], thread_limit: int, marker: str) -> Any:
    """Run in a worker process: unpack the chunk a parcel carries and run the task on it.

    The ``marker`` file exists while the chunk runs, so that if this process dies the caller
    knows which chunk it was running.
    """
    _limit_worker_threads(thread_limit)
    _touch(marker)
    try:
        try:
            args = transport.receive(parcel)
        except Exception as exc:
            return unpacking_failed(exc)
        return _with_warnings(task, args, errstate)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(marker)


def _with_warnings(task: Callable[..., Any], args: tuple, errstate: dict[str, Any]) -> Any:
    """The task's outcome, with the distinct warnings it raised (:class:`Warned`) for the
    calling process to raise once per call, instead of this worker printing them."""
    with collected() as sent:
        outcome = call_task(task, args, True, errstate)
    return Warned(outcome, sent) if sent else outcome


def _touch(path: str) -> None:
    with contextlib.suppress(OSError):  # the call may be over: its folder is gone
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


_MARKER_PREFIX = "running-"


#: The caller may run chunks while the workers start (:func:`pdpar.run.run_chunks`).
CALLER_HELPS = True


def run(task: Callable[..., Any], chunks: Iterable[tuple], n_jobs: int, window: int,
        completed: Callable[[int], None], caller_helps: bool = False
        ) -> Generator[Any, None, None]:
    """Outcomes of ``task(*args)`` for each chunk, computed by pdpar's worker processes, in
    order.

    With ``caller_helps``, when the workers have to be started (0.5 to 1 s, more for a
    function whose modules take long to import), the caller runs the chunks itself until the
    first worker is up (its first task is done), then one chunk per worker goes to them while
    the caller goes on, until the first worker's chunk is back: the start costs the call little
    more than it takes the caller to notice it is over, and a call shorter than the start runs
    in the caller alone.
    """
    from joblib.externals.loky.process_executor import (
        BrokenProcessPool,
        ShutdownExecutorError,
        TerminatedWorkerError,
    )

    thread_limit = inner_threads(n_jobs)
    cold = caller_helps and not pool_is_warm(n_jobs)
    pool = _process_pool(n_jobs, thread_limit, task.__module__)
    executor = pool.executor
    errstate = np.geterr()
    spool = transport.Spool()
    folder = spool.scratch_folder()
    described: dict[int, str] = {}
    carrier = module_state.Carrier(task, spool)  # the caller's module state goes with it

    def submit(i: int, args: tuple) -> Future:
        described[i] = _describe_chunk(i, args)
        marker = os.path.join(folder, f"{_MARKER_PREFIX}{i}")
        return executor.submit(_call_parcel, carrier(args), spool.send(args), errstate,
                               thread_limit, marker)

    def collect(i: int, future: Future) -> Any:
        try:
            return reissue(future.result())
        except (BrokenProcessPool, ShutdownExecutorError):
            raise
        except Exception as exc:  # _call_parcel returns failures: loky could not send a result
            standin = PdparError(
                f"a result of the function could not be pickled to be sent back from the "
                f"worker process ({described[i]}): {exc!r}. With backend='processes' results "
                "must be picklable; backend='threads' needs no pickling.")
            standin.__cause__ = exc
            return Failure(standin, None)

    try:
        yield from windowed(submit, chunks, window, completed, collect,
                            helper=functools.partial(call_task, task, in_worker_process=False)
                            if cold else None, helper_window=n_jobs,
                            ready=pool.ready if cold else None)
    except TerminatedWorkerError as exc:
        raise WorkerCrashedError(_crash_message(exc, folder, described)) from exc
    except BrokenProcessPool as exc:
        if "result" in str(exc):  # loky could not unpickle a result; it stopped the workers
            why = str(exc.__cause__ or exc).strip().splitlines()[-1]
            raise PdparError(
                "a result sent back by a worker process could not be unpickled in the calling "
                f"process ({why}). With backend='processes' results must be picklable; "
                "backend='threads' needs no pickling.") from exc
        raise WorkerCrashedError(f"the worker processes stopped working: {exc}") from exc
    except KeyboardInterrupt:
        shutdown()  # stop the chunks that are running, not only the queued ones
        raise
    finally:
        spool.close()


def _describe_chunk(i: int, args: tuple) -> str:
    """The chunk's :class:`ChunkSpan` in words, if its arguments carry one."""
    return next((str(arg) for arg in args if isinstance(arg, ChunkSpan)), f"chunk {i + 1}")


def _crash_message(exc: BaseException, folder: str, described: dict[int, str]) -> str:
    """What died, while running which chunk, and what to try."""
    try:
        names = os.listdir(folder)
    except OSError:
        names = []
    running = sorted(int(name[len(_MARKER_PREFIX):]) for name in names
                     if name.startswith(_MARKER_PREFIX))
    codes = re.findall(r"\b([A-Z]+)\((-?\d+)\)", str(exc))
    how = ", ".join(_exit_in_words(name, int(code)) for name, code in codes) or "exit unknown"
    if len(running) == 1:
        where = f"while running {described[running[0]]}"
    elif running:
        # every worker is stopped when one dies: which of the running chunks it was is unknown
        where = "while running one of: " + "; ".join(described[i] for i in running)
    else:
        where = "between chunks"
    return (f"a worker process died ({how}) {where}. If it ran out of memory, try fewer "
            "workers (n_jobs) or smaller chunks (chunksize); a crash in compiled code prints "
            "the worker's traceback on stderr.")


_SIGNALS_IN_WORDS = {
    "SIGKILL": "killed by SIGKILL, as the out-of-memory killer does",
    "SIGSEGV": "segmentation fault, SIGSEGV",
    "SIGBUS": "bus error, SIGBUS",
    "SIGABRT": "aborted, SIGABRT",
}


def _exit_in_words(name: str, code: int) -> str:
    if code >= 0:
        return f"exit code {code}"
    return _SIGNALS_IN_WORDS.get(name, f"signal {name}")


def shutdown() -> None:
    """Stop pdpar's warm worker processes; the next call with processes starts new ones."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.at_exit.cancel()
        pool.executor.shutdown(wait=True, kill_workers=True)


# while the interpreter still has its modules: an executor collected during teardown makes
# loky print "Exception ignored in ... weakref_cb"
atexit.register(shutdown)
