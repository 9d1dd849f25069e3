"""One module per kind of call. Each knows how to split its input into chunks, the pure task
that runs on one chunk (it returns fresh objects and never writes into its input), and how to
combine the chunk results into exactly what pandas returns for the whole input.

- :mod:`.frame`: ``DataFrame.apply`` over rows (axis=1) or columns (axis=0)
- :mod:`.elements`: ``Series.map``, ``Series.apply`` and ``DataFrame.map``
- :mod:`.groups`: ``groupby(...).apply``

No kind knows how chunks are executed: they hand tasks to :func:`execute`.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..backends import run_chunks
from ..errors import ChunkSpan
from ..options import Options
from ..planner import Plan, next_probe, size_chunks
from ..progress import make_progress

__all__ = ["execute", "nbytes", "share_indexes", "replay", "call_with"]


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


def execute(task: Callable[..., Any], make_payload: Callable[[ChunkSpan], tuple], plan: Plan,
            options: Options, n_units: int, *, nbytes: int = 0,
            weights: Sequence[int] | np.ndarray | None = None) -> list[Any]:
    """Run ``task`` on every chunk of ``n_units`` units as ``plan`` says; results in order.

    ``make_payload(span)`` builds the arguments of the chunk that covers ``span``; it is called
    only when the chunk is about to be submitted, so the chunks waiting their turn cost no
    memory. When the plan leaves the chunks to be sized, the first chunks run in the caller
    while they are timed, and the planner sizes the rest from that measurement.
    """
    unit = plan.kind
    progress = make_progress(options.progress, n_units, unit) if options.progress else None
    results: list[Any] = []
    try:
        if plan.bounds is None:
            done, seconds, last_units, last_seconds = 0, 0.0, 0, 0.0
            while size := next_probe(plan, n_units, done, seconds):
                span = ChunkSpan(len(results), None, unit, done, done + size)
                started = time.perf_counter()
                results.extend(run_chunks(task, [make_payload(span)], backend="serial",
                                          n_jobs=1))
                last_units, last_seconds = size, time.perf_counter() - started
                done += size
                seconds += last_seconds
                if progress is not None:
                    progress.update(size)
            plan = size_chunks(plan, n_units, done, last_units, last_seconds, nbytes, weights)
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
        if progress is not None:
            progress.close()
    return results


_END = object()


def replay(method: Callable[..., Any], obj: Any, results: Sequence[Any], **kwargs: Any) -> Any:
    """``method(obj, <the recorded results in call order>, **kwargs)``: pandas' own method on
    the whole input, assembling the results the chunks computed.

    pandas itself then builds the result (shape, dtypes, index, validation) while the user's
    function, already run once per unit in the chunks, is not run again. The stand-in function
    is ``functools.partial(next, results)``: it runs in C, so replaying costs little more
    than pandas' own loop. An end marker after the results proves that pandas asked for
    exactly as many results as the chunks computed.
    """
    remaining = iter([*results, _END])
    out = method(obj, functools.partial(next, remaining), **kwargs)
    if next(remaining, None) is not _END:
        raise RuntimeError("pdpar internal error: pandas asked for another number of results "
                           "than the chunks computed")
    return out
