"""Progress reporting, always from the calling process as chunks are collected.

Workers never report progress themselves (no queues polled across processes), so a bar cannot
hang a run: it only advances when the parent collects a finished chunk.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["ProgressSink", "make_progress"]


class ProgressSink(Protocol):
    def update(self, n: int) -> None: ...

    def close(self) -> None: ...


class _Silent:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


class _CallbackProgress:
    """Calls ``callback(done, total)`` after each chunk, with monotone counts."""

    def __init__(self, callback: Callable[[int, int], Any], total: int) -> None:
        self._callback = callback
        self._total = total
        self._done = 0

    def update(self, n: int) -> None:
        self._done += n
        self._callback(self._done, self._total)

    def close(self) -> None:
        pass


def make_progress(progress: Any, total: int, unit: str) -> ProgressSink:
    """A sink for the ``progress`` option: False, True, a tqdm class, or a callable."""
    if progress is False:
        return _Silent()
    if progress is True:
        from tqdm.auto import tqdm

        return tqdm(total=total, unit=unit, file=sys.stderr, mininterval=0.2)
    if isinstance(progress, type):
        return progress(total=total, unit=unit)  # a tqdm class, or one shaped like it
    return _CallbackProgress(progress, total)
