"""Warnings that pandas raises inside a pdpar call are reported at the user's line.

pandas attributes a warning to the first stack frame outside pandas, which inside a pdpar call
is a pdpar frame. :func:`attributed_to_caller` collects the warnings raised in its block and
re-issues each one at the first frame outside pdpar and pandas, through the user's filters.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator
from types import FrameType

import pandas as pd

__all__ = ["attributed_to_caller", "warn_at_caller"]

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
    warnings.warn_explicit(
        message,
        type(message),
        frame.f_code.co_filename,
        frame.f_lineno,
        module=module_globals.get("__name__"),
        registry=module_globals.setdefault("__warningregistry__", {}),
        module_globals=module_globals,
    )


@contextlib.contextmanager
def attributed_to_caller() -> Iterator[None]:
    """Re-issue the warnings raised in this block at the user's line, through their filters."""
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:  # type: ignore[assignment]
            warnings.simplefilter("always")
            yield
    finally:
        for record in caught:
            message = record.message
            if not isinstance(message, Warning):
                message = record.category(str(message))
            warn_at_caller(message)
