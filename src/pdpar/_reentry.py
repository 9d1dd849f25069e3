"""Knowing whether the current thread is already inside a pdpar call.

pdpar's chunk tasks and combine steps call pandas, and pandas calls its own public methods
internally (``DataFrame.map`` calls ``DataFrame.apply``). If a program has rerouted those
methods through pdpar, as pdpar's conformance tests do, such inner calls must reach plain
pandas. Code that reroutes pandas methods asks :func:`inside_pdpar` and falls through when true.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["inside_pdpar", "entered"]

_state = threading.local()


def inside_pdpar() -> bool:
    """True while this thread runs a pdpar call, one of its chunk tasks, or its combine step."""
    return getattr(_state, "depth", 0) > 0


@contextmanager
def entered() -> Iterator[None]:
    """Mark this thread as inside pdpar for the duration of the block."""
    _state.depth = getattr(_state, "depth", 0) + 1
    try:
        yield
    finally:
        _state.depth -= 1
