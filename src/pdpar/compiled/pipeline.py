"""numba's compiler with one more pass over the user's function (:class:`ExactCompiler`): the
operations whose compiled result would differ from Python's or numpy's are rewritten to call
the functions of :mod:`.exact`, and those that cannot be made the same raise
:class:`~.exact.Inexact` before anything runs.

The pass runs on numba's IR, after closures are inlined and before types are inferred: it
rewrites ``**`` (and ``**=``), ``pow``, ``math.pow``, the ``math`` functions CPython checks
for domain and range errors, ``np.power``, ``np.sum``, ``np.mean`` and the methods
``.sum()`` and ``.mean()``; it refuses what :data:`.exact.DECLINED` names, ``@``, and numpy's
own SIMD functions where they differ from the C library (:func:`.exact.numpy_is_libm`). A
numba function the user's function calls is compiled again through the same pass.
"""

from __future__ import annotations

import builtins
import math
import operator
import threading
import types
from typing import Any

import numba
import numpy as np
from numba.core import ir
from numba.core.compiler import CompilerBase, DefaultPassBuilder
from numba.core.compiler_machinery import FunctionPass, PassManager, register_pass
from numba.core.dispatcher import Dispatcher

from . import exact, integers, sums
from .exact import Inexact

__all__ = ["ExactCompiler", "exact_njit"]

#: numba vectorises with Intel's SVML instead of the C library when it is installed.
_SVML = bool(getattr(numba.config, "USING_SVML", False))


def exact_njit(func: Any, error_model: str) -> Any:
    """``numba.njit(nogil=True)`` with :class:`ExactCompiler`."""
    return numba.njit(nogil=True, error_model=error_model,  # type: ignore[call-overload]
                      pipeline_class=ExactCompiler)(func)


_recompiled: dict[tuple[int, str], Any] = {}
_lock = threading.Lock()


def _numba_function(dispatcher: Any, error_model: str) -> Any:
    """A numba function the user's function calls, compiled again through the pass."""
    key = (id(dispatcher.py_func), error_model)
    with _lock:
        if key not in _recompiled:
            _recompiled[key] = exact_njit(dispatcher.py_func, error_model)
        return _recompiled[key]


def _declined(name: str, why: str) -> Inexact:
    return Inexact(f"it uses {name}, which compiled code cannot compute as Python and numpy "
                   f"do ({why})")


def _replacement(obj: Any, name: str, numpy_model: bool, error_model: str) -> Any:
    """What the function should call instead of ``obj`` (None: ``obj`` itself); raises
    Inexact for what is refused."""
    if obj is builtins.pow:
        return exact.numpy_pow if numpy_model else exact.python_pow
    if obj is builtins.int:
        return integers.python_int
    if obj is builtins.round:
        return integers.python_round
    if isinstance(obj, Dispatcher):
        return _numba_function(obj, error_model)
    if isinstance(obj, types.ModuleType):
        if obj.__name__.startswith("numpy.linalg"):
            raise _declined(name, exact.DECLINED["linalg"])
        return None
    short = getattr(obj, "__name__", None)
    if not isinstance(short, str):
        return None
    if getattr(math, short, None) is obj:
        name = f"math.{short}"
        if short == "pow":
            return exact.math_pow
        if short in ("floor", "ceil", "trunc"):
            return getattr(integers, f"math_{short}")
        if short in exact.DECLINED:
            raise _declined(name, exact.DECLINED[short])
        if short in exact.MATH_CHECKED:
            if _SVML and short != "sqrt":
                raise _declined(name, "numba uses Intel's SVML here, not the C library")
            return exact.checked_math(short)
        return None
    if getattr(np, short, None) is obj or getattr(obj, "__module__", "").startswith("numpy"):
        name = f"numpy.{short}"
        if getattr(obj, "__module__", "") == "numpy.linalg":
            raise _declined(f"numpy.linalg.{short}", exact.DECLINED["linalg"])
        if short in exact.DECLINED:
            raise _declined(name, exact.DECLINED[short])
        replaced = {"sum": sums.array_sum, "mean": sums.array_mean,
                    "power": exact.ufunc_power}.get(short)
        if replaced is not None:
            return replaced
        if short in exact.PROBED_NUMPY:
            if _SVML:
                raise _declined(name, "numba uses Intel's SVML here, not the C library")
            if not exact.numpy_is_libm(short):
                raise _declined(name, "numpy computes it with its own SIMD code on this "
                                "machine, which differs from the C library's in the last bits")
    return None


