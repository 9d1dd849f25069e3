"""Any other backend name: ``joblib.Parallel`` with that backend (one registered with
``joblib.register_parallel_backend``, for instance)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Generator, Iterable
from typing import Any

from .protocol import call_task, in_order

__all__ = ["run_on"]


def _call_numbered(i: int, task: Callable[..., Any], args: tuple) -> tuple[int, Any]:
    return i, call_task(task, args, True)


def run_on(backend: str, task: Callable[..., Any], chunks: Iterable[tuple], n_jobs: int,
           window: int, completed: Callable[[int], None]) -> Generator[Any, None, None]:
    """Outcomes of ``task(*args)`` for each chunk, computed by joblib's ``backend``, in order.

    joblib's unordered generator lets one slow chunk hold back no others; at most ``window``
    chunks are dispatched ahead.
    """
    from joblib import Parallel, delayed

    parallel = Parallel(n_jobs=n_jobs, backend=backend, return_as="generator_unordered",
                        pre_dispatch=window, batch_size=1)
    generator = parallel(delayed(_call_numbered)(i, task, args)
                         for i, args in enumerate(chunks))
    try:
        yield from in_order(generator, completed)
    finally:
        with warnings.catch_warnings():
            # closing early is how pdpar cancels the chunks a failure made useless
            warnings.filterwarnings("ignore", message=r".*tasks", category=UserWarning)
            generator.close()
