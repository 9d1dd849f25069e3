"""The compiled path (``jit=True`` or ``jit="auto"``): row, element and group functions compiled
with numba (:mod:`.loops`) and run as chunks of a compiled loop on threads of the calling
process, through the same execution as every other call (:func:`pdpar.execute.execute`).

Split: the input as plain numpy arrays: the frame's array (raw rows), a record array of the
columns the function names (named-field rows and groups: ``row["a"]``, ``row.a``,
``g["a"].sum()``), or the values pandas would pass (elements). Groups are pandas' own split:
rows sorted by group, a slice per group. One module per kind: :mod:`.rows`, :mod:`.elements`,
:mod:`.groups`.
Chunk task: a compiled loop over a range of units, writing into one fresh output array.
Combine: the output array wrapped as pandas wraps the same results.

Before any unit runs compiled, the first unit runs through pandas itself (the Python function).
Its result is the one kept, and it is the check: the compiled function must give the same type
and the same value, to the last bit, on that unit, else the call is declined. The compiled code
computes what Python and numpy compute (:mod:`.exact`, :mod:`.pipeline`), or refuses to
compile. Declining raises :class:`pdpar.JitError`
with ``jit=True``; with ``jit="auto"`` the call goes on as pandas in the caller, from the second
unit on, so that no unit runs twice. What cannot be compiled faithfully (str, object,
categorical, datetime, nullable and Arrow data; groups whose columns hold missing values, which
pandas' reductions skip and numpy's do not) is declined before anything runs, and
``jit="auto"`` then takes the Python path with the reason in the plan.
"""

from __future__ import annotations

import dataclasses
import functools
import types
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np

from ..errors import ChunkSpan, JitError, labelled
from ..execute import execute
from ..options import Options
from ..plan import Plan, decided, jit_declined, singular
from ..plan.policy import jit_pays, plan_compiled, resolve_n_jobs
from ..work import Unfinished, Work
from . import loops

__all__ = ["Declined", "Disagree", "declined", "attempt", "compile_for", "function_of",
           "scalar_args", "same", "Part", "run_parts", "labelled_head", "python_scalar_dtype"]


class Declined(Exception):
    """The call cannot be compiled faithfully; the message says why."""


class Disagree(Exception):
    """The compiled function's result on the first unit is not pandas'; the argument is
    pandas' result for the units run (or None when they cannot be replayed)."""


def declined(options: Options, reason: str) -> None:
    """``jit=True``: raise JitError; ``jit="auto"``: record the reason for the plan."""
    if options.jit is True:
        raise JitError(reason)
    jit_declined(reason)


def attempt(options: Options, unit: str, n_units: int, run: Callable[[], Any]) -> Any:
    """``run()``: the compiled result; None when it declines (after :func:`declined`); an
    :class:`~pdpar.work.Unfinished` with pandas' result for the first unit when the
    compiled function disagreed with it, for pandas to finish the call from there."""
    try:
        return run()
    except Declined as exc:
        declined(options, str(exc))
        return None
    except Disagree as exc:
        declined(options, "the compiled function's result differs from pandas' on the "
                 f"first {singular(unit)} (in type or value): it relies on something numba "
                 "does differently")
        first = exc.args[0] if exc.args else None
        if first is None:
            return None
        decided(Plan(unit, "serial", 1, (), "pandas finishes the call in the calling "
                     f"process, after the first {singular(unit)}", probed=1,
                     n_units=n_units))
        return Unfinished(first)
    except JitError as exc:
        if options.jit is True:
            raise
        jit_declined(str(exc))
        return None


def _n_jobs(options: Options) -> int:
    return 1 if options.backend == "serial" else resolve_n_jobs(options.n_jobs)


def compile_for(options: Options, loop: str, n_units: int, func: Any,
                error_model: str) -> loops.Compiled:
    """The compiled function, once the input is known to be compilable; with
    ``jit="auto"``, only when compiling is estimated to pay (``loop`` is the Python loop it
    would replace: "raw rows", "rows", "elements" or "groups")."""
    if options.jit == "auto":
        reason = jit_pays(loop, n_units, _n_jobs(options),
                          loops.is_cached(func, error_model))
        if reason:
            raise Declined(reason)
    return loops.compile_function(func, error_model)


def function_of(func: Any) -> Any:
    """``func`` if numba can compile it (a def or a lambda)."""
    if not isinstance(func, types.FunctionType):
        raise Declined(f"jit compiles Python functions (def or lambda), not "
                       f"{type(func).__name__}")
    return func


