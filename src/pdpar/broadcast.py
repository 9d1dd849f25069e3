"""``broadcast=``: large read-only objects (a model, a lookup table) sent to worker processes
once per call, not once per chunk.

The user's function is wrapped in a :class:`Broadcasting`, which in the calling process holds
the objects and passes them to the function as keyword arguments. Pickled for a worker process,
it carries only a reference to one spool file (:mod:`pdpar.transport`) written on first use;
every worker maps it and loads the objects once per call (:func:`worker_objects`), however many
chunks it runs. Leaving the call removes the file.
"""

from __future__ import annotations

import functools
import threading
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from . import transport

__all__ = ["Broadcasting", "worker_objects"]


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


#: The broadcast objects this worker loaded last, (token, objects), and the lock that keeps its
#: threads (a dask worker has several) from loading them twice.
_worker_objects: tuple[str, dict[str, Any]] | None = None
_worker_objects_lock = threading.Lock()


def worker_objects(token: str, load: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """This worker's copy of the broadcast objects of the call ``token`` names: ``load()``-ed
    on the first chunk of the call that needs them, then kept. A worker keeps the objects of
    the last call it saw."""
    global _worker_objects
    with _worker_objects_lock:
        if _worker_objects is None or _worker_objects[0] != token:
            _worker_objects = (token, load())
        return _worker_objects[1]


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
