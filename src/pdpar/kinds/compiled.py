"""The compiled path (``jit=True`` or ``jit="auto"``): row, element and group functions compiled
with numba (:mod:`pdpar.jit`) and run over chunks on threads in the calling process.

Split: the input as plain numpy arrays: the frame's array (raw rows), a record array of the
columns the function names (named-field rows and groups: ``row["a"]``, ``row.a``,
``g["a"].sum()``), or the values pandas would pass (elements). Groups are pandas' own split:
rows sorted by group, a slice per group.
Chunk task: a compiled loop over a range of units, writing into one fresh output array.
Combine: the output array wrapped as pandas wraps the same results.

Before any unit runs compiled, the first unit runs through pandas itself (the Python function).
Its result is the one kept, and it is the check: the compiled function must give the same type
and value on that unit, else the call is declined. Declining raises :class:`pdpar.JitError`
with ``jit=True``; with ``jit="auto"`` the call goes on as pandas in the caller, from the second
unit on, so that no unit runs twice. What cannot be compiled faithfully (str, object,
categorical, datetime, nullable and Arrow data; groups whose columns hold missing values, which
pandas' reductions skip and numpy's do not) is declined before anything runs, and
``jit="auto"`` then takes the Python path with the reason in the plan.
"""

from __future__ import annotations

import dataclasses
import time
import types
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
import pandas as pd

from .. import _pandas, jit
from ..errors import ChunkSpan, JitError, add_label_note
from ..options import Options
from ..plan import Plan, decided, jit_declined, singular
from ..plan.bounds import jit_bounds, jit_probe
from ..plan.policy import jit_pays, jit_threads, resolve_n_jobs
from ..progress import make_progress
from ..run import run_chunks

__all__ = ["Declined", "Mismatch", "raw_rows", "named_rows", "map_series", "map_frame",
           "apply_groups"]


class Declined(Exception):
    """The call cannot be compiled faithfully; the message says why."""


class Mismatch:
    """The compiled function disagreed with pandas on the first unit(s); ``results`` are
    pandas' results for them, to finish the call from."""

    __slots__ = ("results",)

    def __init__(self, results: list[Any]) -> None:
        self.results = results


#: Relative difference allowed between the compiled function's result and pandas' on the
#: checked unit: compiled reductions add in another order than numpy's pairwise sums, which
#: changes the last bits; any real difference of meaning is far larger.
CHECK_RTOL = 1e-12


def declined(options: Options, reason: str) -> None:
    """``jit=True``: raise JitError; ``jit="auto"``: record the reason for the plan."""
    if options.jit is True:
        raise JitError(reason)
    jit_declined(reason)


def _compile(options: Options, cost_kind: str, n_units: int, func: Any,
             error_model: str) -> jit.Compiled:
    """The compiled function, once the input is known to be compilable; with
    ``jit="auto"``, only when compiling is estimated to pay."""
    if options.jit == "auto":
        reason = jit_pays(cost_kind, n_units, _n_jobs(options), jit.is_cached(func, error_model))
        if reason:
            raise Declined(reason)
    return jit.compile_function(func, error_model)


def attempt(options: Options, run: Callable[[], Any]) -> Any:
    """``run()``, or None when it declines (after :func:`declined`)."""
    try:
        return run()
    except Declined as exc:
        declined(options, str(exc))
        return None
    except JitError as exc:
        if options.jit is True:
            raise
        jit_declined(str(exc))
        return None


def _n_jobs(options: Options) -> int:
    return 1 if options.backend == "serial" else resolve_n_jobs(options.n_jobs)


def _function(func: Any) -> Any:
    if not isinstance(func, types.FunctionType):
        raise Declined(f"jit compiles Python functions (def or lambda), not "
                       f"{type(func).__name__}")
    return func


def _scalar_args(args: tuple, kwargs: dict[str, Any]) -> tuple:
    if kwargs:
        raise Declined("jit passes extra arguments by position only; keyword arguments "
                       f"{sorted(kwargs)} were given")
    for arg in args:
        if not isinstance(arg, (bool, int, float, complex, np.number, np.bool_)):
            raise Declined(f"jit passes numbers as extra arguments; got {type(arg).__name__}")
    return tuple(args)


