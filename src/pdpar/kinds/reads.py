"""What a row function does with its row, read from its bytecode: the proof that it only
reads fields (``row["a"]``, ``row.a``, ``row.name``, ``row.get("a")``, ``"a" in row``).

:func:`row_reads` looks at the function's CPython bytecode (:mod:`dis`) and follows every
place the row parameter is loaded. Each load must be one of these sequences, which leave
nothing of the row behind but the value read:

- ``row[<constant>]``: load the row, load a constant, subscript;
- ``row.<attribute>``: load the row, load an attribute (not a method: ``row.sum()`` is a use
  of the Series);
- ``row.get(<constant>[, <constant>])``: load the row, load the method ``get``, one or two
  constants, call;
- ``<constant> in row`` (or ``not in``): a constant, then the row (where no jump lands), then
  the membership test.

Anything else is a use of the row as a whole and proves nothing: passing it to a call,
storing, returning, iterating, comparing or formatting it, another attribute or method, a
label that is not a constant, a nested function, lambda or comprehension that captures it,
rebinding the parameter, a generator or coroutine function, frame introspection
(``locals()``, ``vars()``, ``eval``, ``exec``, ``sys._getframe``, ``inspect``'s frames), and
``super()``, which takes the first argument from the frame unseen.
Comprehensions that CPython 3.12 and later inline into the function are followed like the
rest of its code; on 3.11 a comprehension is a nested function, and one that reads the row
captures it. An instruction this module does not know, after a load of the row, proves
nothing either, so a newer Python's bytecode falls back to the Series path rather than
guessing.

Whether the labels read are the frame's columns, and whether ``row.<attribute>`` reads a
column in pandas (``row.sum`` is a method, ``row.name`` the row's label) is for the caller,
who has the frame (:mod:`.cheap`).

This module imports only the standard library.
"""

from __future__ import annotations

import dis
import functools
import inspect
import os
import sys
import types
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

__all__ = ["Reads", "row_reads"]


@dataclass(frozen=True)
class Reads:
    """The fields a function reads of its row. ``items`` are the labels read as ``row[label]``
    (they must be columns), ``attributes`` the names read as ``row.attribute`` (besides
    ``row.name``, which ``name`` says), and ``optional`` the labels of ``row.get(label)`` and
    ``label in row`` (columns or not)."""

    items: frozenset[Hashable] = frozenset()
    attributes: frozenset[str] = frozenset()
    optional: frozenset[Hashable] = frozenset()
    name: bool = False


_PY312 = sys.version_info >= (3, 12)

#: Loads of one local, and of two (CPython 3.13: the second is loaded last, on top).
_LOADS = {"LOAD_FAST", "LOAD_FAST_CHECK"}
_PAIR_LOADS = {"LOAD_FAST_LOAD_FAST", "STORE_FAST_LOAD_FAST"}
#: Instructions that name a local or a cell variable: any of them on the row, but the loads
#: above, proves nothing.
_NAMING = set(dis.haslocal) | set(dis.hasfree)
#: Names whose use reaches a frame's local variables; ``super()`` without arguments takes
#: the function's first argument from its frame, with no load of it in the bytecode of 3.11.
_FRAME_NAMES = {"locals", "vars", "eval", "exec", "_getframe", "currentframe", "f_locals",
                "f_back", "getargvalues", "getouterframes", "getinnerframes", "super",
                "breakpoint"}
_INSPECT_FRAME_NAMES = {"stack", "trace"}
_FLAGS = (inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ITERABLE_COROUTINE
          | inspect.CO_ASYNC_GENERATOR)
_ESCAPES = {
    "RETURN_VALUE": "returns the row",
    "GET_ITER": "iterates over the row",
    "COMPARE_OP": "compares the row",
    "IS_OP": "compares the row",
    "FORMAT_VALUE": "formats the row",
    "FORMAT_SIMPLE": "formats the row",
    "CONVERT_VALUE": "formats the row",
    "BINARY_OP": "computes with the row as a whole",
    "UNARY_NEGATIVE": "computes with the row as a whole",
    "UNARY_INVERT": "computes with the row as a whole",
    "UNPACK_SEQUENCE": "unpacks the row",
    "STORE_ATTR": "sets an attribute of the row",
    "STORE_SUBSCR": "sets a field of the row",
    "DELETE_SUBSCR": "deletes a field of the row",
}


