"""What every chunk of a call shares, sent to worker processes once per call, not once per
chunk: the function and its arguments (:class:`Shared`), and ``broadcast=`` objects, large
read-only objects (a model, a lookup table) passed to the function as keyword arguments
(:class:`Broadcasting`).

Pickled for a worker process, either carries only a reference to one spool file
(:mod:`pdpar.transport`) written on first use; every worker maps it and loads the objects once
per call (:func:`worker_objects`), however many chunks it runs. Leaving the call removes the
file. A :class:`Shared` too small to be worth a file travels inside each chunk, pickled once.
"""

from __future__ import annotations

import contextlib
import functools
import pickle
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from . import transport

__all__ = ["Broadcasting", "Shared", "worker_objects", "SHARE_MIN_BYTES", "wrapping"]

#: A :class:`Shared` that pickles to at least this many bytes goes to the workers in a spool file,
#: once per call; a smaller one inside each chunk.
SHARE_MIN_BYTES = 64 << 10


class Broadcasting:
    """The user's function with ``broadcast=`` objects passed as keyword arguments.

    In the calling process it holds the objects. Pickled for a worker process, it carries only
    a reference to one spool file written on first use; each worker loads the objects from it
    once per call (:func:`worker_objects`), whatever the number of chunks. Use it as a
    context manager: leaving the call removes the file.
    """

    #: How an error names it when it cannot be pickled (:func:`transport.unpicklable_part`).
    part_name = "a broadcast= object"

    def __init__(self, func: Callable[..., Any], objects: Mapping[str, Any]) -> None:
        self.func = func
        self.objects = dict(objects)
        self._token = uuid.uuid4().hex
        self._spool = transport.Spool()
        self._parcel: transport.Parcel | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs, **self.objects)

    @property
    def token(self) -> str:
        """Names this call's objects, the same in every worker."""
        return self._token

    def __enter__(self) -> Broadcasting:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Remove the spool file the workers read the objects from."""
        self._spool.close()
        self._parcel = None

    def __reduce__(self) -> tuple[Any, ...]:
        if self._parcel is None:
            self._parcel = self._spool.send(self.objects, shared=True)
        return (_Received, (self.func, self._token, self._parcel))


@contextlib.contextmanager
def wrapping(objects: Mapping[str, Any] | None) -> Iterator[Callable[[Any], Any] | None]:
    """For a call with ``broadcast=`` ``objects``: a wrapper that passes them to a function
    (a :class:`Broadcasting`); they stay shared with worker processes until the block ends.
    Without objects, None."""
    if not objects:
        yield None
        return
    wrapped: list[Broadcasting] = []

    def wrap(func: Any) -> Any:
        if not callable(func) or isinstance(func, str):
            raise TypeError(f"broadcast= needs a callable function, got {func!r}")
        wrapped.append(Broadcasting(func, objects))
        return wrapped[-1]

    try:
        yield wrap
    finally:
        for broadcasting in wrapped:
            broadcasting.close()


#: The objects this worker loaded for the calls it saw last, by token, and the lock that keeps
#: its threads (a dask worker has several) from loading them twice.
_worker_objects: dict[str, Any] = {}
_worker_objects_lock = threading.Lock()

#: A worker keeps the objects of this many calls (a call may share a function and broadcast
#: objects, each under its own token).
_KEPT = 4


def worker_objects(token: str, load: Callable[[], Any]) -> Any:
    """This worker's copy of the objects ``token`` names: ``load()``-ed on the first chunk of
    the call that needs them, then kept while the worker sees that call."""
    with _worker_objects_lock:
        if token not in _worker_objects:
            _worker_objects[token] = load()
            while len(_worker_objects) > _KEPT:
                del _worker_objects[next(iter(_worker_objects))]
        return _worker_objects[token]


class Shared:
    """What every chunk of a call passes its task besides its own data: the user's function
    and its arguments, as a tuple (:attr:`value`).

    In the calling process (threads, the caller) it is used as it is. Pickled, it is pickled
    once per call (:meth:`pickled`): a small one travels inside each chunk as those bytes; one
    of at least :data:`SHARE_MIN_BYTES` (a lookup table given in ``args=``, a model in the
    function's closure) as a reference to one spool file, which each worker loads once.
    Leaving the call (:meth:`close`) removes the file.
    """

    __slots__ = ("value", "token", "_pickled", "_spool", "_parcel")

    def __init__(self, value: tuple) -> None:
        self.value = value
        self.token = uuid.uuid4().hex
        self._pickled: bytes | None = None
        self._spool: transport.Spool | None = None
        self._parcel: transport.Parcel | None = None

    def pickled(self) -> bytes:
        """The value pickled (once); raises what pickling raises."""
        if self._pickled is None:
            self._pickled = transport.dumps_inband(self.value)
        return self._pickled

    def pickled_parts(self) -> tuple:
        """The parts, to name the one that cannot be pickled."""
        return self.value

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()
        self._spool = self._parcel = None

    def __reduce__(self) -> tuple[Any, ...]:
        pickled = self.pickled()
        if len(pickled) < SHARE_MIN_BYTES:
            return (_shared_from_bytes, (pickled,))
        if self._parcel is None:
            self._spool = transport.Spool()
            self._parcel = self._spool.send(self.value, shared=True)
        return (_shared_from_parcel, (self.token, self._parcel))


def _shared_from_bytes(pickled: bytes) -> Shared:
    return Shared(pickle.loads(pickled))


def _shared_from_parcel(token: str, parcel: transport.Parcel) -> Shared:
    return Shared(worker_objects(token, functools.partial(transport.receive, parcel)))


class _Received:
    """A :class:`Broadcasting` as rebuilt in a worker process."""

    def __init__(self, func: Callable[..., Any], token: str, parcel: transport.Parcel) -> None:
        self.func = func
        self._token = token
        self._parcel = parcel

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        objects = worker_objects(self._token, functools.partial(transport.receive, self._parcel))
        return self.func(*args, **kwargs, **objects)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_Received, (self.func, self._token, self._parcel))
