"""Running chunk tasks: serially, on threads, on processes, or on any joblib backend.

This is the only module that starts workers. It knows nothing of pandas: it receives a task (a
module-level function), one argument tuple per chunk, and yields the tasks' results in chunk
order.

>>> from pdpar.backends import run_chunks
>>> list(run_chunks(pow, [(2, 3), (3, 2)], backend="threads", n_jobs=2))
[8, 9]

- ``"threads"``: a thread pool that lives for the call. Each chunk runs in a copy of the
  caller's :mod:`contextvars` context, so settings such as ``np.errstate`` carry over.
- ``"processes"``: joblib's loky executor, reused across calls (a warm pool; never ``fork``).
  The caller's ``np.errstate`` travels with each chunk.
- any other name: ``joblib.Parallel`` with that backend (``"dask"``, ``"ray"``, ...).

At most ``max_inflight`` chunks are submitted and not yet collected. A task that raises is
reported in chunk order: the first failing chunk's exception is raised with its own type, and
the chunks not yet started are cancelled. For processes the worker's traceback is chained to it
as a :class:`~pdpar.errors.RemoteTraceback`.
"""

from __future__ import annotations

import contextvars
import os
import pickle
import traceback
import warnings
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import cloudpickle
import numpy as np

from ._reentry import entered
from .errors import PdparError, RemoteTraceback, WorkerCrashedError
from .progress import ProgressSink

__all__ = ["run_chunks", "shutdown"]


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
            return task(*args)
        except Exception as exc:  # the user's exceptions; KeyboardInterrupt passes through
            if not in_worker_process:
                return _Failure(exc, None)
            return _sendable(_Failure(exc, "".join(traceback.format_exception(exc))))


def run_chunks(task: Callable[..., Any], chunks: Sequence[tuple], *, backend: str, n_jobs: int,
               max_inflight: int | None = None, progress: ProgressSink | None = None,
               sizes: Sequence[int] | None = None) -> Iterator[Any]:
    """Yield ``task(*args)`` for each ``args`` in ``chunks``, in order.

    ``backend`` is ``"serial"``, ``"threads"``, ``"processes"`` or a joblib backend name.
    ``progress.update(sizes[i])`` is called as chunk ``i`` is collected.
    Raises the first failing chunk's exception, or :class:`WorkerCrashedError` if a worker died.
    """
    window = max_inflight if max_inflight is not None else 2 * n_jobs
    try:
        if backend == "serial":
            outcomes: Iterator[Any] = (_call_task(task, args, False) for args in chunks)
        elif backend == "threads":
            outcomes = _on_threads(task, chunks, n_jobs, window)
        elif backend == "processes":
            outcomes = _on_processes(task, chunks, n_jobs, window)
        else:
            outcomes = _on_joblib(task, chunks, backend, n_jobs, window)
        try:
            for i, outcome in enumerate(outcomes):
                if isinstance(outcome, _Failure):
                    _raise_failure(outcome)
                if progress is not None:
                    progress.update(sizes[i] if sizes is not None else 1)
                yield outcome
        finally:
            outcomes.close()  # type: ignore[attr-defined]
    finally:
        if progress is not None:
            progress.close()


def _raise_failure(failure: _Failure) -> None:
    if failure.remote_tb is not None:
        raise failure.exc from RemoteTraceback(failure.remote_tb)
    raise failure.exc


def _in_order(submit: Callable[[tuple], Future], chunks: Sequence[tuple],
              window: int) -> Iterator[Any]:
    """Submit chunks keeping at most ``window`` uncollected; yield results in chunk order."""
    pending: deque[Future] = deque()
    todo = iter(chunks)
    try:
        for args in todo:
            pending.append(submit(args))
            if len(pending) >= window:
                break
        while pending:
            outcome = pending.popleft().result()
            for args in todo:
                pending.append(submit(args))
                break
            yield outcome
    finally:
        for future in pending:
            future.cancel()


def _on_threads(task: Callable[..., Any], chunks: Sequence[tuple], n_jobs: int,
                window: int) -> Iterator[Any]:
    context = contextvars.copy_context()
    executor = ThreadPoolExecutor(max_workers=n_jobs, thread_name_prefix="pdpar")

    def submit(args: tuple) -> Future:
        return executor.submit(context.copy().run, _call_task, task, args, False)

    try:
        yield from _in_order(submit, chunks, window)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


#: Thread-pool settings of numeric libraries, limited in workers so that workers times
#: threads does not exceed the CPUs.
_THREAD_LIMIT_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                      "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMBA_NUM_THREADS",
                      "NUMEXPR_NUM_THREADS")


def _process_executor(n_jobs: int) -> Any:
    """joblib's reusable loky executor, the same one ``joblib.Parallel`` uses.

    Sharing it keeps pdpar and a program's own joblib calls from fighting over one pool. Large
    arrays are not memory-mapped (``max_nbytes=None``): chunks are views, pickled alone, and
    no temporary file is written.
    """
    from joblib import cpu_count
    from joblib.executor import get_memmapping_executor

    per_worker = str(max(cpu_count() // n_jobs, 1))
    env = {var: os.environ.get(var, per_worker) for var in _THREAD_LIMIT_VARS}
    return get_memmapping_executor(n_jobs, env=env, max_nbytes=None)


def _on_processes(task: Callable[..., Any], chunks: Sequence[tuple], n_jobs: int,
                  window: int) -> Iterator[Any]:
    from joblib.externals.loky.process_executor import BrokenProcessPool, TerminatedWorkerError

    executor = _process_executor(n_jobs)
    errstate = np.geterr()

    def submit(args: tuple) -> Future:
        return executor.submit(_call_task, task, args, True, errstate)

    try:
        yield from _in_order(submit, chunks, window)
    except TerminatedWorkerError as exc:
        raise WorkerCrashedError(
            f"a worker process died while running a chunk ({exc}). If it ran out of memory, "
            "try fewer workers (n_jobs) or smaller chunks (chunksize)."
        ) from exc
    except BrokenProcessPool as exc:
        raise WorkerCrashedError(f"the worker processes stopped working: {exc}") from exc
    except KeyboardInterrupt:
        shutdown()  # stop the chunks that are running, not only the queued ones
        raise


def _on_joblib(task: Callable[..., Any], chunks: Sequence[tuple], backend: str, n_jobs: int,
               window: int) -> Iterator[Any]:
    from joblib import Parallel, delayed

    parallel = Parallel(n_jobs=n_jobs, backend=backend, return_as="generator",
                        pre_dispatch=window, batch_size=1)
    generator = parallel(delayed(_call_task)(task, args, True) for args in chunks)
    try:
        yield from generator
    finally:
        with warnings.catch_warnings():
            # closing early is how pdpar cancels the chunks a failure made useless
            warnings.filterwarnings("ignore", message=r".*tasks", category=UserWarning)
            generator.close()


def shutdown() -> None:
    """Stop pdpar's warm worker processes; the next call with processes starts new ones."""
    from joblib.externals.loky import reusable_executor

    executor = reusable_executor._executor
    if executor is not None:
        executor.shutdown(wait=True, kill_workers=True)
