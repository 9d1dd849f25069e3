"""One module per kind of call. Each knows how to split its input into chunks, the pure task
that runs on one chunk (it returns fresh objects and never writes into its input), and how to
combine the chunk results into exactly what pandas returns for the whole input.

- :mod:`.frame`: ``DataFrame.apply`` over rows (axis=1) or columns (axis=0)
- :mod:`.elements`: ``Series.map``, ``Series.apply`` and ``DataFrame.map``
- :mod:`.groups`: ``groupby(...).apply``

No kind knows how chunks are executed: they hand tasks to :func:`execute`.
"""

from __future__ import annotations

import contextlib
import functools
import os
import pickle
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import cloudpickle
import numpy as np
import pandas as pd

from .. import transport
from ..errors import ChunkSpan
from ..options import Options
from ..plan import Measurement, Plan, Sample, decided
from ..plan.bounds import next_probe
from ..plan.policy import choose
from ..progress import make_progress
from ..run import pool_is_warm, run_chunks

__all__ = ["execute", "nbytes", "share_indexes", "replay", "call_with", "direct", "Probed"]


def call_with(func: Callable[..., Any], args: tuple, kwargs: dict[str, Any], x: Any) -> Any:
    """``func(x, *args, **kwargs)``: how pandas passes extra arguments to a function.

    Used through ``functools.partial(call_with, func, args, kwargs)``, which pickles by value.
    """
    return func(x, *args, **kwargs)


def share_indexes(results: list[Any]) -> list[Any]:
    """``results`` with each Series whose index is identical to the previous Series' index
    given that same index object.

    pandas compares and hashes every result's index when it assembles them, and builds a hash
    table per index object it meets; many small Series with equal but separate indexes (the
    usual ``pd.Series({...})`` per row or group) make that the slowest part of the assembly.
    Sharing one object per run of identical indexes changes nothing pandas can see (values,
    dtype, names and type are the same) and lets pickling send the index once per chunk.
    """
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


def nbytes(obj: pd.DataFrame | pd.Series) -> int:
    """The bytes a frame's or Series' values occupy (object columns: their pointers only)."""
    return int(np.sum(obj.memory_usage(index=False, deep=False)))


class Probed:
    """What :func:`execute` returns when the call is to be finished as plain pandas in the
    caller: the results of the chunks that ran while the function was measured, and the
    progress sink (still open) with the units left for pandas (see :func:`replay`)."""

    __slots__ = ("chunks", "progress", "remaining")

    def __init__(self, chunks: list[Any], progress: Any = None, remaining: int = 0) -> None:
        self.chunks = chunks
        self.progress = progress
        self.remaining = remaining


def direct(kind: str, n_units: int, reason: str, call: Callable[[], Any]) -> Any:
    """``call()``: the whole call handed to pandas as it is, with a plan saying why."""
    decided(Plan(kind, "pandas", 1, (), reason, n_units=n_units))
    return call()


def execute(task: Callable[..., Any], make_payload: Callable[[ChunkSpan], tuple], plan: Plan,
            options: Options, n_units: int, *, nbytes: int = 0,
            weights: Sequence[int] | np.ndarray | None = None) -> list[Any] | Probed:
    """Run ``task`` on every chunk of ``n_units`` units as ``plan`` says; results in order.

    ``make_payload(span)`` builds the arguments of the chunk that covers ``span``; it is called
    only when the chunk is about to be submitted, so the chunks waiting their turn cost no
    memory. When the plan leaves the chunks to be sized, the first chunks run in the caller
    while they are timed, and the planner sizes the rest from that measurement, or, for the
    automatic backend, decides that the call is best finished by pandas in the caller: then
    the measured chunks' results come back as :class:`Probed`.
    """
    unit = plan.kind
    progress = make_progress(options.progress, n_units, unit) if options.progress else None
    results: list[Any] = []
    handed_on = False
    try:
        if plan.bounds is None:
            measurement = _measure(task, make_payload, plan, n_units, weights, results,
                                   progress)
            plan = choose(plan, n_units, measurement, nbytes, weights,
                          pool_warm=pool_is_warm(plan.n_jobs))
        decided(plan)
        if plan.direct:
            handed_on = True  # the progress goes on as pandas finishes the call
            return Probed(results, progress, n_units - plan.probed)
        assert plan.bounds is not None
        first = len(results)
        count = first + plan.n_chunks
        payloads = (make_payload(ChunkSpan(first + i, count, unit, start, stop))
                    for i, (start, stop) in enumerate(plan.bounds))
        sizes = [stop - start for start, stop in plan.bounds]
        results.extend(run_chunks(task, payloads, backend=plan.backend, n_jobs=plan.n_jobs,
                                  max_inflight=options.max_inflight, progress=progress,
                                  sizes=sizes))
    finally:
        if progress is not None and not handed_on:
            progress.close()
    return results


