"""The state of the calls running in this thread (or task): the last plan made, whether only
the plan was asked for (:func:`planning`), and notes made during a call. Plans are logged at
DEBUG level on the ``pdpar`` logger."""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import logging
from collections.abc import Iterator

from .model import Plan

__all__ = ["Planned", "decided", "last_plan", "call_notes", "jit_declined", "rows_chosen",
           "planning"]

logger = logging.getLogger("pdpar")

_last_plan: contextvars.ContextVar[Plan | None] = contextvars.ContextVar("pdpar_last_plan",
                                                                        default=None)
_planning: contextvars.ContextVar[bool] = contextvars.ContextVar("pdpar_planning",
                                                                 default=False)
_jit_note: contextvars.ContextVar[str | None] = contextvars.ContextVar("pdpar_jit_note",
                                                                       default=None)
_rows_note: contextvars.ContextVar[str | None] = contextvars.ContextVar("pdpar_rows_note",
                                                                        default=None)


class Planned(BaseException):
    """Raised to end a call once its plan is made, when only the plan was asked for.

    A BaseException, so that no ``except Exception`` in pandas or in a user's code between
    the call and :func:`planning` can swallow it.
    """

    def __init__(self, plan: Plan) -> None:
        super().__init__(plan)
        self.plan = plan


def decided(plan: Plan) -> Plan:
    """Record ``plan`` as the last plan of this thread (or task); when only the plan was asked
    for, end the call here (:class:`Planned`). Logged at DEBUG level."""
    note = _jit_note.get()
    if note and not plan.compiled:
        plan = dataclasses.replace(plan, jit=note)
    rows = _rows_note.get()
    if rows and plan.rows is None:
        plan = dataclasses.replace(plan, rows=rows)
    _last_plan.set(plan)
    if logger.isEnabledFor(logging.DEBUG):  # explain() formats text: only when logged
        logger.debug("%s", plan.explain())
    if _planning.get():
        raise Planned(plan)
    return plan


def last_plan() -> Plan | None:
    """The plan of the last pdpar call made in this thread (or task), or None.

    >>> import pandas as pd, pdpar
    >>> _ = pd.Series([1, 2, 3]).par.map(str)
    >>> print(pdpar.last_plan())
    Plan(3 elements: plain pandas in the calling process; str functions go to pandas directly)
    """
    return _last_plan.get()


@contextlib.contextmanager
def call_notes() -> Iterator[None]:
    """A pdpar call: notes made during it (:func:`jit_declined`, :func:`rows_chosen`) end
    with it."""
    token = _jit_note.set(None)
    rows = _rows_note.set(None)
    try:
        yield
    finally:
        _rows_note.reset(rows)
        _jit_note.reset(token)


def jit_declined(reason: str) -> None:
    """Note, for this call's plan, why the function was not compiled."""
    _jit_note.set(reason)


def rows_chosen(note: str) -> None:
    """Note, for this call's plan, whether the function gets cheap rows, or why not."""
    _rows_note.set(note)


@contextlib.contextmanager
def planning() -> Iterator[None]:
    """Inside this block, pdpar calls stop as soon as their plan is made (:class:`Planned`)."""
    token = _planning.set(True)
    try:
        yield
    finally:
        _planning.reset(token)
