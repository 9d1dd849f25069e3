"""The estimates the automatic backend chooses from: how long the rest of a call would take in
the calling thread, on threads and on worker processes, from the function measured on its first
units, the costs of this machine (:mod:`.costs`), what other programs ask of the CPUs, and what
the last calls of the same function showed (:mod:`.hindsight`)."""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping

from ..cpus import usable_cpu_count
from . import hindsight
from .costs import costs
from .model import Measurement, Plan

__all__ = ["estimate", "corrected", "cpu_share", "start_seconds", "gil_enabled", "threads_for"]


def estimate(unit: str, rest_units: int, rest_weight: float, measurement: Measurement,
             rest_bytes: float, n_jobs: int, pool_warm: bool,
             caller_assembles: bool = False, work_factor: float = 1.0) -> dict[str, float]:
    """Estimated seconds for the rest of a call: in the calling thread (``"serial"``), on
    threads and on processes.

    The work is the measured time per unit of weight times what is left (times
    ``work_factor``: the time per unit the last calls of the function showed against the
    measured one, :func:`corrected`); each chunk adds the measured fixed cost of a chunk. Where
    other programs keep CPUs busy (``measurement.busy``), each task of this call gets its fair
    share of the usable CPUs (:func:`cpu_share`), serial included. Threads share the GIL: the
    calling thread's CPU time runs one thread at a time, only waiting overlaps (unless the
    interpreter runs without a GIL). Processes pay for starting the pool (unless it is warm:
    meanwhile the caller runs chunks itself, see :func:`pdpar.run.processes.run`), for sending
    the chunks, the function and the results (``measurement.travel``, when measured; else the
    input's bytes at memory speed), and run at :attr:`Costs.process_efficiency`; both pay for
    dispatching chunks and for assembling the results in the caller.
    """
    c = costs()
    m = measurement
    work = m.per_weight * rest_weight * work_factor
    chunks = min(max(c.chunks_per_worker * n_jobs, math.ceil(work / c.target_chunk_seconds)),
                 rest_units)
    fixed = chunks * m.per_chunk
    assembly = rest_units * c.assembly_seconds_per_unit.get(unit, 1e-6)
    one, all_ = cpu_share(1, m.busy), cpu_share(n_jobs, m.busy)
    threads = threads_for(m, n_jobs, rest_units)
    # only a function seen to wait lets threads overlap: CPU time a little below the wall time
    # is as likely the machine's noise as waiting
    computing = work * m.cpu_share if m.waits else work
    if gil_enabled():  # one thread computes at a time
        computing /= one
    else:
        computing /= min(threads, n_jobs) * all_
    on_threads = (c.thread_pool_start_seconds + max(computing, work / threads) + fixed
                  + chunks * c.dispatch("threads") + assembly)
    t = m.travel
    if t is not None and t.refused:
        on_processes = math.inf
    else:
        if t is None:
            sending = rest_bytes / c.transfer_bytes_per_second
        else:
            sending = (rest_units * (t.data_seconds + t.results_seconds)
                       + chunks * t.chunk_seconds + t.shared_seconds)
        start = 0.0 if pool_warm else start_seconds(n_jobs, m.busy)
        # while the workers start, the caller runs chunks itself (:func:`pdpar.run.processes.run`
        # gives them nothing before they are up); counted conservatively, as if one chunk per
        # worker still waited for them
        helped = min(start * cpu_share(1 + n_jobs, m.busy),
                     max(work - n_jobs * work / max(chunks, 1), 0.0))
        on_processes = (start + (work + fixed - helped) / (n_jobs * c.process_efficiency * all_)
                        + chunks * c.dispatch("processes") + sending + assembly)
    # the serial path that runs the kind's own chunk in the caller assembles its results the
    # same way as the parallel ones (pandas' own loop does not)
    serial = (work + m.per_chunk) / one + (assembly if caller_assembles else 0.0)
    return {"serial": serial, "threads": on_threads,
            "processes": on_processes}


def cpu_share(tasks: int, busy: float | None) -> float:
    """The share of a CPU each of ``tasks`` busy tasks of this call gets when other programs
    ask for ``busy`` CPUs' worth of time: the usable CPUs shared fairly among everyone."""
    cpus = usable_cpu_count()
    return min(1.0, cpus / ((busy or 0.0) + tasks))


def start_seconds(n_jobs: int, busy: float | None) -> float:
    """Starting the worker processes: as the last start took here (or the documented cost),
    slower when the CPUs are busy."""
    return costs().pool_start_seconds / cpu_share(n_jobs, busy)


def gil_enabled() -> bool:
    """False on a free-threaded interpreter running without its GIL (threads then compute in
    parallel, without pickling anything)."""
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else bool(check())


def threads_for(measurement: Measurement, n_jobs: int, rest_units: int) -> int:
    """Threads for the rest of a call: ``n_jobs``, or more, up to :attr:`Costs.max_threads`, when
    the function waits: twice as many as would keep the GIL busy if waits were even (they are
    not; measured on W4b, a 2 ms sleep: 17 threads took 0.32 s, 32 threads 0.17 s)."""
    c = costs()
    m = measurement
    if not m.waits:
        return n_jobs
    wanted = 2 * math.ceil(m.wall / m.cpu) if m.cpu > 0 else c.max_threads
    return max(n_jobs, min(wanted, c.max_threads, rest_units))


def corrected(plan: Plan, rest: int, weight: float, m: Measurement, rest_bytes: float,
              pool_warm: bool, caller_assembles: bool, learned: Mapping[str, float] | None
              ) -> tuple[dict[str, float], tuple[tuple[str, float], ...]]:
    """:func:`estimate`, corrected by what the last calls of the function showed (``learned``,
    :func:`.hindsight.corrections`), and the factors applied, by backend (``"serial"``: the
    work's, on every backend)."""
    learned = dict(learned or {})
    factors = {}
    per_unit = learned.pop("serial", None)
    if per_unit is not None and m.per_weight > 0:
        factor = per_unit / m.per_weight
        if 1 / hindsight.LIMIT <= factor <= hindsight.LIMIT:  # else: other data
            factors["serial"] = factor
    estimates = estimate(plan.unit, rest, weight, m, rest_bytes, plan.n_jobs, pool_warm,
                         caller_assembles, factors.get("serial", 1.0))
    for name, factor in learned.items():
        if name in estimates:
            factors[name] = factor
            estimates[name] *= factor
    return estimates, tuple(sorted(factors.items()))
