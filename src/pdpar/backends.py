"""Running chunk tasks: serially, on threads, on processes, or on any joblib backend.

This is the only module that talks to joblib. It knows nothing of pandas: it receives a task (a
module-level function), one argument tuple per chunk, and yields the tasks' results in chunk
order.

>>> from pdpar.backends import run_chunks
>>> list(run_chunks(pow, [(2, 3), (3, 2)], backend="threads", n_jobs=2))
[8, 9]

A task that raises is reported in chunk order: the exception of the first failing chunk is
raised with its own type, the chunks not yet collected are cancelled, and for processes the
worker's traceback is chained to it as a :class:`~pdpar.errors.RemoteTraceback`.
"""

from __future__ import annotations

import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ._reentry import entered
from .errors import RemoteTraceback, WorkerCrashedError
from .progress import ProgressSink

__all__ = ["run_chunks", "shutdown", "JOBLIB_NAMES"]

#: pdpar's backend names and the joblib backends that implement them.
JOBLIB_NAMES = {"threads": "threading", "processes": "loky"}


class _Failure:
    """A task's exception, carried back as a value so chunk order decides which one is raised."""

    __slots__ = ("exc", "remote_tb")

    def __init__(self, exc: BaseException, remote_tb: str | None) -> None:
        self.exc = exc
        self.remote_tb = remote_tb


def _call_task(task: Callable[..., Any], args: tuple, in_worker_process: bool) -> Any:
    with entered():
        try:
            return task(*args)
        except Exception as exc:  # the user's exceptions; KeyboardInterrupt passes through
            tb = "".join(traceback.format_exception(exc)) if in_worker_process else None
            return _Failure(exc, tb)


def _raise_failure(failure: _Failure) -> None:
    if failure.remote_tb is not None:
        raise failure.exc from RemoteTraceback(failure.remote_tb)
    raise failure.exc


def run_chunks(task: Callable[..., Any], chunks: Sequence[tuple], *, backend: str, n_jobs: int,
               max_inflight: int | None = None, progress: ProgressSink | None = None,
               sizes: Sequence[int] | None = None) -> Iterator[Any]:
    """Yield ``task(*args)`` for each ``args`` in ``chunks``, in order.

    ``backend`` is ``"serial"``, ``"threads"``, ``"processes"`` or a joblib backend name.
    At most ``max_inflight`` chunks (default: two per worker) are dispatched ahead of
    collection. ``progress.update(sizes[i])`` is called as chunk ``i`` is collected.
    Raises the first failing chunk's exception, or :class:`WorkerCrashedError` if a worker died.
    """
    try:
        if backend == "serial":
            outcomes: Iterator[Any] = (_call_task(task, args, False) for args in chunks)
            yield from _collect(outcomes, progress, sizes)
            return

        from joblib import Parallel, delayed
        from joblib.externals.loky.process_executor import TerminatedWorkerError

        joblib_backend = JOBLIB_NAMES.get(backend, backend)
        in_process = joblib_backend == "threading"
        parallel = Parallel(
            n_jobs=n_jobs,
            backend=joblib_backend,
            return_as="generator",
            pre_dispatch=max_inflight if max_inflight is not None else "2*n_jobs",
            batch_size=1,
            mmap_mode="c",
        )
        generator = parallel(delayed(_call_task)(task, args, not in_process) for args in chunks)
        try:
            yield from _collect(generator, progress, sizes)
        except TerminatedWorkerError as exc:
            raise WorkerCrashedError(
                f"a worker process died while running a chunk ({exc}). "
                "If it ran out of memory, try fewer workers (n_jobs) or smaller chunks "
                "(chunksize)."
            ) from exc
        finally:
            with warnings.catch_warnings():
                # closing early is how pdpar cancels the chunks a failure made useless
                warnings.filterwarnings("ignore", message=r".*tasks", category=UserWarning)
                generator.close()
    finally:
        if progress is not None:
            progress.close()


def _collect(outcomes: Iterator[Any], progress: ProgressSink | None,
             sizes: Sequence[int] | None) -> Iterator[Any]:
    for i, outcome in enumerate(outcomes):
        if isinstance(outcome, _Failure):
            _raise_failure(outcome)
        if progress is not None:
            progress.update(sizes[i] if sizes is not None else 1)
        yield outcome


def shutdown() -> None:
    """Stop pdpar's warm worker processes; the next call with processes starts new ones."""
    from joblib.externals.loky import reusable_executor

    executor = reusable_executor._executor
    if executor is not None:
        executor.shutdown(wait=True, kill_workers=True)
