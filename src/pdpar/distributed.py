"""Running chunk tasks on a cluster: dask.distributed (``backend="dask"``) or ray
(``backend="ray"``, see :func:`run_on_ray`; it shares the pickling and broadcasting below).

>>> from distributed import Client, LocalCluster                      # doctest: +SKIP
>>> client = Client(LocalCluster(n_workers=2, processes=True))          # doctest: +SKIP
>>> df.par(backend="dask").apply(fn, axis=1)                            # doctest: +SKIP

pdpar uses the client in force where the call is made (``distributed.Client.current()``: the
last one created, or the one of a ``with client:`` block); without one, the call raises
:class:`~pdpar.errors.PdparError` saying to start one. Nothing here starts or stops a cluster.

What travels, and how often:

- each chunk's rows, once, to the worker that runs the chunk. Its arguments are pickled here
  (protocol 5, large string columns as Arrow strings, as for processes); a chunk of at least
  :data:`SCATTER_MIN_BYTES` is scattered straight to a worker and the task follows the data,
  so the frame's bytes cross the network once in all, however many chunks it is cut into;
  smaller chunks travel inside their task;
- ``broadcast=`` objects, once per worker and call: scattered to one worker when the first
  chunk needs them, and fetched from there by each other worker when its first chunk of the
  call starts (:func:`_broadcast_objects`);
- each chunk's raw results, back, once.

The chunks are submitted and collected with the same window as the other backends
(:func:`pdpar.backends._windowed`): at most ``max_inflight`` chunks submitted and not yet
collected, results put back in chunk order, the first failing chunk in input order raised with
its own type, and the later chunks cancelled. A worker that dies while running a chunk (the
scheduler gives up on the chunk as ``KilledWorker``), or that takes a scattered chunk with it,
raises :class:`~pdpar.errors.WorkerCrashedError`; the cluster's nannies restart workers, so
the next call runs.
"""

from __future__ import annotations

import contextvars
import io
import pickle
import threading
import traceback
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import transport
from .backends import _call_task, _Failure, _sendable, _windowed
from .errors import PdparError, WorkerCrashedError

__all__ = ["current_client", "cluster_threads", "run_on_dask", "Transfer", "last_transfer",
           "SCATTER_MIN_BYTES"]

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
        raise PdparError("backend='dask' needs dask.distributed: pip install 'dask[distributed]'"
                         f" (or pdpar[dask]), then start a Client ({exc})") from exc
    try:
        client = Client.current()
    except ValueError:
        raise PdparError(_NO_CLIENT) from None
    if client.status not in ("running", "connecting", "newly-created"):
        raise PdparError(_NO_CLIENT)
    return client


def cluster_threads(backend: str = "dask") -> int:
    """Worker threads (dask) or CPUs (ray) of the cluster: the ``n_jobs`` of ``n_jobs=-1``.

    Raises PdparError, saying what to start, when there is no running client or ray.
    """
    if backend == "ray":
        return max(1, int(_ray().cluster_resources().get("CPU", 1)))
    info = current_client().scheduler_info(n_workers=-1)
    return max(1, sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()))


def _ray() -> Any:
    """The ray module, connected to a cluster; PdparError if ray is missing or not started."""
    try:
        import ray
    except ImportError as exc:
        raise PdparError("backend='ray' needs ray: pip install ray (or pdpar[ray]), then "
                         f"ray.init() ({exc})") from exc
    if not ray.is_initialized():
        raise PdparError("backend='ray' runs on a running ray cluster, and ray is not "
                         "initialised in this process. Start or join one first: "
                         "ray.init() (a local cluster) or ray.init(address='auto').")
    return ray


@dataclass
class Transfer:
    """What one call sent to the cluster: its chunks (pickled bytes, inside their tasks or
    scattered) and its ``broadcast=`` scatters."""

    chunks: int = 0
    chunk_bytes: int = 0
    scattered_chunks: int = 0
    scattered_bytes: int = 0
    broadcast_scatters: int = 0


_last = Transfer()


def last_transfer() -> Transfer:
    """What the last ``backend="dask"`` call of this process sent to the cluster."""
    return _last


# ---------------------------------------------------------------------------------------------
# pickling a chunk: broadcast= objects are replaced by a reference to a scattered copy


#: In a worker, while a chunk is unpickled: the broadcast objects of its call, by token.
_unpacking: contextvars.ContextVar[dict[str, dict[str, Any]]] = contextvars.ContextVar(
    "pdpar_dask_broadcast")

