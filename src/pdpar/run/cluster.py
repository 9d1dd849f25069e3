"""What the cluster backends (:mod:`.dask`, :mod:`.ray`) share: chunks pickled for a cluster,
``broadcast=`` objects sent once per call, and the task a cluster worker runs.

What travels, and how often:

- each chunk's arguments, once, pickled here (protocol 5, large string columns as Arrow
  strings, as for processes), with any ``broadcast=`` objects left out;
- ``broadcast=`` objects, once per call: put on the cluster when the first chunk needs them,
  and fetched by each worker once, when its first chunk of the call starts
  (:func:`pdpar.broadcast.worker_objects`). The chunks do not name the objects as a
  dependency: dask would then drop the copies of workers with no chunk waiting for them (its
  active memory manager) and send them again for the next chunk, and ray would unpickle them
  for every chunk;
- each chunk's raw results, back, once.
"""

from __future__ import annotations

import contextvars
import functools
import io
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import broadcast, transport
from ..errors import PdparError
from .protocol import call_task, unpacking_failed

__all__ = ["Transfer", "last_transfer", "Shipment", "Boxed", "run_on_worker"]


@dataclass
class Transfer:
    """What one call sent to the cluster: its chunks (pickled bytes, inside their tasks or
    scattered) and its ``broadcast=`` objects."""

    chunks: int = 0
    chunk_bytes: int = 0
    scattered_chunks: int = 0
    scattered_bytes: int = 0
    broadcast_scatters: int = 0


_last = Transfer()


def last_transfer() -> Transfer:
    """What the last ``backend="dask"`` or ``backend="ray"`` call of this process sent to the
    cluster."""
    return _last


#: A handle on a call's broadcast objects on the cluster: ``("dask", key)`` or
#: ``("ray", [object_ref])``.
Handle = tuple[str, Any]


class Shipment:
    """The chunks of one call, pickled for a cluster, with each ``broadcast=`` object put on
    the cluster once, by ``put(objects)``, which returns its :data:`Handle`."""

    def __init__(self, put: Callable[[Any], Handle]) -> None:
        global _last
        self._put = put
        self._broadcasts: dict[str, Any] = {}  # token -> what to put once
        self.handles: dict[str, Handle] = {}
        self.sent = _last = Transfer()

    def pack(self, args: tuple) -> tuple[bytes, dict[str, Handle]]:
        """A chunk's pickled arguments, and the handles of the broadcast objects it needs."""
        with io.BytesIO() as file:
            try:
                _ChunkPickler(file, self._broadcasts).dump(args)
            except Exception as exc:
                raise PdparError(
                    f"the chunk could not be pickled for the cluster's workers ({exc!r}); the "
                    "function, its arguments and the data must be picklable on a cluster."
                ) from exc
            chunk = file.getvalue()
        self.sent.chunks += 1
        self.sent.chunk_bytes += len(chunk)
        for token in self._broadcasts.keys() - self.handles.keys():
            self.handles[token] = self._put(self._broadcasts[token])
            self.sent.broadcast_scatters += 1
        return chunk, dict(self.handles)


#: In a worker, while a chunk is unpickled: the objects put once for its call, by token.
_unpacking: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar(
    "pdpar_cluster_broadcast")


class _ChunkPickler(transport.ChunkPickler):
    """The chunk pickler of :mod:`pdpar.transport`, with ``broadcast=`` objects left out: a
    :class:`~pdpar.broadcast.Broadcasting` is pickled as its function and a token."""

    def __init__(self, file: io.BytesIO, seen: dict[str, Any]) -> None:
        super().__init__(file, protocol=5)
        self._seen = seen

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, broadcast.Broadcasting):
            self._seen.setdefault(obj.token, obj.objects)
            return (_with_objects, (obj.func, obj.token))
        if isinstance(obj, broadcast.Shared):  # inside each chunk, by this pickler's rules
            return (broadcast.Shared, (obj.value,))
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


def _fetch(handle: Handle) -> Any:
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


class Boxed:
    """A chunk's outcome, as one object: dask serialises a list or tuple result element by
    element (measured here: ~0.1 ms per element, 0.6 s for 5,000 results), anything else with
    one pickle."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __reduce__(self) -> tuple[Any, ...]:
        return (Boxed, (self.value,))


def run_on_worker(task: Callable[..., Any], chunk: bytes, handles: dict[str, Handle],
                  errstate: dict[str, Any]) -> Boxed:
    """Run on a cluster worker: unpickle the chunk (with this worker's copy of the broadcast
    objects) and run the task on it. The task's own exceptions come back as values, as on
    processes."""
    reset = None
    try:
        objects = {token: broadcast.worker_objects(token, functools.partial(_fetch, handle))
                   for token, handle in handles.items()}
        reset = _unpacking.set(objects)
        args = pickle.loads(chunk)
    except Exception as exc:
        return Boxed(unpacking_failed(exc))
    finally:
        if reset is not None:
            _unpacking.reset(reset)
    return Boxed(call_task(task, args, True, errstate))