def _same(value: Any, expected: Any, dtype: np.dtype) -> bool:
    """Whether the compiled result ``value`` equals pandas' ``expected``, both as ``dtype``."""
    try:
        a = np.asarray(value).astype(dtype)
        b = np.asarray(expected).astype(dtype)
    except (TypeError, ValueError):
        return False
    if a.shape != b.shape:
        return False
    if dtype.kind in "fc":
        return bool(np.allclose(a, b, rtol=CHECK_RTOL, atol=0.0, equal_nan=True))
    return bool(np.array_equal(a, b))


@dataclasses.dataclass
class _Part:
    """One loop over units ``[first, stop)`` of its arrays (a DataFrame.map has one per
    column); ``offset`` places its units among the call's."""

    loop: Any
    arrays: tuple
    out: np.ndarray
    args: tuple
    first: int
    stop: int
    labels: Any
    what: str
    weights: np.ndarray | None = None
    offset: int = 0


def _run(kind: str, parts: list[_Part], n_units: int, probed: int, options: Options,
         compile_seconds: float) -> None:
    """Run each part's loop over its units; fills the parts' outputs.

    The first units of the first part run here first, timed; the rest runs in chunks on
    threads, unless it is too little work for threads to pay (:func:`jit_threads`)."""
    n_jobs = _n_jobs(options)
    head = parts[0]
    timed = jit_probe(head.first, head.stop, head.weights) \
        if n_jobs > 1 and options.chunksize is None else head.first
    seconds = 0.0
    if timed > head.first:
        started = time.perf_counter()
        run_compiled_chunk(head.loop, head.arrays, head.out, head.args, head.labels, head.what,
                           ChunkSpan(0, None, kind, head.first, timed))
        seconds = time.perf_counter() - started
    rest = sum(part.stop - part.first for part in parts) - (timed - head.first)
    threads, reason = jit_threads(n_jobs, timed - head.first, seconds, rest)
    chunks = [(part, a, b) for part in parts
              for a, b in jit_bounds(timed if part is head else part.first, part.stop, threads,
                                     options.chunksize, part.weights)]
    bounds = tuple((part.offset + a, part.offset + b) for part, a, b in chunks)
    if timed > head.first:
        bounds = ((head.offset + head.first, head.offset + timed), *bounds)
    plan = decided(Plan(kind, "jit", threads, bounds, reason, probed=probed, n_units=n_units,
                        chunksize=options.chunksize, compile_seconds=compile_seconds,
                        unit_seconds=seconds / (timed - head.first) if timed > head.first
                        else None))
    count = len(chunks)
    probed += timed - head.first
    progress = make_progress(options.progress, n_units, kind) if options.progress else None
    try:
        if progress is not None and probed:
            progress.update(probed)
        payloads = ((part.loop, part.arrays, part.out, part.args, part.labels, part.what,
                     ChunkSpan(i, count, kind, a, b)) for i, (part, a, b) in enumerate(chunks))
        backend = "threads" if plan.n_jobs > 1 and count > 1 else "serial"
        for _ in run_chunks(run_compiled_chunk, payloads, backend=backend, n_jobs=plan.n_jobs,
                            max_inflight=options.max_inflight, progress=progress,
                            sizes=[b - a for _, a, b in chunks]):
            pass
    finally:
        if progress is not None:
            progress.close()


def run_compiled_chunk(loop: Any, arrays: tuple, out: np.ndarray, args: tuple, labels: Any,
                       what: str, span: ChunkSpan) -> None:
    """Run the compiled ``loop`` on the units of ``span``, writing their results into ``out``."""
    done = np.zeros(1, np.int64)
    try:
        loop(*arrays, out, span.start, span.stop, done, args)
    except Exception as exc:
        add_label_note(exc, what, labels[int(done[0])], span)
        raise


# --------------------------------------------------------------------------------------------
# rows


