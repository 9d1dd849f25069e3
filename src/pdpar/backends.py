"""Running chunk tasks: serially, on threads, on processes, or on any joblib backend.

This is the only module that starts workers. It knows nothing of pandas: it receives a task (a
module-level function), one argument tuple per chunk, and yields the tasks' results in chunk
order.

>>> from pdpar.backends import run_chunks
>>> list(run_chunks(pow, [(2, 3), (3, 2)], backend="threads", n_jobs=2))
[8, 9]

- ``"threads"``: a thread pool that lives for the call. Each chunk runs in a copy of the
  caller's :mod:`contextvars` context, so settings such as ``np.errstate`` carry over.
- ``"processes"``: a loky executor of pdpar's own, reused across calls (a warm pool; never
  ``fork``), apart from the one ``joblib.Parallel`` uses.
  The caller's ``np.errstate`` travels with each chunk.
- any other name: ``joblib.Parallel`` with that backend (``"dask"``, ``"ray"``, ...).

At most ``max_inflight`` chunks are submitted and not yet collected. Results are collected as
they complete, so one slow chunk does not hold back the others, and put back in chunk order.
A task that raises is reported as pandas would report it: the exception of the first failing
chunk in input order is raised with its own type. The chunks after a failing one are cancelled
at once; those before it still run, since one of them may fail first. For processes the
worker's traceback is chained to the exception as a :class:`~pdpar.errors.RemoteTraceback`.
Chunks already running in worker processes are left to finish (killing them would cost the
warm pool); thread chunks are waited for.

A worker process that dies raises :class:`~pdpar.errors.WorkerCrashedError` naming its exit
code or signal and the chunk it was running (each chunk marks a file in the call's spool folder
while it runs). Ctrl-C raises KeyboardInterrupt at once: worker processes are killed; running
thread chunks receive a KeyboardInterrupt of their own and are not waited for.

Chunks reach worker processes through :mod:`pdpar.transport` (shared-memory spool files, not
the pipe). Inside workers and thread pools, the thread pools of BLAS and OpenMP libraries are
limited (threadpoolctl) so that workers times inner threads does not exceed the CPUs.
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import ctypes
import os
import pickle
import re
import threading
import traceback
import warnings
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

import cloudpickle
import numpy as np

from . import transport
from ._reentry import entered
from .errors import ChunkSpan, PdparError, RemoteTraceback, WorkerCrashedError
from .progress import ProgressSink

__all__ = ["run_chunks", "shutdown", "inner_threads", "pool_is_warm"]


class _Failure:
    """A task's exception, carried back as a value so chunk order decides which one is raised."""

    __slots__ = ("exc", "remote_tb")

    def __init__(self, exc: BaseException, remote_tb: str | None) -> None:
        self.exc = exc
        self.remote_tb = remote_tb

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuild the exception from its class, args and attributes (notes included) without
        # calling __init__, which may take other arguments than ``args``.
        exc = self.exc
        return (_rebuild_failure, (type(exc), exc.args, exc.__dict__, self.remote_tb))


def _rebuild_failure(cls: type[BaseException], args: tuple, state: dict[str, Any],
                     remote_tb: str | None) -> _Failure:
    exc = cls.__new__(cls, *args)
    exc.args = args
    exc.__dict__.update(state)
    return _Failure(exc, remote_tb)


def _sendable(failure: _Failure) -> _Failure:
    """``failure``, or a stand-in that names it if it cannot travel back from a worker."""
    try:
        pickle.loads(cloudpickle.dumps(failure))
    except Exception as err:
        exc = failure.exc
        standin = PdparError(
            f"the function raised {type(exc).__module__}.{type(exc).__qualname__}: {exc}; "
            f"it could not be sent back from the worker process ({err!r})"
        )
        for note in getattr(exc, "__notes__", ()):
            standin.add_note(note)
        return _Failure(standin, failure.remote_tb)
    return failure


def _call_task(task: Callable[..., Any], args: tuple, in_worker_process: bool,
               errstate: dict[str, Any] | None = None) -> Any:
    with entered(), np.errstate(**(errstate or {})):
        try:
            result = task(*args)
        except Exception as exc:  # the user's exceptions; KeyboardInterrupt passes through
            if not in_worker_process:
                return _Failure(exc, None)
            return _sendable(_Failure(exc, "".join(traceback.format_exception(exc))))
    return transport.compact(result) if in_worker_process else result


