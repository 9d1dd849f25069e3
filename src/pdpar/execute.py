"""Running the chunks of one call as its plan says: the first chunks measured in the caller
when the plan leaves the chunks to be sized, then the rest on the plan's backend.

A kind describes its chunks as :class:`Work` (a pure chunk task, and how to build the arguments
of the chunk that covers a range of units); compiled loops are work like any other. What comes
back is the list of the chunks' results in order, or, when the automatic backend decided that
pandas should finish the call in the caller, :class:`Unfinished`: the results of the units that
ran while the function was measured, which pandas' own method then finishes from
(:mod:`pdpar.kinds.replay`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cloudpickle
import numpy as np

from . import transport
from .broadcast import Shared
from .errors import ChunkSpan
from .options import Options
from .plan import Measurement, Plan, Sample, decided
from .plan.bounds import next_probe
from .plan.policy import choose
from .progress import ProgressSink, make_progress
from .run import pool_is_warm, run_chunks

__all__ = ["Work", "Unfinished", "execute"]


@dataclass(frozen=True)
class Work:
    """The chunks of one call: ``task(*payload(span))`` runs the units ``span`` covers.

    Units are numbered from 0 to ``n_units``; the first ``first`` of them already ran (the
    kind keeps their results), so chunks cover ``[first, n_units)``. ``payload`` is called
    only when the chunk is about to be submitted, so the chunks waiting their turn cost no
    memory. ``nbytes`` is the size of the whole input; ``weights`` (groups: their rows) make
    chunks balanced by weight rather than by count. ``shared``, when given, is in every
    payload (the function and its arguments); it is closed when the work is done.
    """

    task: Callable[..., Any]
    payload: Callable[[ChunkSpan], tuple]
    unit: str
    n_units: int
    first: int = 0
    nbytes: int = 0
    weights: np.ndarray | None = None
    shared: Shared | None = None


class Unfinished:
    """A call that pandas is to finish in the caller: ``results`` are those of its first units,
    in order; ``progress`` (still open, or None) is to advance by the ``remaining`` units as
    pandas runs them."""

    __slots__ = ("results", "progress", "remaining")

    def __init__(self, results: list[Any], progress: ProgressSink | None = None,
                 remaining: int = 0) -> None:
        self.results = results
        self.progress = progress
        self.remaining = remaining


def execute(work: Work, plan: Plan, options: Options) -> list[Any] | Unfinished:
    """Run ``work`` as ``plan`` says; the chunks' results in order.

    When the plan leaves the chunks to be sized (``plan.bounds is None``), the first chunks
    run in the caller while they are timed, and the planner sizes the rest from that
    measurement, or, for the automatic backend, decides that pandas should finish the call in
    the caller: then the measured chunks' results come back as :class:`Unfinished` (each chunk
    result as one item of ``results``).
    """
    rest = work.n_units - work.first
    progress = make_progress(options.progress, work.n_units, work.unit) \
        if options.progress else None
    results: list[Any] = []
    handed_on = False
    try:
        if progress is not None and work.first:
            progress.update(work.first)
        weights = work.weights[work.first:] if work.weights is not None else None
        if plan.bounds is None:
            measurement = _measure(work, plan, results, progress)
            plan = choose(plan, rest, measurement, work.nbytes * rest // max(work.n_units, 1),
                          weights, pool_warm=pool_is_warm(plan.n_jobs))
        # the units that ran before this work are the call's too: counted as measured
        first = work.first
        plan = decided(dataclasses.replace(
            plan, n_units=work.n_units, probed=plan.probed + first,
            bounds=tuple((first + a, first + b) for a, b in plan.bounds or ())))
        if plan.plain:
            handed_on = True  # the progress goes on as pandas finishes the call
            return Unfinished(results, progress, work.n_units - plan.probed)
        bounds = plan.bounds or ()
        done = len(results)
        count = done + len(bounds)
        payloads = (work.payload(ChunkSpan(done + i, count, work.unit, start, stop))
                    for i, (start, stop) in enumerate(bounds))
        sizes = [stop - start for start, stop in bounds]
        results.extend(run_chunks(work.task, payloads, backend=plan.backend,
                                  n_jobs=plan.n_jobs, max_inflight=options.max_inflight,
                                  progress=progress, sizes=sizes))
    finally:
        if progress is not None and not handed_on:
            progress.close()
        if work.shared is not None:
            work.shared.close()
    return results


def _measure(work: Work, plan: Plan, results: list[Any],
             progress: ProgressSink | None) -> Measurement:
    """Run the first chunks in the caller (their results go to ``results``), timed."""
    samples: list[Sample] = []
    rest = work.n_units - work.first
    done = 0
    with contextlib.closing(_RunQueueClock()) as clock:
        weights = work.weights[work.first:] if work.weights is not None else None
        while size := next_probe(plan, rest, Measurement(tuple(samples)), weights):
            start = work.first + done
            payload = work.payload(ChunkSpan(len(results), None, work.unit, start, start + size))
            started, started_cpu = time.perf_counter(), time.thread_time()
            started_queued = clock.queued()
            results.extend(run_chunks(work.task, [payload], backend="serial", n_jobs=1))
            sample_cpu = time.thread_time() - started_cpu
            sample_wall = time.perf_counter() - started
            sample_wall -= min(clock.queued() - started_queued, sample_wall - sample_cpu)
            weight = float(size) if work.weights is None \
                else float(np.sum(np.asarray(work.weights[start:start + size]) + 1.0))
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