def raw_rows(units: np.ndarray, first: np.ndarray, func: Any, args: tuple,
             kwargs: dict[str, Any], kind: str, labels: pd.Index,
             options: Options) -> np.ndarray | None:
    """``np.apply_along_axis`` over the rows of ``units`` (one unit per row) with the compiled
    ``func``: the array of every unit's result, ``first`` being pandas' own result for unit 0
    (its dtype and shape are those numpy gives the whole result). None when declined."""
    n = len(units)

    def run() -> np.ndarray:
        f = _function(func)
        extra = _scalar_args(args, kwargs)
        if units.dtype.kind not in "biufc" or first.ndim > 1:
            raise Declined(f"jit compiles raw rows of numbers into numbers or 1-D arrays; the "
                           f"frame's array holds {units.dtype}" if units.dtype.kind not in
                           "biufc" else "the function returns arrays of more than one axis")
        compiled = _compile(options, "raw rows", n, f, "numpy")
        before = compiled.seconds
        spec, value = jit.value_on(compiled, jit.result_spec(compiled, units[0], extra),
                                   units[0], extra)
        # the same dtype, not one numpy would cast: numba promotes a Python number with a
        # float32 to float64, where numpy keeps float32, and the last bits would differ
        if spec.dtype != first.dtype or (spec.length is None) != (first.ndim == 0) \
                or not _same(value, first, first.dtype):
            raise _Disagree(None)
        out = np.empty((n, *first.shape), first.dtype)
        out[0] = first
        skip = np.zeros(0, np.bool_)
        loop = jit.prepare_loop(compiled, f"units {spec.loop_kind}", units, skip, out, extra)
        what = "row" if kind == "rows" else "column"
        _run(kind, [_Part(loop, (units, skip), out, extra, 1, n, labels, what)], n, 1,
             options, compiled.seconds - before)
        return out

    outcome = _with_mismatch(options, kind, n, run)
    return None if isinstance(outcome, Mismatch) else outcome


class _Disagree(Exception):
    """The compiled function's result on the first unit is not pandas'; the argument is
    pandas' result for the units run (or None when they cannot be replayed)."""


def _fields(frame: pd.DataFrame, func: Any, extra_name: Hashable | None = None,
            what: str = "row") -> list[Hashable]:
    """The columns of ``frame`` the function names (``x["a"]`` or ``x.a``)."""
    if not all(isinstance(c, str) for c in frame.columns):
        raise Declined("jit reads columns by name, and the column labels are not all str")
    if not frame.columns.is_unique:
        raise Declined("jit reads columns by name, and the column labels repeat")
    named = jit.used_names(func)
    fields = [c for c in frame.columns if c in named]
    attributes = jit.attribute_names(func)
    shadowed = [c for c in fields if c in attributes and hasattr(pd.Series, c)
                and c != extra_name]
    if shadowed:
        raise Declined(f"column {shadowed[0]!r} has the name of a pandas attribute, which "
                       f"{what}.{shadowed[0]} means in pandas")
    for c in fields:
        dtype = frame[c].dtype
        if not isinstance(dtype, np.dtype) or dtype.kind not in "biufc":
            raise Declined(f"column {c!r} has dtype {dtype}, which jit does not compile "
                           "(numbers and booleans only; str, object, category, datetime, "
                           "nullable and Arrow columns are declined)")
    return fields


def _record(columns: dict[str, np.ndarray], n: int) -> np.ndarray:
    """A record array with one field per column, in a fresh row-major buffer."""
    rec = np.empty(n, dtype=[(name, values.dtype) for name, values in columns.items()])
    for name, values in columns.items():
        rec[name] = values
    return rec


def _python_scalar_dtype(dtype: np.dtype, values: np.ndarray) -> np.dtype:
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


