"""Running the chunks of one call as its plan says: the first chunks measured in the caller
(:mod:`pdpar.measure`) when the plan leaves the chunks to be sized, then the rest on the
plan's backend.

A kind describes its chunks as :class:`~pdpar.work.Work` (a pure chunk task, and how to build
the arguments of the chunk that covers a range of units); compiled loops are work like any
other. What comes back is the list of the chunks' results in order, or, when the automatic
backend decided that pandas should finish the call in the caller,
:class:`~pdpar.work.Unfinished`: the results of the units that ran while the function was
measured, which pandas' own method then finishes from (:mod:`pdpar.kinds.replay`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .errors import ChunkSpan
from .measure import measure, travel
from .options import Options
from .plan import Plan, decided, hindsight
from .plan.bounds import rest_weight
from .plan.policy import choose
from .progress import make_progress
from .run import pool_is_warm, run_chunks
from .work import Unfinished, Work

__all__ = ["execute"]


def execute(work: Work, plan: Plan, options: Options) -> list[Any] | Unfinished:
    """Run ``work`` as ``plan`` says; the chunks' results in order.

    When the plan leaves the chunks to be sized (``plan.bounds is None``), the first chunks
    run in the caller while they are timed, and the planner sizes the rest from that
    measurement, or, for the automatic backend, decides that pandas should finish the call in
    the caller: then the measured chunks' results come back as
    :class:`~pdpar.work.Unfinished` (each chunk result as one item of ``results``). When the
    automatic backend would choose worker processes, what sending the rest there costs is
    measured too (:func:`pdpar.measure.travel`), and the choice made again with it.
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
            measurement = measure(work, plan, results, progress)
            nbytes = work.nbytes * rest // max(work.n_units, 1)
            warm = pool_is_warm(plan.n_jobs)
            learned = hindsight.corrections(work.key)
            missed = hindsight.missed()
            chosen = choose(plan, rest, measurement, nbytes, weights, pool_warm=warm,
                            caller_assembles=work.in_caller, learned=learned, missed=missed)
            if chosen.backend == "processes" and plan.backend == "auto":
                # worth knowing what sending the rest there costs: measured, and chosen again
                measurement = dataclasses.replace(
                    measurement, travel=travel(work, measurement.units, results))
                chosen = choose(plan, rest, measurement, nbytes, weights, pool_warm=warm,
                                caller_assembles=work.in_caller, learned=learned,
                                missed=missed)
            plan = chosen
        if plan.plain and work.in_caller and plan.probed < rest:
            # the kind's chunks beat pandas: the rest runs in the caller as one more chunk
            plan = dataclasses.replace(plan, bounds=((plan.probed, rest),))
        measured = plan.probed
        # the units that ran before this work are the call's too: counted as measured
        first = work.first
        plan = decided(dataclasses.replace(
            plan, n_units=work.n_units, probed=plan.probed + first,
            bounds=tuple((first + a, first + b) for a, b in plan.bounds or ())))
        hindsight.started(work.key, plan, rest_weight(measured, rest, weights))
        hindsight.cold_pool(plan)
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
                                  progress=progress, sizes=sizes,
                                  caller_helps=bool(plan.estimates)))
    finally:
        if progress is not None and not handed_on:
            progress.close()
        if work.shared is not None:
            work.shared.close()
    return results