def inner_threads(n_jobs: int) -> int:
    """Threads each worker may give BLAS or OpenMP so that workers times threads <= CPUs."""
    from .cpus import usable_cpu_count

    return max(usable_cpu_count() // max(n_jobs, 1), 1)


def pool_is_warm(n_jobs: int) -> bool:
    """True when processes with ``n_jobs`` workers would find their pool already running."""
    pool = _pool
    return (pool is not None and pool.n_jobs == n_jobs and pool.usable()
            and bool(pool.executor._processes))


def run_chunks(task: Callable[..., Any], chunks: Iterable[tuple], *, backend: str, n_jobs: int,
               max_inflight: int | None = None, progress: ProgressSink | None = None,
               sizes: Sequence[int] | None = None) -> Iterator[Any]:
    """Yield ``task(*args)`` for each ``args`` in ``chunks``, in order.

    ``backend`` is ``"serial"``, ``"threads"``, ``"processes"`` or a joblib backend name.
    ``chunks`` may be a lazy iterable: a chunk is taken from it only when there is room in the
    window of ``max_inflight`` chunks (default: twice ``n_jobs``).
    ``progress.update(sizes[i])`` is called as chunk ``i`` completes.
    Raises the first failing chunk's exception, or :class:`WorkerCrashedError` if a worker died.
    """
    window = max_inflight if max_inflight is not None else 2 * n_jobs

    def completed(i: int) -> None:
        if progress is not None:
            progress.update(sizes[i] if sizes is not None else 1)

    outcomes: Generator[Any, None, None]
    if backend == "serial":
        outcomes = _serially(task, chunks, completed)
    elif backend == "threads":
        outcomes = _on_threads(task, chunks, n_jobs, window, completed)
    elif backend == "processes":
        outcomes = _on_processes(task, chunks, n_jobs, window, completed)
    elif backend in ("dask", "ray"):
        from . import distributed

        run_on = distributed.run_on_dask if backend == "dask" else distributed.run_on_ray
        outcomes = run_on(task, chunks, n_jobs, window, completed)
    else:
        outcomes = _on_joblib(task, chunks, backend, n_jobs, window, completed)
    try:
        for outcome in outcomes:
            if isinstance(outcome, _Failure):
                _raise_failure(outcome)
            yield outcome
    finally:
        outcomes.close()


def _raise_failure(failure: _Failure) -> None:
    if failure.remote_tb is not None:
        raise failure.exc from RemoteTraceback(failure.remote_tb)
    raise failure.exc


def _serially(task: Callable[..., Any], chunks: Iterable[tuple],
              completed: Callable[[int], None]) -> Generator[Any, None, None]:
    for i, args in enumerate(chunks):
        outcome = _call_task(task, args, False)
        completed(i)
        yield outcome


def _windowed(submit: Callable[[int, tuple], Future], chunks: Iterable[tuple], window: int,
              completed: Callable[[int], None],
              collect: Callable[[int, Future], Any] | None = None,
              ) -> Generator[Any, None, None]:
    """Keep at most ``window`` chunks submitted and not collected; yield outcomes in order.

    ``submit(i, args)`` submits chunk ``i``; ``collect(i, future)`` is its outcome once done
    (by default ``future.result()``).
    Outcomes are collected as they complete and held until every earlier chunk is in. Once a
    chunk fails, nothing more is submitted and the later chunks are cancelled; the earlier
    ones still run, since one of them may fail too and would be the one pandas raises. The
    later chunks already running are not waited for.
    """
    todo = enumerate(chunks)
    pending: dict[Future, int] = {}
    held: dict[int, Any] = {}
    next_out = 0
    first_failure: int | None = None
    try:
        while True:
            while first_failure is None and len(pending) < window:
                item = next(todo, None)
                if item is None:
                    break
                pending[submit(*item)] = item[0]
            if not pending:
                break
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                i = pending.pop(future)
                if future.cancelled():
                    continue
                outcome = collect(i, future) if collect else future.result()
                held[i] = outcome
                completed(i)
                if isinstance(outcome, _Failure) and (first_failure is None
                                                      or i < first_failure):
                    first_failure = i
                    for later, j in list(pending.items()):
                        if j > i and later.cancel():
                            del pending[later]
            while next_out in held:
                yield held.pop(next_out)
                next_out += 1
    finally:
        for future in pending:
            future.cancel()


def _on_threads(task: Callable[..., Any], chunks: Iterable[tuple], n_jobs: int, window: int,
                completed: Callable[[int], None]) -> Generator[Any, None, None]:
    from threadpoolctl import threadpool_limits

    context = contextvars.copy_context()
    executor = ThreadPoolExecutor(max_workers=n_jobs, thread_name_prefix="pdpar")
    running = _RunningThreads()

    def submit(i: int, args: tuple) -> Future:
        return executor.submit(running.run, context.copy().run, _call_task, task, args, False)

    interrupted = False
    try:
        with threadpool_limits(limits=inner_threads(n_jobs)):
            yield from _windowed(submit, chunks, window, completed)
    except KeyboardInterrupt:
        # Ctrl-C: ask the running chunks to stop and do not wait for them
        interrupted = True
        running.interrupt()
        raise
    finally:
        executor.shutdown(wait=not interrupted, cancel_futures=True)


class _RunningThreads:
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


#: Thread-pool settings of numeric libraries, set for workers when they start so that
#: libraries loaded later are limited too.
_THREAD_LIMIT_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                      "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMBA_NUM_THREADS",
                      "NUMEXPR_NUM_THREADS")


#: Idle worker processes exit after this many seconds; the next call starts new ones.
POOL_IDLE_SECONDS = 300