def named_rows(df: pd.DataFrame, func: Any, result_type: Any, args: tuple,
               kwargs: dict[str, Any], options: Options) -> Any:
    """``df.apply(func, axis=1)`` for a function of named fields (``row["a"]``, ``row.a``,
    ``row.name``), compiled over a record array of the columns it names. None when declined;
    a :class:`Mismatch` when it disagreed with pandas on the first row."""
    n = len(df)

    def run() -> Any:
        f = _function(func)
        extra = _scalar_args(args, kwargs)
        uses_name = "name" in jit.attribute_names(f)
        if uses_name and "name" in df.columns:
            raise Declined("row.name is the row's label in pandas, and a column is also "
                           "called 'name'")
        fields = _fields(df, f, "name" if uses_name else None)
        interleaved = _pandas.interleaved_dtype(df)
        numeric_rows = isinstance(interleaved, np.dtype) and interleaved.kind in "biufc"
        columns: dict[str, np.ndarray] = {}
        for c in fields:
            values = df[c].to_numpy()
            # pandas' row is one array of the frame's common dtype: numbers of that dtype,
            # or Python scalars when the frame also holds non-numeric columns
            dtype = interleaved if numeric_rows else _python_scalar_dtype(values.dtype, values)
            columns[str(c)] = values.astype(dtype, copy=False)
        if uses_name:
            index = df.index
            if not isinstance(index.dtype, np.dtype) or index.dtype.kind not in "iuf":
                raise Declined(f"row.name is a label of dtype {index.dtype}, which jit does "
                               "not compile (int or float labels only)")
            columns["name"] = index.to_numpy()
        if not columns:
            raise Declined("the function names no column of the frame (jit passes each row "
                           "as a record: row['a'] or row.a; Series methods such as "
                           "row.sum() do not compile)")
        rec = _record(columns, n)
        compiled = _compile(options, "rows", n, f, "numpy" if numeric_rows else "python")
        before = compiled.seconds
        spec = jit.result_spec(compiled, rec[0], extra)
        try:
            head = _pandas.DataFrame_apply(df.iloc[:1], f, axis=1, result_type=result_type,
                                           args=args)
        except Exception as exc:
            add_label_note(exc, "row", df.index[0], ChunkSpan(0, None, "rows", 0, 1))
            raise
        spec, value = jit.value_on(compiled, spec, rec[0], extra)
        if spec.length is None:
            if not isinstance(head, pd.Series) or head.dtype != spec.dtype \
                    or not _same(value, head.iloc[0], spec.dtype):
                raise _Disagree([head.iloc[0]] if isinstance(head, pd.Series) else None)
            out = np.empty(n, spec.dtype)
            out[0] = head.iloc[0]
        else:
            if result_type != "expand":
                raise Declined("the function returns a sequence: jit builds columns from it "
                               "with result_type='expand' only")
            if not isinstance(head, pd.DataFrame) or head.shape[1] != spec.length \
                    or any(d != spec.dtype for d in head.dtypes) \
                    or not _same(value, head.iloc[0].to_numpy(), spec.dtype):
                raise _Disagree(None)
            out = np.empty((n, spec.length), spec.dtype)
            out[0] = head.iloc[0].to_numpy()
        skip = np.zeros(0, np.bool_)
        loop = jit.prepare_loop(compiled, f"units {spec.loop_kind}", rec, skip, out, extra)
        _run("rows", [_Part(loop, (rec, skip), out, extra, 1, n, df.index, "row")], n, 1,
             options, compiled.seconds - before)
        if out.ndim == 2:
            return pd.DataFrame(out, index=df.index).__finalize__(df, method="apply")
        return pd.Series(out, index=df.index).__finalize__(df, method="apply")

    return _with_mismatch(options, "rows", n, run)


def _with_mismatch(options: Options, kind: str, n: int, run: Callable[[], Any]) -> Any:
    """:func:`attempt` where a disagreement on the first unit returns :class:`Mismatch`."""
    def guarded() -> Any:
        try:
            return run()
        except _Disagree as exc:
            declined(options, "the compiled function's result differs from pandas' on the "
                     f"first {singular(kind)} (in type or value): it relies on "
                     "something numba does differently")
            first = exc.args[0] if exc.args else None
            if first is None:
                return None
            decided(Plan(kind, "pandas", 1, (), "pandas finishes the call in the calling "
                         f"process, after the first {singular(kind)}", probed=1,
                         n_units=n))
            return Mismatch(first)

    return attempt(options, guarded)


# --------------------------------------------------------------------------------------------
# elements


def _element_values(s: pd.Series) -> np.ndarray:
    dtype = s.dtype
    if not isinstance(dtype, np.dtype) or dtype.kind not in "biufc":
        raise Declined(f"jit compiles numbers and booleans; the elements have dtype {dtype} "
                       "(str, object, category, datetime, nullable and Arrow data are "
                       "declined)")
    values = s.to_numpy()
    return values.astype(_python_scalar_dtype(dtype, values), copy=False)


