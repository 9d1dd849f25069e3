"""The one sequence every kind of call runs through (:func:`run`), and what a kind supplies
to it (:class:`Call`).

A call goes, in this order:

1. **declines**: a call with nothing to parallelise (a string function, an empty input,
   another engine, ...) goes to pandas as it is, with a plan saying why;
2. **compiled**: with ``jit``, the kind's compiled form is tried; it returns the result, or
   declines, or disagrees with pandas on the first unit (then pandas finishes the call from
   that unit's result);
3. **plan**: what can be decided before the function runs (:func:`pdpar.plan.policy.plan_call`);
4. **execute**: the chunks, measured first when their sizes are left open
   (:func:`pdpar.execute.execute`);
5. **replay**: when the plan leaves the call to pandas after units already ran, pandas finishes
   it from their results (:func:`.replay.replay`): no unit runs twice;
6. **combine**: the chunks' results become exactly what pandas returns.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..broadcast import Shared
from ..errors import ChunkSpan
from ..execute import execute
from ..options import Options
from ..plan import Plan, decided, hindsight
from ..plan.policy import plan_call
from ..work import Unfinished, Work
from .replay import replay

__all__ = ["Call", "run", "call_with", "nbytes", "share_indexes", "flat"]


class Call:
    """One call of one kind: what is its own, for :func:`run`.

    A subclass sets ``unit`` ("rows", "columns", "elements" or "groups") and ``n_units``, and
    gives :meth:`plain`, :meth:`task`, :meth:`payload` and :meth:`finish`; the rest has
    defaults that fit most kinds.
    """

    unit: str
    n_units: int
    #: The user's function as pandas calls it on a unit, for pandas to finish a call with.
    then: Callable[..., Any] | None = None
    #: Whether pandas passes the function more than the unit (``args`` or keyword arguments).
    more_arguments: bool = False
    #: Whether the chunk task runs faster than pandas' own method: then what the plan leaves
    #: to the calling process runs there as chunks, rather than being handed to pandas.
    in_caller: bool = False

    def declines(self) -> str | None:
        """Why the call goes to pandas as it is, or None."""
        return None

    def plain(self) -> Any:
        """The whole call, run by pandas as it is."""
        raise NotImplementedError

    def compiled(self, options: Options) -> Any:
        """The result compiled with numba, an :class:`Unfinished` (the compiled function
        disagreed with pandas: pandas finishes from the first units), or None (declined)."""
        return None

    def prepare(self) -> None:
        """Work before the chunks are cut (a kind may run its first units here: :meth:`ran`)."""

    def ran(self) -> list[Any]:
        """The results of the first units, when they ran before the chunks."""
        return []

    def task(self) -> Callable[..., Any]:
        """The pure chunk task: a module-level function, so that it pickles by reference."""
        raise NotImplementedError

    def payload(self, span: ChunkSpan) -> tuple:
        """The task's arguments for the chunk covering ``span`` (its data), before
        :meth:`shared`."""
        raise NotImplementedError

    def shared(self) -> tuple:
        """What every chunk's task gets after its data: the function and its arguments. The
        task receives it as one :class:`~pdpar.broadcast.Shared` (its ``value`` is this
        tuple), which worker processes receive once per call when it is large."""
        return ()

    def nbytes(self) -> int:
        """The size of the input, in bytes, as chunks carry it."""
        return 0

    def weights(self) -> np.ndarray | None:
        """Each unit's weight (groups: rows), or None when units weigh the same."""
        return None

    def work(self) -> Work:
        value = self.shared()
        shared = Shared(value)

        def payload(span: ChunkSpan) -> tuple:
            return (*self.payload(span), shared)

        func = self.then if self.then is not None else next(
            (item for item in value if callable(item)), None)
        return Work(self.task(), payload, self.unit, self.n_units, len(self.ran()),
                    self.nbytes(), self.weights(), shared, self.in_caller,
                    hindsight.key_of(type(self).__name__, func))

    def execute(self, plan: Plan, options: Options) -> list[Any] | Unfinished:
        """The chunks' results in order (or :class:`Unfinished`)."""
        return execute(self.work(), plan, options)

    def recorded(self, chunks: list[Any]) -> list[Any]:
        """The per-unit results of the chunks, in order."""
        return flat(chunks)

    def finish(self, standin: Callable[..., Any]) -> Any:
        """pandas' own method on the whole input, with ``standin`` for the function."""
        raise NotImplementedError

    def combine(self, chunks: list[Any]) -> Any:
        """What pandas returns, from the chunks' results."""
        return replay(self.finish, self.ran() + self.recorded(chunks))


