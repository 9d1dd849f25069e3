"""``obj.par.plan``: what a call of pdpar would run, and why, without running the call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .plan import Plan, Planned, planning

__all__ = ["PlanOf", "plan_of"]


def plan_of(call: Callable[[], Any]) -> Plan:
    """The plan ``call()`` makes, without running the whole call.

    The call stops as soon as its plan is made: at most the few units it measures run.
    """
    with planning():
        try:
            call()
        except Planned as planned:
            return planned.plan
    raise RuntimeError("pdpar internal error: the call ended without making a plan")


class PlanOf:
    """``obj.par.plan``: what a call would run, and why, without running it.

    ``df.par.plan(fn, axis=1)`` plans ``df.par.apply(fn, axis=1)``; ``df.par.plan.map(fn)``
    plans ``df.par.map(fn)``; on a groupby, ``.plan.transform(fn)``, ``.plan.agg(fn)`` and
    ``.plan.filter(fn)`` plan those. The arguments are those of the method planned. Deciding
    may run the function on the first few units, to measure it; their results are discarded.
    """

    _OTHERS = frozenset({"transform", "agg", "aggregate", "filter"})

    def __init__(self, par: Any) -> None:
        self._par = par

    def __call__(self, *args: Any, **kwargs: Any) -> Plan:
        return self.apply(*args, **kwargs)

    def apply(self, *args: Any, **kwargs: Any) -> Plan:
        """The plan of ``obj.par.apply(*args, **kwargs)``."""
        return plan_of(lambda: self._par.apply(*args, **kwargs))

    def map(self, *args: Any, **kwargs: Any) -> Plan:
        """The plan of ``obj.par.map(*args, **kwargs)``."""
        return plan_of(lambda: self._par.map(*args, **kwargs))

    def __getattr__(self, name: str) -> Callable[..., Plan]:
        if name not in self._OTHERS:
            raise AttributeError(name)
        method = getattr(self._par, name)
        return lambda *args, **kwargs: plan_of(lambda: method(*args, **kwargs))
