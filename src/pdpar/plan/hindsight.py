"""What the last calls of a function took, against what the automatic backend estimated for them.

The estimates start from the function timed on a call's first units, a few milliseconds of
it. Some of what the whole call costs does not show there: units further in that cost more
than the first ones, the garbage collector going over a heap that grows with the results,
pandas' assembly of many results, a worker process slower than the caller. Measured on real
feature-engineering functions here, the rest of a call took 0.6 to 1.6 times its estimate in
the calling process, much the same from call to call of one function.

So each call the automatic backend decided is timed from its decision to its result
(:func:`timed`). Run in the calling process, that time over the weight of the units it ran
is the function's time per unit as the whole call shows it; run on another backend, its ratio
to that backend's estimate is what the backend adds that the estimate missed. Both are kept
for the function (its code: a lambda made again for each call is the same function), and its
next call plans with them (:func:`corrections`, used by :func:`.policy.choose`): the time per
unit in place of the one measured on its first units, within :data:`LIMIT` of it (further
off, the data is not alike), and each backend's ratio on its estimate. The plan shows both.
A value is the geometric mean of the last one and the new one, so one disturbed call moves it
only half way; a call that started the worker processes teaches nothing about processes (the
start is measured on its own, :func:`pdpar.run.processes.measured_start`).

A call can also stay in the calling process only because no worker processes are running:
too short to pay for starting them, though warm ones would have made it faster. What such
calls would have saved adds up, whatever their function (:func:`cold_pool`), and once it
reaches what starting the workers costs a call, that call starts them (:func:`missed`, used
by :func:`.policy.choose`): a program repeating such a call gets the warm pool after a few
calls, having lost no more than it had already gone without.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable, Iterator, Mapping
from typing import Any

from .model import Plan

__all__ = ["key_of", "corrections", "timed", "started", "cold_pool", "missed", "forget",
           "LIMIT"]

#: Ratios, and the time per unit against the one measured, are kept within ``1 / LIMIT`` and
#: ``LIMIT``.
LIMIT = 3.0
#: Functions remembered, the least recently used forgotten first.
MAX_FUNCTIONS = 256

_learned: OrderedDict[Hashable, dict[str, float]] = OrderedDict()  # logarithms
_lock = threading.Lock()
_missed = [0.0]  # seconds, since the worker processes last started
_running: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar(
    "pdpar_hindsight", default=None)


def key_of(kind: str, func: Any) -> Hashable | None:
    """What identifies a call's function from call to call: the kind of call and the code of
    the user's function (seen through pdpar's own wrappers and ``functools.partial``), or the
    callable itself when it has no code (a builtin, a ufunc); None when it has no identity."""
    for _ in range(8):
        if not isinstance(func, functools.partial):
            break
        inner = func.func
        if getattr(inner, "__module__", "").startswith("pdpar"):  # call_with(func, ...)
            inner = next((a for a in func.args if callable(a)), inner)
        func = inner
    code = getattr(func, "__code__", None)
    if code is not None:
        return kind, code
    try:
        hash(func)
    except TypeError:
        return None
    return (kind, func) if func is not None else None


def corrections(key: Hashable | None) -> Mapping[str, float]:
    """What the last calls of ``key``'s function showed: ``"serial"``, the seconds per unit of
    weight of those that ran in the calling process; for another backend, the ratio of what
    those that ran on it took to their estimates. Empty for a function not seen."""
    if key is None:
        return {}
    with _lock:
        learned = _learned.get(key)
        if learned is None:
            return {}
        _learned.move_to_end(key)
        return {backend: math.exp(value) for backend, value in learned.items()}


@contextlib.contextmanager
def timed() -> Iterator[None]:
    """Time the call inside the block from its decision (:func:`started`) to its end, and
    keep the ratio to the estimate of the backend it ran. A call that raises teaches
    nothing."""
    token = _running.set([])
    try:
        yield
        decision = _running.get()
    finally:
        _running.reset(token)
    if decision:
        key, plan, weight, since = decision
        _observe(key, plan, weight, time.perf_counter() - since)


def started(key: Hashable | None, plan: Plan, weight: float) -> None:
    """The automatic backend decided ``plan`` for ``key``'s function, over units of total
    ``weight``: the time of the rest starts now."""
    decision = _running.get()
    if decision is not None and key is not None and plan.estimates and not plan.compiled:
        decision[:] = [key, plan, weight, time.perf_counter()]


def _observe(key: Hashable, plan: Plan, weight: float, seconds: float) -> None:
    backend = plan.backend
    if seconds <= 0 or weight <= 0:
        return
    if backend == "serial":
        value = math.log(seconds / weight)
    elif backend == "processes" and plan.start_seconds is not None:
        return  # the workers started in this call
    else:
        estimated = dict(plan.estimates).get(backend)
        if not estimated or not math.isfinite(estimated):
            return
        estimated /= dict(plan.corrections).get(backend, 1.0)  # as estimated before
        value = math.log(seconds / estimated)
        value = max(-math.log(LIMIT), min(math.log(LIMIT), value))
    with _lock:
        learned = _learned.setdefault(key, {})
        _learned.move_to_end(key)
        before = learned.get(backend)
        learned[backend] = value if before is None else (before + value) / 2
        while len(_learned) > MAX_FUNCTIONS:
            _learned.popitem(last=False)


def cold_pool(plan: Plan) -> None:
    """Count what warm worker processes would have saved the call of ``plan``
    (``plan.warm_saving``); a plan that starts them starts the count again."""
    with _lock:
        if plan.backend == "processes" and plan.start_seconds is not None:
            _missed[0] = 0.0
        elif plan.warm_saving:
            _missed[0] += plan.warm_saving


def missed() -> float:
    """What the calls that stayed in the calling process only because no worker processes
    were running would have saved on warm ones, since the workers last started."""
    with _lock:
        return _missed[0]


def forget() -> None:
    """Forget every function's ratios (the next calls plan from their measurement alone), and
    what calls went without warm worker processes."""
    with _lock:
        _learned.clear()
        _missed[0] = 0.0
