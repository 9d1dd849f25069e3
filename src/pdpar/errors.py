"""pdpar's exceptions, and the one place that builds the notes added to a user's exception.

A user's exception keeps its own type: pdpar only adds a PEP 678 note naming the row, column,
element or group that raised and the chunk it was in. When the exception crossed a process
boundary its traceback cannot travel, so the worker's formatted traceback is chained to it as a
:class:`RemoteTraceback`.
"""

from __future__ import annotations

from collections.abc import Hashable

__all__ = [
    "PdparError",
    "JitError",
    "WorkerCrashedError",
    "RemoteTraceback",
    "add_label_note",
]


class PdparError(Exception):
    """Base class of the errors pdpar raises itself (never of a user's exceptions)."""


class JitError(PdparError):
    """``jit=True`` was asked for and the function cannot be compiled; the message says why."""


class WorkerCrashedError(PdparError):
    """A worker process died while running a chunk (killed, crashed or out of memory)."""


class RemoteTraceback(Exception):
    """The formatted traceback of an exception raised in a worker process."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return "\n" + self.text


def add_label_note(exc: BaseException, what: str, label: Hashable, chunk: ChunkSpan) -> None:
    """Add a note to ``exc`` naming the ``what`` (row, group, ...) with ``label`` and the chunk."""
    exc.add_note(f"pdpar: raised by the function on the {what} labelled {label!r} ({chunk})")


class ChunkSpan:
    """Where a chunk lies in its input, for messages: ``chunk 3 of 8, rows 300 to 399``."""

    __slots__ = ("index", "count", "unit", "start", "stop")

    def __init__(self, index: int, count: int | None, unit: str, start: int, stop: int) -> None:
        self.index = index
        self.count = count
        self.unit = unit
        self.start = start
        self.stop = stop

    def __str__(self) -> str:
        last = self.stop - 1
        if self.count is None:  # a chunk the caller runs while it measures the function
            return f"chunk {self.index + 1}, {self.unit} {self.start} to {last}, run in the caller"
        return f"chunk {self.index + 1} of {self.count}, {self.unit} {self.start} to {last}"

    def __reduce__(self) -> tuple[type[ChunkSpan], tuple[int, int | None, str, int, int]]:
        return (ChunkSpan, (self.index, self.count, self.unit, self.start, self.stop))
