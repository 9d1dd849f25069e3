"""Worker processes see the module state a function reads as the calling process has it.

A function defined in a module file travels to worker processes by reference (the module's
name and its own), and each worker imports the module: its globals there are what the
module's code makes them, not what the calling process has made of them since. After
``mymod.RATE = 2.5``, ``s.par(backend="processes").map(mymod.scaled)`` used 2.5 for the
elements the caller ran while measuring and 1.0 for the workers' elements: a result pandas
never gives.

So a call on worker processes sends, once, the values its function reads from the globals of
the user's modules, as they are in the calling process (:class:`Carrier`), and each worker sets
them in its own copy of those modules while it runs the call's chunks, then puts its own back
(:func:`with_module_state`). What travels, found in the function's code and in the code of the
functions and classes of the user's modules it reaches:

- the module-level names it reads (``RATE``), and those read through a module
  (``mymod.RATE``, ``config.settings``), by value, as pickled (classes by reference, so
  ``isinstance`` holds, and results holding their instances come back as the caller's);
- not the names the code assigns (``global _connection``): a worker's own state, kept from call
  to call (a connection opened once per worker);
- not modules, nor the modules' own functions and classes (the worker imports the same code);
  a function or class put in their place at run time travels;
- not values that cannot be pickled (a lock, an open connection): the worker keeps its own, as
  made by its import;
- only from the user's modules: not from the standard library, installed packages or pdpar.

Functions defined in ``__main__`` or a notebook travel by value with their globals already
(cloudpickle); their reads through a module (``helpers.RATE``) are sent here.
"""

from __future__ import annotations

import dis
import functools
import importlib
import logging
import os
import sys
import sysconfig
import threading
import types
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import cloudpickle

from . import transport
from .broadcast import Shared

__all__ = ["read_state", "Carrier", "with_module_state"]

logger = logging.getLogger("pdpar")

#: A module's name -> the values of its globals the function reads.
State = dict[str, dict[str, Any]]

_LIBRARY_DIRS = tuple({os.path.realpath(p) + os.sep for key in ("stdlib", "platstdlib",
                                                                "purelib", "platlib")
                       if (p := sysconfig.get_paths().get(key))}
                      | {os.path.realpath(os.path.dirname(os.path.dirname(__file__))) + os.sep})


@functools.lru_cache(maxsize=256)
def _is_user_module(name: str) -> bool:
    """A module of the user's: imported from a file outside the standard library, the
    installed packages and pdpar, and sent by reference (not ``__main__``)."""
    module = sys.modules.get(name)
    path = getattr(module, "__file__", None)
    if module is None or not path or name == "__main__" \
            or name in cloudpickle.list_registry_pickle_by_value():
        return False
    return not os.path.realpath(path).startswith(_LIBRARY_DIRS)


def _by_reference(func: types.FunctionType, module: str) -> bool:
    """Whether ``func`` travels by reference: defined at the top of a user's module (or in a
    class there), so that the worker imports it; otherwise cloudpickle sends it by value,
    with the values of the globals it reads."""
    if not _is_user_module(module):
        return False
    found: Any = sys.modules[module]
    for part in func.__qualname__.split("."):
        found = getattr(found, part, None)
    return found is func


def _functions(obj: Any, depth: int = 0) -> Iterator[types.FunctionType]:
    """The Python functions in a chunk's arguments: the function, or the function inside a
    ``functools.partial``, a bound method or a wrapper of pdpar's."""
    if depth > 4:
        return
    if isinstance(obj, types.FunctionType):
        yield obj
    elif isinstance(obj, types.MethodType):
        yield from _functions(obj.__func__, depth + 1)
    elif isinstance(obj, Shared):  # the function and its arguments, shared by the chunks
        yield from _functions(obj.value, depth + 1)
    elif isinstance(obj, functools.partial):
        for part in (obj.func, *obj.args, *obj.keywords.values()):
            yield from _functions(part, depth + 1)
    elif isinstance(obj, (tuple, list)) and len(obj) <= 64:
        for part in obj:
            yield from _functions(part, depth + 1)
    elif callable(obj) and not isinstance(obj, type):
        call = next((c.__dict__["__call__"] for c in type(obj).__mro__
                     if "__call__" in c.__dict__), None)
        if isinstance(call, types.FunctionType):
            yield call
        for part in getattr(obj, "__dict__", {}).values():
            yield from _functions(part, depth + 1)


