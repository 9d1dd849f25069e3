"""``backend="ray"``: chunks run as ray tasks of one CPU each on the cluster ``ray.init()``
joined.

Chunks travel pickled, as for dask (see :mod:`.cluster`); ``broadcast=`` objects are put once in
ray's object store and each worker process fetches them once per call. A chunk is never
retried: a worker that dies raises :class:`~pdpar.errors.WorkerCrashedError`.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, InvalidStateError
from typing import Any

import numpy as np

from ..errors import PdparError, WorkerCrashedError
from .cluster import Shipment, run_on_worker
from .protocol import windowed

__all__ = ["run", "workers"]


def _ray() -> Any:
    """The ray module, connected to a cluster; PdparError if ray is missing or not started."""
    try:
        import ray
    except ImportError as exc:
        raise PdparError("backend='ray' needs ray: pip install ray (from pdpar's checkout: "
                         "pip install -e '.[ray]'), then ray.init() "
                         f"({exc})") from exc
    if not ray.is_initialized():
        raise PdparError("backend='ray' runs on a running ray cluster, and ray is not "
                         "initialised in this process. Start or join one first: "
                         "ray.init() (a local cluster) or ray.init(address='auto').")
    return ray


def workers() -> int:
    """CPUs of the cluster: the ``n_jobs`` of ``n_jobs=-1``. Raises PdparError, saying what to
    start, when ray is not initialised."""
    return max(1, int(_ray().cluster_resources().get("CPU", 1)))


def run(task: Callable[..., Any], chunks: Iterable[tuple], n_jobs: int, window: int,
        completed: Callable[[int], None]) -> Generator[Any, None, None]:
    """Outcomes of ``task(*args)`` for each chunk, in order, computed as ray tasks."""
    ray = _ray()
    remote = ray.remote(max_retries=0, num_cpus=1)(run_on_worker)
    errstate = np.geterr()
    # in a list, so that ray passes the reference itself instead of the objects
    shipment = Shipment(lambda objects: ("ray", [ray.put(objects)]))

    def submit(i: int, args: tuple) -> Future:
        chunk, handles = shipment.pack(args)
        return _RaySubmitted(remote.remote(task, chunk, handles, errstate), ray)

    try:
        yield from windowed(submit, chunks, window, completed)
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
        cancelled = super().cancel()  # first, as for dask: see its _Submitted.cancel
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