#: In a worker: the broadcast objects it fetched last, (token, objects), and the lock that
#: keeps its threads from fetching them twice.
_fetched: tuple[str, dict[str, Any]] | None = None
_fetch_lock = threading.Lock()


def _broadcast_objects(token: str, handle: tuple[str, Any]) -> dict[str, Any]:
    """This worker's copy of a call's broadcast objects, fetched from the cluster on first use.

    ``handle`` is ``("dask", key)`` or ``("ray", [object_ref])``. The chunks do not name the
    objects as a dependency: dask would then drop the copies of workers with no chunk waiting
    for them (its active memory manager) and send them again for the next chunk, and ray would
    unpickle them for every chunk. A worker keeps the objects of the last call it saw, as a
    process worker does.
    """
    global _fetched
    with _fetch_lock:
        if _fetched is None or _fetched[0] != token:
            _fetched = (token, _fetch(handle))
        return _fetched[1]


def _fetch(handle: tuple[str, Any]) -> Any:
    system, ref = handle
    if system == "ray":
        import ray

        return ray.get(ref[0])
    from distributed import Future, get_client

    client = get_client()
    # "memory": the key is held by the cluster (dask annotates state as a FutureState, but
    # looks it up by this name)
    future: Any = Future(ref, client, state="memory")  # type: ignore[arg-type]
    return client.gather(future)


class _ChunkPickler(transport._ChunkPickler):
    """The chunk pickler of :mod:`pdpar.transport`, with ``broadcast=`` objects left out:
    a :class:`~pdpar.transport.Broadcasting` is pickled as its function and a token."""

    def __init__(self, file: io.BytesIO, seen: dict[str, transport.Broadcasting]) -> None:
        super().__init__(file, protocol=5)
        self._seen = seen

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, transport.Broadcasting):
            self._seen.setdefault(obj.token, obj)
            return (_with_objects, (obj.func, obj.token))
        return super().reducer_override(obj)


def _with_objects(func: Callable[..., Any], token: str) -> _WithObjects:
    return _WithObjects(func, token, _unpacking.get()[token])


class _WithObjects:
    """A broadcasting function as rebuilt on a worker: the objects are the worker's copy."""

    def __init__(self, func: Callable[..., Any], token: str, objects: dict[str, Any]) -> None:
        self.func = func
        self.token = token
        self.objects = objects

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs, **self.objects)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_with_objects, (self.func, self.token))


def _pickle_chunk(args: tuple, seen: dict[str, transport.Broadcasting]) -> bytes:
    with io.BytesIO() as file:
        try:
            _ChunkPickler(file, seen).dump(args)
        except Exception as exc:
            raise PdparError(
                f"the chunk could not be pickled for the dask workers ({exc!r}); the function, "
                "its arguments and the data must be picklable with backend='dask'."
            ) from exc
        return file.getvalue()


