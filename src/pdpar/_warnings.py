"""Warnings raised inside a pdpar call are reported once, at the user's line.

pandas attributes a warning to the first stack frame outside pandas, which inside a pdpar call
is a pdpar frame. :func:`attributed_to_caller` collects the warnings raised in its block and
re-issues each distinct one (category and message) once, at the first frame outside pdpar and
pandas, through the user's filters: a function that warns on every row warns once per call, as
pandas' default filter shows it once.

In worker processes, :func:`collected` records the distinct warnings a chunk raises instead of
printing them on the worker's stderr (each worker, and with functions sent by value each
chunk, would print its own copy); they travel back with the chunk's outcome (:class:`Warned`)
and :func:`reissue` raises them again in the calling process, inside the call's block.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator
from types import FrameType
from typing import TextIO

import pandas as pd

__all__ = ["attributed_to_caller", "warn_at_caller", "collected", "Warned", "reissue"]

_PDPAR_DIR = os.path.dirname(os.path.abspath(__file__))
_PANDAS_DIR = os.path.dirname(os.path.abspath(pd.__file__))
_PANDAS_TESTS = os.path.join(_PANDAS_DIR, "tests")
_CONTEXTLIB = os.path.abspath(contextlib.__file__)


def _is_library_frame(frame: FrameType) -> bool:
    filename = os.path.abspath(frame.f_code.co_filename)
    if filename.startswith(_PDPAR_DIR) or filename == _CONTEXTLIB:
        return True
    return filename.startswith(_PANDAS_DIR) and not filename.startswith(_PANDAS_TESTS)


def _caller_frame() -> FrameType | None:
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and _is_library_frame(frame):
        frame = frame.f_back
    return frame


def warn_at_caller(message: Warning) -> None:
    """Issue ``message`` as if raised at the user's line that called pdpar."""
    frame = _caller_frame()
    if frame is None:
        warnings.warn(message, stacklevel=2)
        return
    module_globals = frame.f_globals
    where = (message, type(message), frame.f_code.co_filename, frame.f_lineno,
             module_globals.get("__name__"), module_globals.setdefault("__warningregistry__", {}))
    try:
        warnings.warn_explicit(*where, module_globals=module_globals)
    except ImportError:  # code with no source to show (python -c): its loader cannot give any
        warnings.warn_explicit(*where)


@contextlib.contextmanager
def attributed_to_caller() -> Iterator[None]:
    """Re-issue the warnings raised in this block at the user's line, through their filters."""
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:  # type: ignore[assignment]
            warnings.simplefilter("always")
            yield
    finally:
        seen: set[tuple[type[Warning], str]] = set()
        for record in caught:
            key = (record.category, str(record.message))
            if key in seen:
                continue
            seen.add(key)
            message = record.message
            if not isinstance(message, Warning):
                message = record.category(str(message))
            warn_at_caller(message)


#: A warning as it travels from a worker process: its category's module and qualified name,
#: and its message.
Sent = tuple[str, str, str]


@contextlib.contextmanager
def collected() -> Iterator[list[Sent]]:
    """Record the warnings raised in this block, each distinct one once, instead of showing
    them; the list is filled when the block ends."""
    found: dict[Sent, None] = {}
    sent: list[Sent] = []

    def keep(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: TextIO | None = None, line: str | None = None) -> None:
        found.setdefault((category.__module__, category.__qualname__, str(message)), None)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.showwarning = keep
            yield sent
    finally:
        sent.extend(found)


class Warned:
    """A chunk's outcome, and the warnings raised while it ran in a worker process."""

    __slots__ = ("outcome", "sent")

    def __init__(self, outcome: object, sent: list[Sent]) -> None:
        self.outcome = outcome
        self.sent = sent


def reissue(outcome: object) -> object:
    """The outcome a :class:`Warned` carries, after raising its warnings again here (other
    outcomes are returned as they are). A category this process cannot find by its name
    becomes UserWarning."""
    if not isinstance(outcome, Warned):
        return outcome
    for module, qualname, text in outcome.sent:
        category: object = sys.modules.get(module)
        for part in qualname.split("."):
            category = getattr(category, part, None)
        if not (isinstance(category, type) and issubclass(category, Warning)):
            category = UserWarning
        warnings.warn(text, category, stacklevel=2)
    return outcome.outcome