def _codes(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _codes(const)


def _own(value: Any, module: str, name: str) -> bool:
    """Whether ``value`` is the module's own definition of ``name`` (a def or a class)."""
    return (getattr(value, "__module__", None) == module
            and getattr(value, "__qualname__", None) == name)


class _Reader:
    """Walks code for the module globals it reads."""

    def __init__(self) -> None:
        self.state: State = {}
        self.assigned: set[tuple[str, str]] = set()
        self.seen: set[int] = set()

    def function(self, func: Any) -> None:
        func = getattr(func, "__func__", func)  # staticmethod, classmethod
        while not isinstance(func, types.FunctionType) and hasattr(func, "__wrapped__"):
            func = func.__wrapped__  # functools.lru_cache, functools.wraps
        if not isinstance(func, types.FunctionType) or id(func) in self.seen:
            return
        self.seen.add(id(func))
        module = func.__globals__.get("__name__", "")
        by_reference = _by_reference(func, module)
        for cell in func.__closure__ or ():
            try:
                self.function(cell.cell_contents)
            except ValueError:  # an empty cell
                pass
        for code in _codes(func.__code__):
            chain: list[Any] = []
            for ins in dis.get_instructions(code):
                if ins.opname in ("STORE_GLOBAL", "DELETE_GLOBAL"):
                    self.assigned.add((module, ins.argval))
                if ins.opname == "LOAD_GLOBAL" and ins.argval in func.__globals__:
                    value = func.__globals__[ins.argval]
                    self.value(module, ins.argval, value, sent=by_reference)
                    chain = [value]
                elif ins.opname in ("LOAD_ATTR", "LOAD_METHOD") and chain \
                        and isinstance(chain[-1], types.ModuleType):
                    within = chain[-1]
                    if hasattr(within, ins.argval) and _is_user_module(within.__name__):
                        value = getattr(within, ins.argval)
                        self.value(within.__name__, ins.argval, value)
                        chain.append(value)
                    else:
                        chain = []
                else:
                    chain = []

    def value(self, module: str, name: str, value: Any, sent: bool = True) -> None:
        """``module.name`` is read: walked if it is code, sent if it is state (and ``sent``:
        cloudpickle sends the globals of a function it sends by value itself)."""
        if isinstance(value, types.ModuleType):
            return
        if isinstance(value, type):
            if _own(value, module, name):
                for member in vars(value).values():
                    self.function(member)
                return
        elif callable(value) and not isinstance(value, functools.partial):
            self.function(value)
            if _own(value, module, name):
                return
        if sent:
            self.state.setdefault(module, {})[name] = value


def read_state(args: tuple) -> State:
    """The values of the user's module globals that the functions in a chunk's arguments
    read, as they are in this process (see the module's docstring)."""
    reader = _Reader()
    for func in _functions(args):
        reader.function(func)
    for module, name in reader.assigned:
        reader.state.get(module, {}).pop(name, None)
    return {module: names for module, names in reader.state.items() if names}


def _picklable(state: State) -> State:
    """``state`` without the values that cannot be pickled."""
    kept: State = {}
    for module, names in state.items():
        for name, value in names.items():
            try:
                cloudpickle.dumps(value)
            except Exception:
                logger.debug("pdpar: %s.%s cannot be pickled; workers keep their own", module,
                             name)
                continue
            kept.setdefault(module, {})[name] = value
    return kept


class Carrier:
    """The task of a call's chunks, carrying the module state its function reads: captured
    from the first chunk, written once to the call's spool (``spool``), read once per worker
    and call."""

    def __init__(self, task: Callable[..., Any], spool: transport.Spool) -> None:
        self.task = task
        self.spool = spool
        self.carried: Callable[..., Any] | None = None

    def __call__(self, args: tuple) -> Callable[..., Any]:
        """The task to submit with a chunk's ``args``."""
        if self.carried is None:
            state = read_state(args)
            if not state:
                self.carried = self.task
            else:
                try:
                    parcel = self.spool.send(state, shared=True)
                except Exception:  # one of the values cannot be pickled
                    parcel = self.spool.send(_picklable(state), shared=True)
                logger.debug("pdpar: module state sent to the workers: %s", ", ".join(
                    f"{module}.{name}" for module, names in state.items() for name in names))
                self.carried = functools.partial(with_module_state, uuid.uuid4().hex, parcel,
                                                 self.task)
        return self.carried


#: The module state this worker loaded last: (the call's token, the state).
_loaded: tuple[str, State] | None = None
_MISSING = object()
_lock = threading.Lock()


def with_module_state(token: str, parcel: transport.Parcel, task: Callable[..., Any],
                      *args: Any) -> Any:
    """Run in a worker process: ``task(*args)`` with the caller's module state set in this
    process's modules, and this process's own put back afterwards."""
    global _loaded
    with _lock:
        if _loaded is None or _loaded[0] != token:
            _loaded = (token, transport.receive(parcel))
        state = _loaded[1]
    saved = []
    try:
        for module_name, values in state.items():
            namespace = vars(importlib.import_module(module_name))
            for name, value in values.items():
                saved.append((namespace, name, namespace.get(name, _MISSING)))
                namespace[name] = value
        return task(*args)
    finally:
        for namespace, name, value in reversed(saved):
            if value is _MISSING:
                namespace.pop(name, None)
            else:
                namespace[name] = value
