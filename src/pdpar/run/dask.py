"""``backend="dask"``: chunks run on a running dask.distributed cluster.

>>> from distributed import Client, LocalCluster                      # doctest: +SKIP
>>> client = Client(LocalCluster(n_workers=2, processes=True))          # doctest: +SKIP
>>> df.par(backend="dask").apply(fn, axis=1)                            # doctest: +SKIP

pdpar uses the client in force where the call is made (``distributed.Client.current()``: the
last one created, or the one of a ``with client:`` block); without one, the call raises
:class:`~pdpar.errors.PdparError` saying to start one. Nothing here starts or stops a cluster.

A chunk of at least :data:`SCATTER_MIN_BYTES` pickled is scattered straight to a worker and
the task follows the data, so the frame's bytes cross the network once in all, however many
chunks it is cut into; smaller chunks travel inside their task. See :mod:`.cluster` for what
else travels. The chunks are submitted and collected with the window all backends share
(:func:`.protocol.windowed`). A worker that dies while running a chunk (the scheduler gives up
on the chunk as ``KilledWorker``), or that takes a scattered chunk with it, raises
:class:`~pdpar.errors.WorkerCrashedError`; the cluster's nannies restart workers, so the next
call runs.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, InvalidStateError
from typing import Any

import numpy as np

from ..errors import PdparError, WorkerCrashedError
from .cluster import Shipment, run_on_worker
from .protocol import windowed

__all__ = ["run", "workers", "current_client", "SCATTER_MIN_BYTES"]

#: Chunks pickled to at least this many bytes are scattered to a worker; smaller ones travel
#: inside their task (dask warns about tasks larger than a few megabytes).
SCATTER_MIN_BYTES = 1 << 20

_NO_CLIENT = (
    "backend='dask' runs on a running dask.distributed cluster, and no Client was found. "
    "Start one first, e.g.\n"
    "    from distributed import Client\n"
    "    client = Client()                    # a local cluster, or\n"
    "    client = Client('tcp://scheduler:8786')  # an existing cluster\n"
    "and call pdpar again in the same process."
)


def current_client() -> Any:
    """The dask.distributed client in force here; PdparError if none (or dask is missing)."""
    try:
        from distributed import Client
    except ImportError as exc:
        raise PdparError("backend='dask' needs dask.distributed: pip install "
                         "'dask[distributed]' (from pdpar's checkout: pip install -e '.[dask]'), "
                         f"then start a Client ({exc})") from exc
    try:
        client = Client.current()
    except ValueError:
        raise PdparError(_NO_CLIENT) from None
    if client.status not in ("running", "connecting", "newly-created"):
        raise PdparError(_NO_CLIENT)
    return client


def workers() -> int:
    """Worker threads of the cluster: the ``n_jobs`` of ``n_jobs=-1``. Raises PdparError,
    saying what to start, when there is no running client."""
    info = current_client().scheduler_info(n_workers=-1)
    return max(1, sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()))


class _Submitted(Future):
    """A chunk's dask future, seen as a :class:`concurrent.futures.Future`, so that the window
    of :func:`.protocol.windowed` drives dask as it drives threads and processes."""

    def __init__(self, dask_future: Any) -> None:
        super().__init__()
        self._dask: Any = dask_future
        dask_future.add_done_callback(self._settle)  # runs on dask's callback thread

    def cancel(self) -> bool:
        # this future first: were the dask future cancelled first, its callback could settle
        # this one with dask's CancelledError before it is marked cancelled, and the window
        # would then collect that error as a chunk lost on the cluster
        cancelled = super().cancel()
        dask_future = self._dask
        if cancelled and dask_future is not None and not dask_future.done():
            dask_future.cancel()
        return cancelled

    def _settle(self, dask_future: Any) -> None:
        try:  # a cancelled or lost future raises here too
            error = dask_future.exception()
            outcome = dask_future.result().value if error is None else None
        except BaseException as exc:
            outcome, error = None, exc
        self._dask = None  # release the chunk's data and result on the cluster
        try:
            if error is not None:
                self.set_exception(error)
            else:
                self.set_result(outcome)
        except InvalidStateError:
            pass  # cancelled by the window in the meantime


def run(task: Callable[..., Any], chunks: Iterable[tuple], n_jobs: int, window: int,
        completed: Callable[[int], None]) -> Generator[Any, None, None]:
    """Outcomes of ``task(*args)`` for each chunk, in order, computed on the current client's
    workers."""
    from distributed import KilledWorker

    client = current_client()
    errstate = np.geterr()
    scattered: list[Any] = []  # futures of broadcast objects, released at the end

    def put(objects: dict[str, Any]) -> tuple[str, Any]:
        # to one worker; each other worker fetches them when its first chunk needs them.
        # In a list, so that the dict of objects is one value, not one per key.
        future, = client.scatter([objects], hash=False)
        scattered.append(future)
        return ("dask", future.key)

    shipment = Shipment(put)

    def submit(i: int, args: tuple) -> Future:
        chunk: Any
        chunk, handles = shipment.pack(args)
        if len(chunk) >= SCATTER_MIN_BYTES:
            shipment.sent.scattered_chunks += 1
            shipment.sent.scattered_bytes += len(chunk)
            chunk = client.scatter(chunk, hash=False)
        return _Submitted(client.submit(run_on_worker, task, chunk, handles, errstate,
                                        pure=False))

    try:
        yield from windowed(submit, chunks, window, completed)
    except KilledWorker as exc:
        raise WorkerCrashedError(
            f"a dask worker died while running a chunk ({exc}). If it ran out of memory, try "
            "smaller chunks (chunksize) or workers with more memory."
        ) from exc
    except _cancelled_errors() as exc:
        raise WorkerCrashedError(
            f"a chunk was lost on the dask cluster, most likely with a worker that died or "
            f"left ({exc!r})"
        ) from exc
    finally:
        for future in scattered:
            future.release()


def _cancelled_errors() -> tuple[type[BaseException], ...]:
    import asyncio
    import concurrent.futures

    from distributed.client import FutureCancelledError

    return (FutureCancelledError, asyncio.CancelledError, concurrent.futures.CancelledError)
