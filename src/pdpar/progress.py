"""Progress reporting, always from the calling process as chunks are collected.

Workers never report progress themselves (no queues polled across processes), so a bar cannot
hang a run: it only advances when the parent collects a finished chunk.

``progress=True`` is a ``tqdm.auto`` bar on stderr: the widget in a notebook, a bar redrawn in
place in a terminal. When stderr is neither (a log file, a pipe, CI output), a bar redrawn in
place would pile up carriage returns on one line; there each state is written as a line of its
own, at most every :data:`LOG_INTERVAL_SECONDS`, and the last one shows the total.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, Protocol, TextIO

__all__ = ["ProgressSink", "make_progress", "LOG_INTERVAL_SECONDS"]

#: Least time between two progress lines written to a stream that is not a terminal.
LOG_INTERVAL_SECONDS = 10.0


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


class _Lines:
    """A stream for a bar written to a log: each redraw becomes a line of its own."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> None:
        for state in text.split("\r"):
            state = state.rstrip()
            if state:
                self._stream.write(state + "\n")

    def flush(self) -> None:
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:  # encoding, and anything else tqdm looks at
        return getattr(self._stream, name)


def _in_notebook() -> bool:
    from tqdm.autonotebook import tqdm as chosen
    from tqdm.std import tqdm as console

    return chosen is not console


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def make_progress(progress: Any, total: int, unit: str) -> ProgressSink:
    """A sink for the ``progress`` option: False, True, a tqdm class, or a callable."""
    if progress is False:
        return _Silent()
    if progress is True:
        from tqdm.auto import tqdm

        stream = sys.stderr
        if _in_notebook() or _is_terminal(stream):
            return tqdm(total=total, unit=unit, file=stream, mininterval=0.2)
        return tqdm(total=total, unit=unit, file=_Lines(stream),
                    mininterval=LOG_INTERVAL_SECONDS)
    if isinstance(progress, type):
        return progress(total=total, unit=unit)  # a tqdm class, or one shaped like it
    return _CallbackProgress(progress, total)