class _NotProven(Exception):
    """The reason the function's use of the row proves nothing."""


def row_reads(func: Any) -> Reads | str:
    """What ``func`` reads of the row pandas passes it first, or why that is not proven.

    ``func`` may be a Python function or lambda, a bound method, a :func:`functools.partial`
    of one (the row then follows the partial's positional arguments); anything else (a
    builtin, a numba dispatcher, a callable object) proves nothing.
    """
    position = 0
    while type(func) is functools.partial:
        position += len(func.args)
        func, keywords = func.func, func.keywords
        if isinstance(func, types.FunctionType) and position < func.__code__.co_argcount \
                and func.__code__.co_varnames[position] in keywords:
            return "a functools.partial names the row's parameter"
    if type(func) is types.MethodType:
        position += 1
        func = func.__func__
    if type(func) is not types.FunctionType:
        return f"the function is a {type(func).__name__}, whose code pdpar cannot read"
    code = func.__code__
    return _proven(code, code.co_filename, position)


@functools.lru_cache(maxsize=256)
def _proven(code: types.CodeType, filename: str, position: int) -> Reads | str:
    """:func:`row_reads` of a function's code (reading bytecode takes a fraction of a
    millisecond, and a program calls the same function again and again). ``filename`` is part
    of the key: code objects compare equal across files."""
    try:
        return _reads(code, position)
    except _NotProven as exc:
        return str(exc)


def _where(code: types.CodeType, instruction: dis.Instruction | None = None) -> str:
    line = None
    if instruction is not None and instruction.positions is not None:
        line = instruction.positions.lineno
    return f"{os.path.basename(code.co_filename)}:{line or code.co_firstlineno}"


def _reads(code: types.CodeType, position: int) -> Reads:
    if position >= code.co_argcount:
        raise _NotProven(f"the row is not a named parameter of the function ({_where(code)})")
    if code.co_flags & _FLAGS:
        raise _NotProven(f"the function is a generator or a coroutine ({_where(code)})")
    row = code.co_varnames[position]
    names = _all_names(code)
    frames = names & _FRAME_NAMES or ("inspect" in names and names & _INSPECT_FRAME_NAMES)
    if frames:
        raise _NotProven(f"the function uses {sorted(frames)[0]}, which can reach the row "
                         f"({_where(code)})")
    items: set[Hashable] = set()
    attributes: set[str] = set()
    optional: set[Hashable] = set()
    uses_name = False
    instructions = _instructions(code)
    for i, (instruction, _) in enumerate(instructions):
        if instruction.opcode not in _NAMING:
            continue
        argval = instruction.argval
        named = argval if isinstance(argval, tuple) else (argval,)
        if row not in named:
            continue
        opname = instruction.opname
        on_top = (opname in _LOADS and named == (row,)) \
            or (opname in _PAIR_LOADS and named[-1] == row and named[0] != row)
        if not on_top:
            raise _NotProven(_misuse(code, row, instructions, i))
        kind, value = _read_at(code, row, instructions, i)
        if kind == "item":
            items.add(value)
        elif kind == "optional":
            optional.add(value)
        elif value == "name":
            uses_name = True
        else:
            attributes.add(value)
    return Reads(frozenset(items), frozenset(attributes), frozenset(optional), uses_name)


def _all_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _all_names(const)
    return names


def _instructions(code: types.CodeType) -> list[tuple[dis.Instruction, bool]]:
    """The instructions, without EXTENDED_ARG (``dis`` folds its argument into the next
    one), each with whether a jump lands on it."""
    out: list[tuple[dis.Instruction, bool]] = []
    target = False
    for instruction in dis.get_instructions(code):
        target = target or bool(getattr(instruction, "is_jump_target", True))
        if instruction.opname == "EXTENDED_ARG":
            continue
        out.append((instruction, target))
        target = False
    return out


def _constant(instruction: dis.Instruction) -> tuple[bool, Any]:
    if instruction.opname == "LOAD_CONST":
        return True, instruction.argval
    return False, None


