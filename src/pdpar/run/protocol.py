"""What every backend shares: how a chunk task is called, how its failure travels, and the
in-order window that submits chunks and yields their outcomes.

A backend is a generator function ``run(task, chunks, n_jobs, window, completed)`` that yields
one outcome per chunk, in chunk order: the task's result, or a :class:`Failure` carrying the
exception the task raised. :func:`pdpar.run.run_chunks` raises the first failure.
"""

from __future__ import annotations

import pickle
import traceback
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import Any, Protocol

import cloudpickle
import numpy as np

from .. import transport
from .._reentry import entered
from ..errors import PdparError, RemoteTraceback

__all__ = ["Backend", "Failure", "call_task", "sendable", "remote_failure",
           "unpacking_failed", "raise_failure",
           "InOrder", "windowed", "in_order"]


class Backend(Protocol):
    """A backend's ``run``: outcomes of ``task(*args)`` for each chunk, in chunk order;
    ``completed(i)`` is called as chunk ``i`` completes."""

    def __call__(self, task: Callable[..., Any], chunks: Iterable[tuple], n_jobs: int,
                 window: int, completed: Callable[[int], None]
                 ) -> Generator[Any, None, None]: ...


class Failure:
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
                     remote_tb: str | None) -> Failure:
    exc = cls.__new__(cls, *args)
    exc.args = args
    exc.__dict__.update(state)
    return Failure(exc, remote_tb)


def sendable(failure: Failure) -> Failure:
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
        return Failure(standin, failure.remote_tb)
    return failure


def remote_failure(exc: BaseException) -> Failure:
    """``exc``, raised in a worker, as a failure that can travel back with its traceback."""
    return sendable(Failure(exc, "".join(traceback.format_exception(exc))))


def unpacking_failed(exc: BaseException) -> Failure:
    """The failure of a worker that could not rebuild its chunk."""
    return sendable(Failure(PdparError(
        f"a worker process could not unpickle its chunk ({exc!r}); the function or its "
        "arguments may need a module the worker cannot import. backend='threads' needs no "
        "pickling."),
        "".join(traceback.format_exception(exc))))


def call_task(task: Callable[..., Any], args: tuple, in_worker_process: bool,
              errstate: dict[str, Any] | None = None) -> Any:
    """``task(*args)``, or a :class:`Failure` for the exception it raised.

    In a worker process the result is made cheap to send back (:func:`transport.compact`) and
    a failure carries the worker's traceback. KeyboardInterrupt passes through.
    """
    with entered(), np.errstate(**(errstate or {})):
        try:
            result = task(*args)
        except Exception as exc:  # the user's exceptions
            return remote_failure(exc) if in_worker_process else Failure(exc, None)
    return transport.compact(result) if in_worker_process else result


def raise_failure(failure: Failure) -> None:
    """Raise the failure's exception, chained to the worker's traceback if it has one."""
    if failure.remote_tb is not None:
        raise failure.exc from RemoteTraceback(failure.remote_tb)
    raise failure.exc


class InOrder:
    """Outcomes that complete in any order, given back in chunk order."""

    __slots__ = ("held", "next_out")

    def __init__(self) -> None:
        self.held: dict[int, Any] = {}
        self.next_out = 0

    def add(self, i: int, outcome: Any) -> None:
        self.held[i] = outcome

    def ready(self) -> Iterator[Any]:
        """The outcomes whose every earlier chunk is in, in order, each once."""
        while self.next_out in self.held:
            outcome = self.held.pop(self.next_out)
            self.next_out += 1
            yield outcome


def windowed(submit: Callable[[int, tuple], Future], chunks: Iterable[tuple], window: int,
             completed: Callable[[int], None],
             collect: Callable[[int, Future], Any] | None = None,
             helper: Callable[[tuple], Any] | None = None, helper_window: int = 1,
             ready: Future | None = None) -> Generator[Any, None, None]:
    """Keep at most ``window`` chunks submitted and not collected; yield outcomes in order.

    ``submit(i, args)`` submits chunk ``i`` and returns its future; ``collect(i, future)`` is
    its outcome once done (by default ``future.result()``). ``chunks`` may be lazy: a chunk is
    taken from it only when there is room in the window.

    Outcomes are collected as they complete and held until every earlier chunk is in. Once a
    chunk fails, nothing more is submitted and the later chunks are cancelled; the earlier
    ones still run, since one of them may fail too and would be the one pandas raises. The
    later chunks already running are not waited for.

    With a ``helper`` (workers that are still starting), nothing is submitted until ``ready``
    (a first task of the new workers, if given) is done, then only ``helper_window`` chunks
    until the first of them completes; meanwhile the caller runs the next chunks itself,
    ``helper(args)`` giving each one's outcome, instead of waiting. Workers that take longer to
    start than the whole call leave every chunk to the caller, as fast as serial.
    """
    todo = enumerate(chunks)
    pending: dict[Future, int] = {}
    order = InOrder()
    first_failure: int | None = None

    def collected(i: int, outcome: Any) -> None:
        nonlocal first_failure
        order.add(i, outcome)
        completed(i)
        if isinstance(outcome, Failure) and (first_failure is None or i < first_failure):
            first_failure = i
            for later, j in list(pending.items()):
                if j > i and later.cancel():
                    del pending[later]

    try:
        while helper is not None and ready is not None and not ready.done():
            item = next(todo, None) if first_failure is None else None
            if item is None:
                break
            collected(item[0], helper(item[1]))
            yield from order.ready()
        while True:
            limit = window if helper is None else helper_window
            while first_failure is None and len(pending) < limit:
                item = next(todo, None)
                if item is None:
                    break
                pending[submit(*item)] = item[0]
            if not pending:
                break
            finished, _ = wait(pending, timeout=0 if helper is not None else None,
                               return_when=FIRST_COMPLETED)
            if not finished and helper is not None:
                item = next(todo, None) if first_failure is None else None
                if item is None:  # nothing left to help with: wait for the workers
                    helper = None
                else:
                    collected(item[0], helper(item[1]))
                yield from order.ready()
                continue
            if finished:
                helper = None  # a worker is up: the caller only collects from now on
            for future in finished:
                i = pending.pop(future)
                if future.cancelled():
                    continue
                collected(i, collect(i, future) if collect else future.result())
            yield from order.ready()
    finally:
        for future in pending:
            future.cancel()


def in_order(numbered: Iterable[tuple[int, Any]],
             completed: Callable[[int], None]) -> Generator[Any, None, None]:
    """Outcomes that arrive as ``(i, outcome)`` in any order, yielded in chunk order, up to
    the first failure in chunk order (for backends that collect for themselves, such as
    joblib's)."""
    order = InOrder()
    for i, outcome in numbered:
        order.add(i, outcome)
        completed(i)
        for ready in order.ready():
            yield ready
            if isinstance(ready, Failure):
                return