def map_series(s: pd.Series, func: Any, na_action: Any, args: tuple, kwargs: dict[str, Any],
               method: str, options: Options) -> Any:
    """``s.map(func, na_action=...)`` or ``s.apply(func, args=...)`` compiled. None when
    declined; a :class:`Mismatch` when it disagreed with pandas on the first element."""
    n = len(s)

    def run() -> Any:
        f = _function(func)
        extra = _scalar_args(args, kwargs)
        values = _element_values(s)
        skip = np.isnan(values) if na_action == "ignore" and values.dtype.kind in "fc" \
            else np.zeros(0, np.bool_)
        first = int(np.argmin(skip)) if skip.size else 0
        if skip.size and skip[first]:
            raise Declined("every element is missing")
        compiled = _compile(options, "elements", n, f, "python")
        before = compiled.seconds
        spec = jit.result_spec(compiled, values[first], extra)
        if spec.length is not None:
            raise Declined("the function returns a sequence; jit maps elements to numbers")
        piece = s.iloc[first:first + 1]
        try:
            head = _pandas.Series_map(piece, f, na_action=na_action) if method == "map" \
                else _pandas.Series_apply(piece, f, args=args)
        except Exception as exc:
            add_label_note(exc, "element", s.index[first], ChunkSpan(0, None, "elements",
                                                                     first, first + 1))
            raise
        spec, value = jit.value_on(compiled, spec, values[first], extra)
        if head.dtype != spec.dtype or not _same(value, head.iloc[0], spec.dtype):
            raise _Disagree([head.iloc[0]])
        dtype = spec.dtype
        if skip.any():
            if dtype.kind == "b":
                raise Declined("booleans with missing values left out make an object result")
            dtype = np.result_type(dtype, np.float64)
        out = np.full(n, np.nan, dtype) if skip.any() else np.empty(n, dtype)
        out[first] = head.iloc[0]
        loop = jit.prepare_loop(compiled, "units scalar", values, skip, out, extra)
        _run("elements", [_Part(loop, (values, skip), out, extra, first + 1, n, s.index,
                                "element")], n, first + 1, options, compiled.seconds - before)
        return _pandas.wrap_mapped(s, out, method)

    return _with_mismatch(options, "elements", n, run)


def map_frame(df: pd.DataFrame, func: Any, na_action: Any, options: Options) -> Any:
    """``df.map(func, na_action=...)`` compiled, column by column. None when declined; a
    :class:`Mismatch` when it disagreed with pandas on the first element."""
    n_rows, n_columns = df.shape

    def run() -> Any:
        f = _function(func)
        columns = [_element_values(df.iloc[:, j]) for j in range(n_columns)]
        skips = [np.isnan(v) if na_action == "ignore" and v.dtype.kind in "fc"
                 else np.zeros(0, np.bool_) for v in columns]
        # the first element pandas passes to the function: the first one not left out
        starts = [int(np.argmin(skip)) if skip.size else 0 for skip in skips]
        j0 = next((j for j, (skip, at) in enumerate(zip(skips, starts))
                   if not (skip.size and skip[at])), None)
        if j0 is None:
            raise Declined("every element is missing")
        at0 = starts[j0]
        compiled = _compile(options, "elements", df.size, f, "python")
        before = compiled.seconds
        specs: list[jit.ResultSpec | None] = []
        for values, skip, at in zip(columns, skips, starts):
            if skip.size and skip[at]:
                specs.append(None)
                continue
            spec = jit.result_spec(compiled, values[at], ())
            if spec.length is not None:
                raise Declined("the function returns a sequence; jit maps elements to numbers")
            specs.append(spec)
        try:
            head = _pandas.DataFrame_map(df.iloc[at0:at0 + 1, j0:j0 + 1], f,
                                         na_action=na_action)
        except Exception as exc:
            add_label_note(exc, f"element in column {df.columns[j0]!r} of the row",
                           df.index[at0], ChunkSpan(0, None, "elements", 0, 1))
            raise
        spec0 = specs[j0]
        assert spec0 is not None
        spec0, value0 = jit.value_on(compiled, spec0, columns[j0][at0], ())
        if head.dtypes.iloc[0] != spec0.dtype or not _same(value0, head.iat[0, 0],
                                                             spec0.dtype):
            raise _Disagree([head.iat[0, 0]])
        outs = []
        for skip, found in zip(skips, specs):
            if found is None:  # every element missing and left out: pandas keeps them
                outs.append(np.full(n_rows, np.nan))
                continue
            dtype = found.dtype
            if dtype not in (np.dtype(np.float64), np.dtype(np.int64), np.dtype(np.bool_),
                             np.dtype(np.complex128)):
                raise Declined(f"the function returns {dtype}; pandas would infer another "
                               "dtype from the Python results")
            if skip.any():
                if dtype.kind == "b":
                    raise Declined("booleans with missing values left out make an object "
                                   "result")
                dtype = np.result_type(dtype, np.float64)
            outs.append(np.full(n_rows, np.nan, dtype) if skip.any() else np.empty(n_rows, dtype))
        outs[j0][at0] = head.iat[0, 0]
        parts = [_Part(jit.prepare_loop(compiled, "units scalar", values, skip, out, ()),
                       (values, skip), out, (), at0 + 1 if j == j0 else 0, n_rows, df.index,
                       f"element in column {df.columns[j]!r} of the row", offset=j * n_rows)
                 for j, (values, skip, out) in enumerate(zip(columns, skips, outs))]
        parts = parts[j0:] + parts[:j0]  # the first part is the one timed
        _run("elements", parts, df.size, 1, options, compiled.seconds - before)
        return _pandas.wrap_frame_map(df, outs)

    return _with_mismatch(options, "elements", df.size, run)