class _Boxed:
    """A chunk's outcome, as one object: dask serialises a list or tuple result element by
    element (measured here: ~0.1 ms per element, 0.6 s for 5,000 results), anything else with
    one pickle."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __reduce__(self) -> tuple[Any, ...]:
        return (_Boxed, (self.value,))


def _run_on_worker(task: Callable[..., Any], chunk: bytes,
                   broadcast_handles: dict[str, tuple[str, Any]],
                   errstate: dict[str, Any]) -> _Boxed:
    """Run on a dask worker: unpickle the chunk (with this worker's broadcast objects) and run
    the task on it. The task's own exceptions come back as values, as on processes."""
    reset = None
    try:
        objects = {token: _broadcast_objects(token, handle)
                   for token, handle in broadcast_handles.items()}
        reset = _unpacking.set(objects)
        args = pickle.loads(chunk)
    except Exception as exc:
        return _Boxed(_sendable(_Failure(
            PdparError(f"a worker could not unpack its chunk: {exc!r}"),
            "".join(traceback.format_exception(exc)))))
    finally:
        if reset is not None:
            _unpacking.reset(reset)
    return _Boxed(_call_task(task, args, True, errstate))


# ---------------------------------------------------------------------------------------------
# submitting and collecting


class _Submitted(Future):
    """A chunk's dask future, seen as a :class:`concurrent.futures.Future`, so that the window
    of :func:`pdpar.backends._windowed` drives dask as it drives threads and processes."""

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


def run_on_dask(task: Callable[..., Any], chunks: Iterable[tuple], n_jobs: int, window: int,
                completed: Callable[[int], None]) -> Generator[Any, None, None]:
    """Outcomes of ``task(*args)`` for each ``args`` in ``chunks``, in order, computed on the
    current client's workers (see the module's docstring for what travels)."""
    from distributed import KilledWorker

    global _last
    client = current_client()
    errstate = np.geterr()
    broadcasts: dict[str, transport.Broadcasting] = {}
    scattered: dict[str, Any] = {}  # token -> future of the objects, on every worker
    sent = _last = Transfer()

    def submit(i: int, args: tuple) -> Future:
        chunk: Any = _pickle_chunk(args, broadcasts)
        sent.chunks += 1
        sent.chunk_bytes += len(chunk)
        for token in broadcasts.keys() - scattered.keys():
            # to one worker; each other worker fetches them when its first chunk needs them.
            # In a list, so that the dict of objects is one value, not one per key.
            scattered[token], = client.scatter([broadcasts[token].objects], hash=False)
            sent.broadcast_scatters += 1
        if len(chunk) >= SCATTER_MIN_BYTES:
            sent.scattered_chunks += 1
            sent.scattered_bytes += len(chunk)
            chunk = client.scatter(chunk, hash=False)
        handles = {token: ("dask", future.key) for token, future in scattered.items()}
        return _Submitted(client.submit(_run_on_worker, task, chunk, handles, errstate,
                                        pure=False))

    try:
        yield from _windowed(submit, chunks, window, completed)
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
        for future in scattered.values():
            future.release()


def _cancelled_errors() -> tuple[type[BaseException], ...]:
    import asyncio
    import concurrent.futures

    from distributed.client import FutureCancelledError

    return (FutureCancelledError, asyncio.CancelledError, concurrent.futures.CancelledError)


# ---------------------------------------------------------------------------------------------
# ray


def run_on_ray(task: Callable[..., Any], chunks: Iterable[tuple], n_jobs: int, window: int,
               completed: Callable[[int], None]) -> Generator[Any, None, None]:
    """Outcomes of ``task(*args)`` for each ``args`` in ``chunks``, in order, computed as ray
    tasks of one CPU each on the cluster ``ray.init()`` joined.

    Chunks travel pickled, as for dask; ``broadcast=`` objects are put once in ray's object
    store and each worker process fetches them once per call. A chunk is never retried: a
    worker that dies raises :class:`~pdpar.errors.WorkerCrashedError`.
    """
    global _last
    ray = _ray()
    remote = ray.remote(max_retries=0, num_cpus=1)(_run_on_worker)
    errstate = np.geterr()
    broadcasts: dict[str, transport.Broadcasting] = {}
    handles: dict[str, tuple[str, Any]] = {}
    sent = _last = Transfer()

    def submit(i: int, args: tuple) -> Future:
        chunk = _pickle_chunk(args, broadcasts)
        sent.chunks += 1
        sent.chunk_bytes += len(chunk)
        for token in broadcasts.keys() - handles.keys():
            # in a list, so that ray passes the reference itself instead of the objects
            handles[token] = ("ray", [ray.put(broadcasts[token].objects)])
            sent.broadcast_scatters += 1
        ref = remote.remote(task, chunk, dict(handles), errstate)
        return _RaySubmitted(ref, ray)

    try:
        yield from _windowed(submit, chunks, window, completed)
    except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError,
            ray.exceptions.ObjectLostError) as exc:
        raise WorkerCrashedError(
            f"a ray worker died while running a chunk ({type(exc).__name__}). If it ran out of "
            "memory, try smaller chunks (chunksize) or workers with more memory."
        ) from exc


class _RaySubmitted(Future):
    """A chunk's ray task, seen as a :class:`concurrent.futures.Future`."""

    def __init__(self, ref: Any, ray: Any) -> None:
        super().__init__()
        self._ref = ref
        self._ray = ray
        ref.future().add_done_callback(self._settle)

    def cancel(self) -> bool:
        cancelled = super().cancel()  # first, as for dask: see _Submitted.cancel
        if cancelled:
            self._ray.cancel(self._ref)
        return cancelled

    def _settle(self, done: Future) -> None:
        try:
            if done.cancelled():
                self.cancel()
            elif done.exception() is not None:
                self.set_exception(done.exception())  # type: ignore[arg-type]
            else:
                self.set_result(done.result().value)
        except InvalidStateError:
            pass  # cancelled by the window in the meantime