class _Pool:
    """pdpar's loky executor and what it was started with."""

    __slots__ = ("executor", "n_jobs", "env")

    def __init__(self, n_jobs: int, env: dict[str, str]) -> None:
        from joblib.externals.loky import ProcessPoolExecutor

        self.executor = ProcessPoolExecutor(max_workers=n_jobs, timeout=POOL_IDLE_SECONDS,
                                            env=env)
        self.n_jobs = n_jobs
        self.env = env

    def usable(self) -> bool:
        flags = self.executor._flags
        return not (flags.broken or flags.shutdown)


_pool: _Pool | None = None
_pool_lock = threading.Lock()


def _process_executor(n_jobs: int, thread_limit: int) -> Any:
    """pdpar's own loky executor, kept warm from call to call.

    Not joblib's reusable executor: ``joblib.Parallel`` (and scikit-learn through it) uses
    that one with other arguments, and each change of arguments restarts its workers, so a
    program alternating joblib and pdpar calls paid 0.3-0.8 s on every call (measured here).
    A pool of its own stays warm whatever else uses joblib. It is started again only when the
    workers or their thread limits change, or when a worker died. Chunks travel by
    :mod:`pdpar.transport`, not by joblib's memory-mapping.
    """
    global _pool
    env = {var: os.environ.get(var, str(thread_limit)) for var in _THREAD_LIMIT_VARS}
    with _pool_lock:
        pool = _pool
        if pool is None or pool.n_jobs != n_jobs or pool.env != env or not pool.usable():
            if pool is not None:
                pool.executor.shutdown(wait=True, kill_workers=True)
            pool = _pool = _Pool(n_jobs, env)
        return pool.executor


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
            failure = _Failure(PdparError(
                f"a worker process could not unpickle its chunk ({exc!r}); the function or its "
                "arguments may need a module the worker cannot import. backend='threads' "
                "needs no pickling."), "".join(traceback.format_exception(exc)))
            return _sendable(failure)
        return _call_task(task, args, True, errstate)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(marker)


def _touch(path: str) -> None:
    with contextlib.suppress(OSError):  # the call may be over: its folder is gone
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


_MARKER_PREFIX = "running-"


def _on_processes(task: Callable[..., Any], chunks: Iterable[tuple], n_jobs: int,
                  window: int, completed: Callable[[int], None]) -> Generator[Any, None, None]:
    from joblib.externals.loky.process_executor import (
        BrokenProcessPool,
        ShutdownExecutorError,
        TerminatedWorkerError,
    )

    thread_limit = inner_threads(n_jobs)
    executor = _process_executor(n_jobs, thread_limit)
    errstate = np.geterr()
    spool = transport.Spool()
    folder = spool.scratch_folder()
    described: dict[int, str] = {}

    def submit(i: int, args: tuple) -> Future:
        described[i] = _describe_chunk(i, args)
        marker = os.path.join(folder, f"{_MARKER_PREFIX}{i}")
        return executor.submit(_call_parcel, task, spool.send(args), errstate, thread_limit,
                               marker)

    def collect(i: int, future: Future) -> Any:
        try:
            return future.result()
        except (BrokenProcessPool, ShutdownExecutorError):
            raise
        except Exception as exc:  # _call_parcel returns failures: loky could not send a result
            standin = PdparError(
                f"a result of the function could not be pickled to be sent back from the "
                f"worker process ({described[i]}): {exc!r}. With backend='processes' results "
                "must be picklable; backend='threads' needs no pickling.")
            standin.__cause__ = exc
            return _Failure(standin, None)

    try:
        yield from _windowed(submit, chunks, window, completed, collect)
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


def _call_numbered(i: int, task: Callable[..., Any], args: tuple) -> tuple[int, Any]:
    return i, _call_task(task, args, True)


def _on_joblib(task: Callable[..., Any], chunks: Iterable[tuple], backend: str, n_jobs: int,
               window: int, completed: Callable[[int], None]) -> Generator[Any, None, None]:
    from joblib import Parallel, delayed

    parallel = Parallel(n_jobs=n_jobs, backend=backend, return_as="generator_unordered",
                        pre_dispatch=window, batch_size=1)
    generator = parallel(delayed(_call_numbered)(i, task, args)
                         for i, args in enumerate(chunks))
    held: dict[int, Any] = {}
    next_out = 0
    try:
        for i, outcome in generator:
            held[i] = outcome
            completed(i)
            while next_out in held:
                outcome = held.pop(next_out)
                next_out += 1
                yield outcome
                if isinstance(outcome, _Failure):
                    return
    finally:
        with warnings.catch_warnings():
            # closing early is how pdpar cancels the chunks a failure made useless
            warnings.filterwarnings("ignore", message=r".*tasks", category=UserWarning)
            generator.close()


def shutdown() -> None:
    """Stop pdpar's warm worker processes; the next call with processes starts new ones."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.executor.shutdown(wait=True, kill_workers=True)


# while the interpreter still has its modules: an executor collected during teardown makes
# loky print "Exception ignored in ... weakref_cb"
atexit.register(shutdown)