# --------------------------------------------------------------------------------------------
# groups


def apply_groups(gb: Any, data: pd.DataFrame | pd.Series, split: _pandas.GroupSplit,
                 func: Any, args: tuple, kwargs: dict[str, Any],
                 run_first: Callable[[], Any], options: Options) -> Any:
    """``gb.apply(func, *args)`` compiled: the function gets each group as a record array of
    the columns it names (``g["x"]``, ``g.x``), or as an array for a Series groupby, and
    returns a number or a fixed-length array. ``run_first()`` is pandas' result for the first
    group. None when declined; a :class:`Mismatch` when it disagreed with pandas."""
    ngroups = split.ngroups

    def run() -> Any:
        f = _function(func)
        extra = _scalar_args(args, kwargs)
        sorted_data = split.sorted_data
        if isinstance(sorted_data, pd.Series):
            dtype = sorted_data.dtype
            if not isinstance(dtype, np.dtype) or dtype.kind not in "biufc":
                raise Declined(f"the groups hold {dtype}, which jit does not compile")
            units: np.ndarray = sorted_data.to_numpy()
            _no_missing(units, sorted_data.name)
        else:
            fields = _fields(sorted_data, f, what="group")
            if not fields:
                raise Declined("the function names no column of the groups (jit passes each "
                               "group as a record array: g['x'] or g.x are arrays; DataFrame "
                               "methods do not compile)")
            columns = {str(c): sorted_data[c].to_numpy() for c in fields}
            for name, values in columns.items():
                _no_missing(values, name)
            units = _record(columns, len(sorted_data))
        starts = np.ascontiguousarray(split.starts, dtype=np.int64)
        ends = np.ascontiguousarray(split.ends, dtype=np.int64)
        if np.any(ends == starts):
            raise Declined("some groups are empty (unobserved categories): pandas' reductions "
                           "give NaN on them, numpy's in compiled code raise")
        compiled = _compile(options, "groups", ngroups, f, "numpy")
        before = compiled.seconds
        spec = jit.result_spec(compiled, units[starts[0]:ends[0]], extra)
        first = run_first()
        spec, value = jit.value_on(compiled, spec, units[starts[0]:ends[0]], extra)
        expected = np.asarray(first) if isinstance(first, (np.ndarray, np.generic, int,
                                                           float, bool, complex)) else None
        if expected is None or expected.dtype != spec.dtype \
                or (expected.ndim != 0) != (spec.length is not None) \
                or not _same(value, expected, spec.dtype):
            raise _Disagree([first])
        out = np.empty(ngroups if spec.length is None else (ngroups, spec.length), spec.dtype)
        loop = jit.prepare_loop(compiled, f"groups {spec.loop_kind}", units, starts, ends, out,
                                extra)
        weights = (ends - starts).astype(np.float64)
        _run("groups", [_Part(loop, (units, starts, ends), out, extra, 1, ngroups, split.keys,
                              "group", weights)], ngroups, 1, options,
             compiled.seconds - before)
        values = [first, *(out[1:] if out.ndim == 1 else (row.copy() for row in out[1:]))]
        return _pandas.wrap_group_results(gb, data, values, True)

    return _with_mismatch(options, "groups", ngroups, run)


def _no_missing(values: np.ndarray, name: Any) -> None:
    if values.dtype.kind in "fc" and np.isnan(values).any():
        raise Declined(f"column {name!r} has missing values: pandas' reductions skip them, "
                       "numpy's in compiled code do not")
