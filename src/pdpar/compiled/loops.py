"""Compiling a user's function with numba, and the loops that run it over a range of units.

numba is imported only when a call asks for ``jit``. A function is compiled once per process:
the compiled function and its loops are kept, keyed on the function's code and on the objects
it reads from its closure and its module (numba freezes those when it compiles, so a new value
means a new compilation). Functions and loops are compiled with ``nogil=True``: a chunk of a
loop runs on one of pdpar's threads without holding the GIL, so the chunks of a call run on
every core of the calling process, with no pickling and no worker start-up. pdpar uses its own
threads rather than numba's parallel loops: a failing unit raises its own exception with its
label, progress advances per chunk, and no threading layer of numba's is started (a process
forked after one of those dies).

Every loop writes into an output array the caller allocates fresh for the call; none writes
into its input.
"""

from __future__ import annotations

import threading
import time
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import JitError

__all__ = ["Compiled", "compile_function", "is_cached", "result_spec", "ResultSpec",
           "prepare_loop", "value_on", "used_names", "attribute_names", "numba_reason"]

#: The loops: over units (rows, elements), or over groups (slices of rows sorted by group).
#: "scalar" loops store one value per unit; "vector" loops a fixed-length row of values.
LOOPS = ("units scalar", "units vector", "groups scalar", "groups vector")

_lock = threading.RLock()
# keyed on the code object's identity: a code object's hash can change as the interpreter
# specialises its bytecode (seen under a profiler), so it cannot key a dict by value
_cache: dict[int, list[Compiled]] = {}
_MAX_PER_CODE = 8


@dataclass
class Compiled:
    """A function compiled by numba, with the loops that call it, made on demand."""

    func: Callable[..., Any]
    references: tuple[Any, ...]
    error_model: str
    dispatcher: Any
    loops: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def loop(self, name: str) -> Any:
        with _lock:
            if name not in self.loops:
                self.loops[name] = _make_loop(name, self.dispatcher)
            return self.loops[name]


def _references(func: Any) -> tuple[Any, ...]:
    """The objects numba freezes into the compiled function: closure cells and the module
    globals the code names (modules aside)."""
    cells = tuple(cell.cell_contents for cell in (func.__closure__ or ()))
    names = _code_names(func.__code__)
    module = func.__globals__
    found = tuple(module[name] for name in sorted(names) if name in module
                  and not isinstance(module[name], types.ModuleType))
    return (*cells, *found, func.__defaults__)


def _code_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


def used_names(func: Any) -> set[str]:
    """Names the function may use as field names: its string constants and the attribute
    and global names of its code (nested functions included)."""
    def walk(code: types.CodeType) -> set[str]:
        found = set(code.co_names)
        for const in code.co_consts:
            if isinstance(const, str):
                found.add(const)
            elif isinstance(const, types.CodeType):
                found |= walk(const)
            elif isinstance(const, tuple):
                found |= {c for c in const if isinstance(c, str)}
        return found
    return walk(func.__code__)


def attribute_names(func: Any) -> set[str]:
    """The attribute and global names of the function's code (nested functions included)."""
    return _code_names(func.__code__)


def _same(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b))


def is_cached(func: Any, error_model: str) -> bool:
    """Whether ``func`` has been compiled in this process (for the planner's estimate)."""
    if not isinstance(func, types.FunctionType):
        return False
    with _lock:
        return any(entry.func.__code__ is func.__code__ and entry.error_model == error_model
                   and _same(entry.references, _references(func))
                   for entry in _cache.get(id(func.__code__), ()))


def compile_function(func: Any, error_model: str) -> Compiled:
    """The compiled form of ``func`` (numba ``njit(nogil=True)``), from the cache if it is
    there. Types are bound later, when a loop first runs on real arrays.

    ``error_model`` is numba's: ``"python"`` (a division by zero raises ZeroDivisionError, as
    with Python's float and int) or ``"numpy"`` (it gives inf or nan, as with numpy scalars).
    """
    if not isinstance(func, types.FunctionType):
        raise JitError(f"jit compiles Python functions (def or lambda); got "
                       f"{type(func).__name__} {func!r}")
    references = _references(func)
    with _lock:
        for entry in _cache.get(id(func.__code__), ()):
            if entry.func.__code__ is func.__code__ and entry.error_model == error_model \
                    and _same(entry.references, references):
                return entry
        started = time.perf_counter()
        from .pipeline import exact_njit

        dispatcher = exact_njit(func, error_model)
        entry = Compiled(func, references, error_model, dispatcher,
                         seconds=time.perf_counter() - started)
        entries = _cache.setdefault(id(func.__code__), [])
        entries.append(entry)
        del entries[:-_MAX_PER_CODE]
        return entry


def _compile_error(func: Any, exc: BaseException) -> JitError:
    """Why ``func`` is not compiled: refused as inexact (:mod:`.exact`), or numba's reason."""
    from .exact import Inexact

    if isinstance(exc, Inexact):
        return JitError(f"{_name(func)} is not compiled: {exc}")
    return JitError(f"numba cannot compile {_name(func)}: {numba_reason(exc)}")