def _method(instruction: dis.Instruction) -> str | None:
    """The name of the method this loads (for a call), or None."""
    if instruction.opname == "LOAD_METHOD":
        return str(instruction.argval)
    if _PY312 and instruction.opname == "LOAD_ATTR" and (instruction.arg or 0) & 1:
        return str(instruction.argval)
    return None


def _is_call(instructions: list[tuple[dis.Instruction, bool]], i: int, n: int) -> bool:
    """Whether the instructions from ``i`` call with ``n`` positional arguments, and nothing
    else."""
    calls = [instruction for instruction, _ in instructions[i:i + 2]]
    if not _PY312:  # 3.11: PRECALL n, CALL n
        return [(c.opname, c.arg) for c in calls] == [("PRECALL", n), ("CALL", n)]
    return bool(calls) and (calls[0].opname, calls[0].arg) == ("CALL", n)


def _read_at(code: types.CodeType, row: str, instructions: list[tuple[dis.Instruction, bool]],
             i: int) -> tuple[str, Any]:
    """What the row loaded by instruction ``i`` is used for: ("item", label),
    ("attribute", name) or ("optional", label); raises :class:`_NotProven` otherwise."""
    load = instructions[i][0]
    after = [instruction for instruction, _ in instructions[i + 1:i + 5]]
    if not after:
        raise _NotProven(_misuse(code, row, instructions, i))
    first = after[0]
    is_constant, value = _constant(first)
    if is_constant and len(after) > 1 and after[1].opname == "BINARY_SUBSCR":
        return "item", value
    if first.opname == "CONTAINS_OP" and load.opname in _LOADS and not instructions[i][1] and i > 0:
        is_constant, value = _constant(instructions[i - 1][0])
        if is_constant:
            return "optional", value
    method = _method(first)
    if method is None and first.opname == "LOAD_ATTR":
        return "attribute", str(first.argval)
    if method == "get" and len(after) > 2:
        is_constant, value = _constant(after[1])
        if is_constant:
            if _is_call(instructions, i + 3, 1):
                return "optional", value
            if _constant(after[2])[0] and _is_call(instructions, i + 4, 2):
                return "optional", value
    raise _NotProven(_misuse(code, row, instructions, i))


def _misuse(code: types.CodeType, row: str,
            instructions: list[tuple[dis.Instruction, bool]], i: int) -> str:
    """Words for the use of the row by instruction ``i``, which proves nothing."""
    load = instructions[i][0]
    where = _where(code, load)
    opname = load.opname
    if opname in ("LOAD_CLOSURE", "MAKE_CELL", "LOAD_DEREF"):
        return f"a nested function, lambda or comprehension captures the row ({where})"
    if opname not in _LOADS and opname not in _PAIR_LOADS:
        return f"the function assigns or deletes its row parameter ({where})"
    nxt = instructions[i + 1][0] if i + 1 < len(instructions) else None
    on_top = opname in _LOADS or load.argval[-1] == row
    if nxt is not None and on_top:
        method = _method(nxt)
        if method is not None:
            return f"the function calls row.{method}(...) ({where})"
        if nxt.opname == "CONTAINS_OP":
            return f"the function tests `... in row` with a label that is not a constant ({where})"
        if nxt.opname in ("PRECALL", "CALL"):
            return f"the function passes the row to a call ({where})"
        if nxt.opname.startswith("STORE") or nxt.opname.startswith("BUILD") \
                or nxt.opname in ("LIST_APPEND", "SET_ADD", "MAP_ADD"):
            return f"the function stores the row ({where})"
        if i + 2 < len(instructions) and instructions[i + 2][0].opname == "BINARY_SUBSCR":
            return f"the function reads row[...] with a label that is not a constant ({where})"
        reason = _ESCAPES.get(nxt.opname)
        if reason is not None:
            return f"the function {reason} ({where})"
    elif nxt is not None and nxt.opname == "BINARY_SUBSCR":
        return f"the function reads row[...] with a label that is not a constant ({where})"
    return (f"the function uses the row other than by reading a field (row[<label>], "
            f"row.<label>, row.name) ({where})")