def scalar_args(args: tuple, kwargs: dict[str, Any]) -> tuple:
    """The extra arguments, when they are numbers passed by position."""
    if kwargs:
        raise Declined("jit passes extra arguments by position only; keyword arguments "
                       f"{sorted(kwargs)} were given")
    for arg in args:
        if not isinstance(arg, (bool, int, float, complex, np.number, np.bool_)):
            raise Declined(f"jit passes numbers as extra arguments; got {type(arg).__name__}")
    return tuple(args)


def same(value: Any, expected: Any, dtype: np.dtype) -> bool:
    """Whether the compiled result ``value`` is pandas' ``expected`` to the last bit (the sign
    of a zero included; any NaN equals any NaN), both as ``dtype``."""
    try:
        a = np.asarray(value).astype(dtype)
        b = np.asarray(expected).astype(dtype)
    except (TypeError, ValueError):
        return False
    if a.shape != b.shape or not np.array_equal(a, b, equal_nan=dtype.kind in "fc"):
        return False
    if dtype.kind == "f":
        return bool(np.array_equal(np.signbit(a), np.signbit(b)))
    if dtype.kind == "c":
        return all(np.array_equal(np.signbit(part(a)), np.signbit(part(b)))
                   for part in (np.real, np.imag))
    return True


def python_scalar_dtype(dtype: np.dtype, values: np.ndarray) -> np.dtype:
    """The dtype of the Python scalars pandas passes for ``dtype``'s values (object rows and
    mapped elements): float, int, bool and complex."""
    if dtype.kind == "f":
        return np.dtype(np.float64)
    if dtype.kind == "b":
        return np.dtype(np.bool_)
    if dtype.kind == "c":
        return np.dtype(np.complex128)
    if dtype.kind == "i" or (dtype.kind == "u" and (dtype.itemsize < 8 or not len(values)
                                                    or values.max() < 2**63)):
        return np.dtype(np.int64)
    raise Declined(f"{dtype} values above 2**63 do not fit the 64-bit integers jit compiles")


def labelled_head(what: str, unit: str, label: Hashable, position: int = 0) -> labelled:
    """The block in which pandas runs the first unit, to check the compiled function."""
    return labelled(what, ChunkSpan(0, None, unit, position, position + 1), lambda: label)


@dataclasses.dataclass
class Part:
    """One loop over the ``size`` units of its arrays (a DataFrame.map has one per column);
    ``offset`` places its units among the call's."""

    loop: Any
    arrays: tuple
    out: np.ndarray
    args: tuple
    labels: Any
    what: str
    size: int
    offset: int = 0


def run_parts(unit: str, parts: list[Part], first: int, options: Options,
              compile_seconds: float, weights: np.ndarray | None = None) -> None:
    """Run each part's loop over its units, from the call's unit ``first`` on (those before
    ran through pandas, or are left out); fills the parts' outputs.

    The units are numbered across the parts in order; a chunk may cover the end of one part
    and the start of the next. The first units are timed in the caller, and the rest runs in
    chunks on threads, unless it is too little work for threads to pay
    (:func:`pdpar.plan.policy.jit_threads`).
    """
    n_units = sum(part.size for part in parts)

    def payload(span: ChunkSpan) -> tuple:
        segments = []
        for part in parts:
            start = max(span.start - part.offset, 0)
            stop = min(span.stop - part.offset, part.size)
            if start < stop:
                segments.append((part, start, stop))
        return (segments, span)

    rest_weights = None if weights is None else weights[first:]
    plan = plan_compiled(unit, n_units - first, options, rest_weights, compile_seconds)
    execute(Work(run_compiled_chunk, payload, unit, n_units, first, 0, weights), plan, options)


def run_compiled_chunk(segments: list[tuple[Part, int, int]], span: ChunkSpan) -> None:
    """Run the compiled loops on the units of ``span``, writing their results into the parts'
    outputs."""
    done = np.zeros(1, np.int64)
    for part, start, stop in segments:
        with labelled(part.what, span, functools.partial(_label_at, part.labels, done)):
            part.loop(*part.arrays, part.out, start, stop, done, part.args)


def _label_at(labels: Any, done: np.ndarray) -> Hashable:
    """The label of the unit a compiled loop was running (``done[0]``)."""
    return labels[int(done[0])]