def _call(block: ir.Block, body: list[ir.Stmt], stub: Any, args: list[ir.Var],
          loc: ir.Loc) -> ir.Expr:
    """A call of ``stub`` with ``args``; the assignment of ``stub`` to a new variable is added
    to ``body``."""
    callee = block.scope.make_temp(loc)
    body.append(ir.Assign(ir.Global(stub.__name__, stub, loc), callee, loc))
    return ir.Expr.call(callee, args, (), loc)


def rewrite(func_ir: ir.FunctionIR, error_model: str) -> None:
    """Rewrite ``func_ir`` in place (see the module's docstring)."""
    numpy_model = error_model == "numpy"
    known: dict[str, Any] = {}  # variable -> the global, free variable or module attribute
    methods: dict[str, tuple[ir.Var, str]] = {}  # variable -> (array, "sum" or "mean")
    for block in func_ir.blocks.values():
        body: list[ir.Stmt] = []
        for stmt in block.body:
            if isinstance(stmt, ir.Assign):
                value, target = stmt.value, stmt.target.name
                if isinstance(value, (ir.Global, ir.FreeVar)):
                    found = _replacement(value.value, value.name, numpy_model, error_model)
                    if found is not None:
                        stmt.value = ir.Global(value.name, found, value.loc)
                    known[target] = value.value if found is None else found
                elif isinstance(value, ir.Expr) and value.op == "getattr":
                    base = known.get(value.value.name)
                    if isinstance(base, types.ModuleType):
                        obj = getattr(base, value.attr, None)
                        name = f"{base.__name__}.{value.attr}"
                        found = _replacement(obj, name, numpy_model, error_model)
                        if found is not None:
                            stmt.value = ir.Global(name, found, value.loc)
                        known[target] = obj if found is None else found
                    elif value.attr in exact.DECLINED:
                        raise _declined(f".{value.attr}()", exact.DECLINED[value.attr])
                    elif value.attr in ("sum", "mean"):
                        methods[target] = (value.value, value.attr)
                elif isinstance(value, ir.Expr) and value.op in ("binop", "inplace_binop"):
                    if value.fn in (operator.pow, operator.ipow):
                        power = exact.numpy_pow if numpy_model else exact.python_pow
                        stmt.value = _call(block, body, power, [value.lhs, value.rhs],
                                           value.loc)
                    elif value.fn in (operator.matmul, operator.imatmul):
                        raise _declined("@", exact.DECLINED["matmul"])
                elif isinstance(value, ir.Expr) and value.op == "call" \
                        and value.func.name in methods:
                    array, method = methods[value.func.name]
                    if value.args or value.kws or value.vararg or value.varkwarg:
                        raise Inexact(f"it calls .{method}() with arguments, which compiled "
                                      "code does not compute as numpy does (without "
                                      "arguments it does)")
                    reduce = sums.array_sum if method == "sum" else sums.array_mean
                    stmt.value = _call(block, body, reduce, [array], value.loc)
            body.append(stmt)
        block.body = body


@register_pass(mutates_CFG=False, analysis_only=False)
class ExactArithmetic(FunctionPass):
    """The pass: :func:`rewrite` on the function's IR."""

    _name = "pdpar_exact_arithmetic"

    def __init__(self) -> None:
        FunctionPass.__init__(self)

    def run_pass(self, state: Any) -> bool:
        rewrite(state.func_ir, state.flags.error_model)
        return True


class ExactCompiler(CompilerBase):
    """numba's nopython pipeline with :class:`ExactArithmetic` before type inference."""

    def define_pipelines(self) -> list[PassManager]:
        builder = DefaultPassBuilder
        pm = PassManager("pdpar exact")
        pm.passes.extend(builder.define_untyped_pipeline(self.state).passes)
        pm.add_pass(ExactArithmetic, "pdpar: exact arithmetic")
        pm.passes.extend(builder.define_typed_pipeline(self.state).passes)
        pm.passes.extend(builder.define_nopython_lowering_pipeline(self.state).passes)
        pm.finalize()
        return [pm]