def _measure(task: Callable[..., Any], make_payload: Callable[[ChunkSpan], tuple], plan: Plan,
             n_units: int, weights: Sequence[int] | np.ndarray | None, results: list[Any],
             progress: Any) -> Measurement:
    """Run the first chunks in the caller (their results go to ``results``), timed."""
    samples: list[Sample] = []
    done = 0
    with contextlib.closing(_RunQueueClock()) as clock:
        while size := next_probe(plan, n_units, Measurement(tuple(samples))):
            payload = make_payload(ChunkSpan(len(results), None, plan.kind, done, done + size))
            started, started_cpu = time.perf_counter(), time.thread_time()
            started_queued = clock.queued()
            results.extend(run_chunks(task, [payload], backend="serial", n_jobs=1))
            sample_cpu = time.thread_time() - started_cpu
            sample_wall = time.perf_counter() - started
            sample_wall -= min(clock.queued() - started_queued, sample_wall - sample_cpu)
            weight = float(size) if weights is None \
                else float(np.sum(np.asarray(weights[done:done + size]) + 1.0))
            samples.append(Sample(size, weight, sample_wall, sample_cpu))
            done += size
            if progress is not None:
                progress.update(size)
    return Measurement(tuple(samples), _results_seconds(results, plan))


class _RunQueueClock:
    """Seconds the calling thread has spent ready to run but waiting for a CPU (Linux).

    A function measured on a busy machine takes longer in wall time than in CPU time without
    waiting for anything itself; that time is not waiting that threads could overlap, so the
    measurement leaves it out. Reads 0 where the kernel does not report it.
    """

    def __init__(self) -> None:
        try:
            self._fd: int | None = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
        except OSError:
            self._fd = None

    def queued(self) -> float:
        if self._fd is None:
            return 0.0
        try:
            return int(os.pread(self._fd, 128, 0).split()[1]) / 1e9
        except (OSError, ValueError, IndexError):
            return 0.0

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _results_seconds(results: list[Any], plan: Plan) -> float | None:
    """Seconds to send ``results`` from a worker process and back, when the automatic backend
    may choose processes."""
    if plan.backend != "auto" or not results:
        return None
    started = time.perf_counter()
    sent = [transport.compact(result) for result in results]  # as a worker sends them
    pickle.loads(cloudpickle.dumps(sent, protocol=pickle.HIGHEST_PROTOCOL))
    return time.perf_counter() - started


_END = object()


class _Switch:
    """The end of the recorded results: the stand-in becomes the function itself (counted,
    when a progress sink follows the call)."""

    __slots__ = ("standin", "func", "args", "switched")

    def __init__(self, standin: functools.partial, func: Callable[..., Any],
                 args: tuple = ()) -> None:
        self.standin = standin
        self.func = func
        self.args = args
        self.switched = False


def _recorded_then_switch(results: list[Any], switch: _Switch) -> Iterator[Any]:
    yield from results[:-1]
    switch.standin.__setstate__(  # type: ignore[attr-defined]
        (switch.func, switch.args, None, switch.standin.__dict__))
    switch.switched = True
    yield results[-1]


