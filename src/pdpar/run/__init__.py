"""Running chunk tasks: in the caller, on threads, on processes, on a cluster, or on any joblib
backend.

This is the only package that starts workers. It knows nothing of pandas: it receives a task (a
module-level function), one argument tuple per chunk, and yields the tasks' results in chunk
order.

>>> from pdpar.run import run_chunks
>>> list(run_chunks(pow, [(2, 3), (3, 2)], backend="threads", n_jobs=2))
[8, 9]

Each backend is one module, registered by name in :data:`BACKENDS` and imported when first
used: :mod:`.serial` (the calling thread), :mod:`.threads`, :mod:`.processes` (pdpar's own warm
loky pool), :mod:`.dask` and :mod:`.ray`; any other name is a joblib backend
(:mod:`.joblib`). What they share is in :mod:`.protocol`: how a task is called, how its failure
travels, and the in-order window.

At most ``max_inflight`` chunks are submitted and not yet collected. Results are collected as
they complete, so one slow chunk does not hold back the others, and put back in chunk order.
A task that raises is reported as pandas would report it: the exception of the first failing
chunk in input order is raised with its own type. The chunks after a failing one are cancelled
at once; those before it still run, since one of them may fail first. For worker processes
the worker's traceback is chained to the exception as a :class:`~pdpar.errors.RemoteTraceback`.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from typing import Any

from ..progress import ProgressSink
from .processes import pool_is_warm, shutdown
from .protocol import Backend, Failure, raise_failure
from .workers import check_possible as check_processes_possible
from .workers import unavailable as processes_unavailable

__all__ = ["run_chunks", "BACKENDS", "backend_of", "cluster_workers", "shutdown",
           "pool_is_warm", "processes_unavailable", "check_processes_possible"]

#: pdpar's own backends: name -> the module (in this package) whose ``run`` runs chunks.
BACKENDS = {"serial": "serial", "threads": "threads", "processes": "processes",
            "dask": "dask", "ray": "ray"}

#: Backends whose workers are a cluster's rather than this machine's CPUs.
CLUSTERS = ("dask", "ray")


def backend_of(name: str, caller_helps: bool = False) -> Backend:
    """The ``run`` of the backend ``name``; a name pdpar does not know is joblib's.

    With ``caller_helps``, a backend whose workers may take a while to start lets the caller
    run chunks meanwhile (its module says so with ``CALLER_HELPS``)."""
    module = BACKENDS.get(name)
    if module is None:
        from .joblib import run_on

        def on_joblib(task: Callable[..., Any], chunks: Iterable[tuple], n_jobs: int,
                      window: int, completed: Callable[[int], None]
                      ) -> Generator[Any, None, None]:
            return run_on(name, task, chunks, n_jobs, window, completed)

        return on_joblib
    imported = importlib.import_module(f"{__name__}.{module}")
    run: Backend = imported.run
    if caller_helps and getattr(imported, "CALLER_HELPS", False):
        run = functools.partial(imported.run, caller_helps=True)
    return run


def cluster_workers(name: str) -> int | None:
    """Workers of the cluster ``name`` runs on (dask: threads; ray: CPUs), or None for a
    backend that runs on this machine. Raises PdparError, saying what to start, when no
    cluster is running."""
    if name not in CLUSTERS:
        return None
    workers: int = importlib.import_module(f"{__name__}.{BACKENDS[name]}").workers()
    return workers


def run_chunks(task: Callable[..., Any], chunks: Iterable[tuple], *, backend: str, n_jobs: int,
               max_inflight: int | None = None, progress: ProgressSink | None = None,
               sizes: Sequence[int] | None = None, caller_helps: bool = False) -> Iterator[Any]:
    """Yield ``task(*args)`` for each ``args`` in ``chunks``, in order.

    ``chunks`` may be a lazy iterable: a chunk is taken from it only when there is room in the
    window of ``max_inflight`` chunks (default: twice ``n_jobs``).
    ``progress.update(sizes[i])`` is called as chunk ``i`` completes. With ``caller_helps``
    (a backend the automatic choice made, not one the caller named), the calling thread may
    run chunks itself while the workers start.
    Raises the first failing chunk's exception, or :class:`~pdpar.errors.WorkerCrashedError`
    if a worker died.
    """
    window = max_inflight if max_inflight is not None else 2 * n_jobs

    def completed(i: int) -> None:
        if progress is not None:
            progress.update(sizes[i] if sizes is not None else 1)

    outcomes = backend_of(backend, caller_helps)(task, chunks, n_jobs, window, completed)
    try:
        for outcome in outcomes:
            if isinstance(outcome, Failure):
                raise_failure(outcome)
            yield outcome
    finally:
        outcomes.close()