def numba_reason(exc: BaseException) -> str:
    """numba's explanation, shortened to the lines that say what failed."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    kept = [line for line in lines if not line.startswith(("File ", "^", "During:"))][:4]
    return " ".join(kept) or type(exc).__name__


@dataclass(frozen=True)
class ResultSpec:
    """What one call of the compiled function returns: a scalar of ``dtype``, or (``length``
    not None) a fixed-length sequence of them."""

    dtype: np.dtype
    length: int | None

    @property
    def per_unit(self) -> str:
        return "scalar" if self.length is None else "vector"


def result_spec(compiled: Compiled, unit: Any, args: tuple) -> ResultSpec:
    """Compile for the types of ``unit`` and ``args``, without running anything; what the
    function returns (an array's length is -1: known once it runs, :func:`value_on`).
    Raises JitError with numba's reason when it cannot compile."""
    import numba
    from numba.np.numpy_support import as_dtype

    started = time.perf_counter()
    try:
        types_ = tuple(numba.typeof(x) for x in (unit, *args))
        with _lock:
            new = types_ not in compiled.dispatcher.overloads
            if new:
                compiled.dispatcher.compile(types_)
    except Exception as exc:
        raise _compile_error(compiled.func, exc) from exc
    if new:
        compiled.seconds += time.perf_counter() - started
    returned = compiled.dispatcher.overloads[types_].signature.return_type
    spec: ResultSpec | None = None
    try:
        if isinstance(returned, numba.types.Array) and returned.ndim == 1:
            spec = ResultSpec(as_dtype(returned.dtype), -1)
        elif isinstance(returned, numba.types.UniTuple):
            spec = ResultSpec(as_dtype(returned.dtype), returned.count)
        elif isinstance(returned, (numba.types.Number, numba.types.Boolean)):
            spec = ResultSpec(as_dtype(returned), None)
    except NotImplementedError:
        spec = None
    if spec is None:
        raise JitError(f"{_name(compiled.func)} returns {returned} when compiled; jit needs "
                       "a number, or a fixed-length array or tuple of numbers")
    return spec


def value_on(compiled: Compiled, spec: ResultSpec, unit: Any,
             args: tuple) -> tuple[ResultSpec, Any]:
    """The compiled function's result on ``unit``, and ``spec`` with an array's length."""
    value = compiled.dispatcher(unit, *args)
    if spec.length == -1:
        spec = ResultSpec(spec.dtype, len(value))
    return spec, value


def prepare_loop(compiled: Compiled, name: str, *arrays: Any) -> Any:
    """The loop ``name`` for the function, compiled for these arrays (by running it on an
    empty range); JitError when numba cannot compile it."""
    loop = compiled.loop(name)
    started = time.perf_counter()
    try:
        with _lock:
            known = len(loop.signatures)
            loop(*arrays[:-1], 0, 0, np.zeros(1, np.int64), arrays[-1])
            compiled_now = len(loop.signatures) > known
    except Exception as exc:
        raise JitError(f"numba cannot compile the loop over {_name(compiled.func)}: "
                       f"{numba_reason(exc)}") from exc
    if compiled_now:
        compiled.seconds += time.perf_counter() - started
    return loop


def _name(func: Any) -> str:
    return getattr(func, "__qualname__", repr(func))


def _make_loop(name: str, f: Any) -> Any:
    """A numba loop calling the compiled ``f`` on each unit of ``[start, stop)``.

    ``done[0]`` is the unit being run, so that a failure can name it. ``skip`` (elements:
    missing values that pandas does not pass with ``na_action="ignore"``) is empty or one
    flag per unit.
    """
    import numba

    jit = numba.njit(nogil=True)
    if name == "units scalar":
        def units_scalar(units, skip, out, start, stop, done, args):  # type: ignore[no-untyped-def]
            check = skip.size > 0
            for i in range(start, stop):
                done[0] = i
                if check and skip[i]:
                    continue
                out[i] = f(units[i], *args)
        return jit(units_scalar)
    if name == "units vector":
        def units_vector(units, skip, out, start, stop, done, args):  # type: ignore[no-untyped-def]
            width = out.shape[1]
            for i in range(start, stop):
                done[0] = i
                r = f(units[i], *args)
                if len(r) != width:
                    raise ValueError("the function returned sequences of different lengths")
                for j in range(width):
                    out[i, j] = r[j]
        return jit(units_vector)
    if name == "groups scalar":
        def groups_scalar(data, starts, ends, out, start, stop, done, args):  # type: ignore[no-untyped-def]
            for g in range(start, stop):
                done[0] = g
                out[g] = f(data[starts[g]:ends[g]], *args)
        return jit(groups_scalar)
    if name == "groups vector":
        def groups_vector(data, starts, ends, out, start, stop, done, args):  # type: ignore[no-untyped-def]
            width = out.shape[1]
            for g in range(start, stop):
                done[0] = g
                r = f(data[starts[g]:ends[g]], *args)
                if len(r) != width:
                    raise ValueError("the function returned arrays of different lengths")
                for j in range(width):
                    out[g, j] = r[j]
        return jit(groups_vector)
    raise ValueError(f"unknown loop {name!r}")