def run(call: Call, options: Options) -> Any:
    """Run ``call`` through the sequence (see the module's docstring); exactly what pandas
    returns."""
    reason = call.declines()
    if reason is not None:
        return _handed_to_pandas(call, Plan(call.unit, "serial", 1, (), reason,
                                            n_units=call.n_units))
    if options.jit:
        outcome = call.compiled(options)
        if isinstance(outcome, Unfinished):  # its results are per unit
            return _finished_by_pandas(call, outcome.results, outcome)
        if outcome is not None:
            return outcome
    with hindsight.timed():
        return _run(call, options)


def _run(call: Call, options: Options) -> Any:
    plan = plan_call(call.unit, call.n_units, options)
    if not plan.plain:
        call.prepare()
        first = len(call.ran())
        if first:
            plan = plan_call(call.unit, call.n_units - first, options)
    if plan.plain and call.in_caller and not call.ran():
        plan = dataclasses.replace(plan, bounds=((0, call.n_units),))  # one chunk, here
    elif plan.plain:
        return _handed_to_pandas(call, plan)
    chunks = call.execute(plan, options)
    if isinstance(chunks, Unfinished):  # its results are the measured chunks'
        return _finished_by_pandas(call, call.recorded(chunks.results), chunks)
    return call.combine(chunks)


def _handed_to_pandas(call: Call, plan: Plan) -> Any:
    """pandas runs the call, after the units that already ran, if any (their results are
    kept: no unit runs twice)."""
    done = call.ran()
    if done:
        plan = Plan(call.unit, plan.backend, plan.n_jobs, plan.bounds, plan.reason,
                    probed=len(done), n_units=call.n_units)
        decided(plan)
        return _finished_by_pandas(call, [], None)
    decided(plan)
    return call.plain()


def _finished_by_pandas(call: Call, results: list[Any], unfinished: Unfinished | None) -> Any:
    """pandas finishes the call after the units whose ``results`` are given (and those of
    :meth:`Call.ran`); ``unfinished`` may carry the call's progress bar."""
    return replay(call.finish, call.ran() + results, then=call.then,
                  more_arguments=call.more_arguments, unfinished=unfinished)


# --------------------------------------------------------------------------------------------
# what the kinds share


def call_with(func: Callable[..., Any], args: tuple, kwargs: dict[str, Any], x: Any) -> Any:
    """``func(x, *args, **kwargs)``: how pandas passes extra arguments to a function.

    Used through ``functools.partial(call_with, func, args, kwargs)``, which pickles by value.
    """
    return func(x, *args, **kwargs)


def nbytes(obj: pd.DataFrame | pd.Series) -> int:
    """The bytes a frame's or Series' values occupy (object columns: their pointers only)."""
    return int(np.sum(obj.memory_usage(index=False, deep=False)))


def flat(chunks: list[list[Any]]) -> list[Any]:
    """The items of the chunks' lists, in order."""
    return [item for chunk in chunks for item in chunk]


def share_indexes(results: list[Any]) -> list[Any]:
    """``results`` with each Series whose index is identical to the previous Series' index
    given that same index object.

    pandas compares and hashes every result's index when it assembles them, and builds a hash
    table per index object it meets; many small Series with equal but separate indexes (the
    usual ``pd.Series({...})`` per row or group) make that the slowest part of the assembly.
    Sharing one object per run of identical indexes changes nothing pandas can see (values,
    dtype, names and type are the same) and lets pickling send the index once per chunk.
    """
    if not any(issubclass(kind, pd.Series) for kind in set(map(type, results))):
        return results  # no Series (the set is made at C speed)
    shared: pd.Index | None = None
    out = []
    for result in results:
        if isinstance(result, pd.Series):
            index = result.index
            if shared is not None and index is not shared and len(index) == len(shared) \
                    and index.identical(shared):
                result = result.set_axis(shared)
            else:
                shared = result.index
        out.append(result)
    return out
