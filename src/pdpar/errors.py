"""pdpar's exceptions, and the one place that builds the notes added to a user's exception.

A user's exception keeps its own type: pdpar only adds a PEP 678 note naming the row, column,
element or group that raised and the chunk it was in. When the exception crossed a process
boundary its traceback cannot travel, so the worker's formatted traceback is chained to it as a
:class:`RemoteTraceback`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from types import TracebackType
from typing import Literal

__all__ = [
    "PdparError",
    "JitError",
    "WorkerCrashedError",
    "RemoteTraceback",
    "PdparWarning",
    "add_label_note",
    "labelled",
    "ChunkSpan",
]


class PdparError(Exception):
    """Base class of the errors pdpar raises itself (never of a user's exceptions)."""


class JitError(PdparError):
    """``jit=True`` was asked for and the function cannot be compiled; the message says why."""


class WorkerCrashedError(PdparError):
    """A worker process died while running a chunk (killed, crashed or out of memory)."""


class PdparWarning(UserWarning):
    """A call runs, but not as well as it could: more worker processes than CPUs, say."""


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


class labelled:
    """A block in which the user's function runs on units: an exception raised in it gets a
    note naming the unit and the chunk (:func:`add_label_note`).

    ``label()`` is asked only when something raised, and gives the label of the unit that was
    running then, so that a loop over many units pays nothing per unit::

        with labelled("row", span, lambda: labels[i]):
            for i in range(len(labels)):
                results.append(func(rows[i]))

    Only exceptions are noted: KeyboardInterrupt and other BaseExceptions pass as they are.
    """

    __slots__ = ("what", "span", "label")

    def __init__(self, what: str, span: ChunkSpan, label: Callable[[], Hashable]) -> None:
        self.what = what
        self.span = span
        self.label = label

    def __enter__(self) -> labelled:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> Literal[False]:
        if isinstance(exc, Exception):
            try:
                label = self.label()
            except Exception:  # the unit cannot be told: the exception goes as it is
                return False
            add_label_note(exc, self.what, label, self.span)
        return False


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