class _Ticker:
    """Counts the calls pandas makes to the function, for the progress sink, in steps."""

    __slots__ = ("progress", "step", "count", "reported")

    def __init__(self, progress: Any, remaining: int) -> None:
        self.progress = progress
        self.step = max(1, remaining // 100)
        self.count = 0
        self.reported = 0

    def tick(self) -> None:
        self.count += 1
        if self.count - self.reported >= self.step:
            self.progress.update(self.count - self.reported)
            self.reported = self.count


def _counted(func: Callable[..., Any], ticker: _Ticker, *args: Any, **kwargs: Any) -> Any:
    result = func(*args, **kwargs)
    ticker.tick()
    return result


def _next_of(iterator: Iterator[Any], *_args: Any, **_kwargs: Any) -> Any:
    return next(iterator)


def replay(call: Callable[[Callable[..., Any]], Any], results: Sequence[Any],
           then: Callable[..., Any] | None = None, more_arguments: bool = False,
           probed: Probed | None = None) -> Any:
    """``call(standin)``: pandas' own method on the whole input, where ``standin``, in place of
    the user's function, returns the recorded results in call order.

    pandas itself then builds the result (shape, dtypes, index, validation) while the user's
    function, already run once per unit in the chunks, is not run again. An end marker after
    the results proves that pandas asked for exactly as many results as the chunks computed.
    The stand-in is ``functools.partial(next, results)``: it runs in C, so replaying costs
    little more than pandas' own loop.

    With ``then``, the results are those of the first units only, and pandas finishes the
    call: after the last recorded result the stand-in becomes ``then`` itself (a partial's
    state is replaced in place), so the remaining units run at pandas' own speed. The
    stand-in carries an attribute so that pandas, which wraps functions in a partial, keeps
    it as it is rather than flattening it into a copy that would not change.
    ``more_arguments`` says that pandas passes the function more than the unit (``args`` or
    keyword arguments), which the recorded results' stand-in must accept. With ``probed``
    carrying a progress sink, the calls pandas makes to ``then`` advance it, and it is
    completed and closed when the call ends.
    """
    progress = probed.progress if probed is not None else None
    if progress is None:
        return _replay(call, results, then, more_arguments)
    ticker = _Ticker(progress, probed.remaining if probed is not None else 0)
    try:
        assert then is not None
        out = _replay(call, results, then, more_arguments, ticker)
        if probed is not None and probed.remaining > ticker.reported:
            progress.update(probed.remaining - ticker.reported)  # units pandas skipped too
        return out
    finally:
        progress.close()


def _replay(call: Callable[[Callable[..., Any]], Any], results: Sequence[Any],
            then: Callable[..., Any] | None, more_arguments: bool,
            ticker: _Ticker | None = None) -> Any:
    if then is None:
        remaining = iter([*results, _END])
        out = call(functools.partial(next, remaining))
        if next(remaining, None) is not _END:
            raise RuntimeError("pdpar internal error: pandas asked for another number of "
                               "results than the chunks computed")
        return out
    args: tuple[Any, ...] = ()
    if ticker is not None:
        then, args = _counted, (then, ticker)
    if not results:
        return call(functools.partial(then, *args) if args else then)
    standin = functools.partial(next, iter(()))
    standin.pdpar_replay = True  # type: ignore[attr-defined]
    switch = _Switch(standin, then, args)
    recorded = _recorded_then_switch(list(results), switch)
    first = _next_of if more_arguments else next  # next(recorded, unit) never needs the unit
    standin.__setstate__(  # type: ignore[attr-defined]
        (first, (recorded,), None, standin.__dict__))
    out = call(standin)
    if not switch.switched:
        raise RuntimeError("pdpar internal error: pandas asked for fewer results than the "
                           "chunks computed")
    return out
