"""What a call hands to :func:`pdpar.execute.execute`: its chunks as :class:`Work`, and what
comes back when pandas is to finish the call (:class:`Unfinished`)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .broadcast import Shared
from .errors import ChunkSpan
from .progress import ProgressSink

__all__ = ["Work", "Unfinished"]


@dataclass(frozen=True)
class Work:
    """The chunks of one call: ``task(*payload(span))`` runs the units ``span`` covers.

    Units are numbered from 0 to ``n_units``; the first ``first`` of them already ran (the
    kind keeps their results), so chunks cover ``[first, n_units)``. ``payload`` is called
    only when the chunk is about to be submitted, so the chunks waiting their turn cost no
    memory. ``nbytes`` is the size of the whole input; ``weights`` (groups: their rows) make
    chunks balanced by weight rather than by count. ``shared``, when given, is in every
    payload (the function and its arguments); it is closed when the work is done.
    ``in_caller`` says that the task runs faster than pandas' own method: what the automatic
    backend leaves to the caller then runs there as one more chunk, instead of being handed
    to pandas. ``key`` identifies the function from call to call (:mod:`pdpar.plan.hindsight`).
    """

    task: Callable[..., Any]
    payload: Callable[[ChunkSpan], tuple]
    unit: str
    n_units: int
    first: int = 0
    nbytes: int = 0
    weights: np.ndarray | None = None
    shared: Shared | None = None
    in_caller: bool = False
    key: Hashable | None = None


class Unfinished:
    """A call that pandas is to finish in the caller: ``results`` are those of its first units,
    in order; ``progress`` (still open, or None) is to advance by the ``remaining`` units as
    pandas runs them."""

    __slots__ = ("results", "progress", "remaining")

    def __init__(self, results: list[Any], progress: ProgressSink | None = None,
                 remaining: int = 0) -> None:
        self.results = results
        self.progress = progress
        self.remaining = remaining
