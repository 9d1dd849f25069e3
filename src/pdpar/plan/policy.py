"""The policy: serial or parallel, threads or processes, how many workers, whether to compile.

The kinds describe their input as a number of units (rows, columns, elements or groups, with a
weight per group) and its size in bytes, and get back a :class:`~.model.Plan`.

Every decision that depends on the function starts from a measurement. Unless the caller set
``chunksize``, a call first runs a few small chunks in the calling process
(:func:`.bounds.next_probe`): one unit, then as many as the time set aside for measuring
allows, timed in wall time and in the calling thread's CPU time. Their results are part of the
final result, not a separate trial; nothing runs twice. Then:

- ``backend="auto"`` (:func:`choose`) estimates the rest of the call serially, on threads and
  on processes (:func:`.estimates.estimate`, corrected by what the last calls of the same
  function showed, :mod:`.hindsight`), from the measured time per unit and the costs of this
  machine (:mod:`.costs`): starting the process pool, dispatching a chunk, sending bytes to a
  worker, sending results back, and assembling them. It takes the fastest, and stays in the
  caller unless a pool is clearly faster (or, when no pool is running yet, unless a warm one
  would be and starting it costs this call little: :func:`_pool_pays_later`). A function
  whose CPU time is well below its wall time is waiting (on I/O, or with the GIL released),
  so it gets more threads than cores.
- the chunks are cut from the same measurement (:func:`.bounds.size_chunks`): at least a few
  per worker, about a quarter of a second of work each when there is plenty, never so small
  that dispatch costs more than a few percent, never so large in bytes that the chunks in
  flight take much memory; whole groups, balanced by rows; the last round cut smaller so that
  the workers finish together.

A single usable CPU, or an input of one unit, runs as plain pandas in the caller.
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
from collections.abc import Mapping, Sequence

import numpy as np

from ..cpus import usable_cpu_count
from ..options import Options
from ..run import check_processes_possible, cluster_workers, processes_unavailable
from .bounds import even_bounds, jit_bounds, rest_weight, size_chunks
from .costs import costs
from .estimates import corrected, start_seconds, threads_for
from .model import Measurement, Plan, counted, format_seconds

__all__ = ["resolve_n_jobs", "plan_call", "choose", "jit_pays", "plan_compiled", "jit_threads"]


def resolve_n_jobs(n_jobs: int) -> int:
    """Turn the ``n_jobs`` option into a worker count; -1 honours ``PDPAR_N_JOBS``."""
    if n_jobs == -1:
        env = os.environ.get("PDPAR_N_JOBS", "").strip()
        if env:
            try:
                value = int(env)
            except ValueError:
                raise ValueError(f"PDPAR_N_JOBS must be an int, got {env!r}") from None
            if value == 0:
                raise ValueError("PDPAR_N_JOBS must not be 0")
            n_jobs = value
    if n_jobs > 0:
        return n_jobs
    return max(1, usable_cpu_count() + 1 + n_jobs)


def plan_call(unit: str, n_units: int, options: Options) -> Plan:
    """Decide what can be decided about a call over ``n_units`` ``unit`` before the
    function has run.

    The plan's ``bounds`` are None when the chunks are to be sized by measurement, and its
    backend is still ``"auto"`` when the choice waits for that measurement (:func:`choose`).
    """
    backend = options.backend
    n_jobs = resolve_n_jobs(options.n_jobs)
    if backend == "processes":
        check_processes_possible()  # before anything runs
    if backend == "auto":
        if n_jobs == 1:
            return Plan(unit, "serial", 1, (), "one usable CPU", n_units=n_units)
        if n_units <= 1:
            return Plan(unit, "serial", 1, (), f"{counted(n_units, unit)}: nothing to share out",
                        n_units=n_units)
        reason = "chosen from a measurement"
    else:
        reason = "backend named by the caller"
    workers = cluster_workers(backend)  # raises, saying what to start, if none runs
    if workers is not None and options.n_jobs < 0:
        n_jobs = max(1, workers + 1 + options.n_jobs)  # the cluster's, not this machine's

    if options.chunksize is not None and backend != "auto":
        # An explicit chunk size counts units (for groups: groups per chunk).
        return Plan(unit, backend, n_jobs, even_bounds(n_units, options.chunksize), reason,
                    n_units=n_units, chunksize=options.chunksize)
    if backend == "serial":
        return Plan(unit, backend, n_jobs, ((0, n_units),), reason, n_units=n_units)
    if n_units <= n_jobs and backend != "auto":
        return Plan(unit, backend, n_jobs, even_bounds(n_units, 1), reason, n_units=n_units)
    return Plan(unit, backend, n_jobs, None, reason, n_units=n_units,
                chunksize=options.chunksize)


def choose(plan: Plan, n_units: int, measurement: Measurement, nbytes: int = 0,
           weights: Sequence[int] | np.ndarray | None = None, pool_warm: bool = False,
           caller_assembles: bool = False, learned: Mapping[str, float] | None = None,
           missed: float = 0.0) -> Plan:
    """The automatic backend's choice for the units after the measured ones, with the chunks
    cut for it; the plan records the measurement and the estimates.

    A named backend is kept; only its chunks are sized. ``caller_assembles`` says that staying
    in the caller means running the kind's own chunk there (cheap rows), whose results are
    assembled as the workers' are. ``learned`` is what the last calls of the same function
    showed (:func:`.hindsight.corrections`): under ``"serial"`` the time per unit of weight in
    the caller, which corrects the work of every backend; under another backend the ratio of
    its time to its estimate, which scales that backend's estimate (:func:`.estimates.corrected`).
    ``missed`` is what the earlier calls that stayed in the caller only because no worker
    processes were running would have saved on warm ones (:func:`.hindsight.missed`): once it
    reaches what starting them costs this call, they start (:func:`_cold_pool`).
    """
    c = costs()
    m = measurement
    probed = m.units
    rest = n_units - probed
    plan = dataclasses.replace(plan, measurement=m, probed=probed,
                               unit_seconds=m.wall / m.units if m.units else None)
    if plan.compiled:
        threads, reason = jit_threads(plan.n_jobs, probed, m.wall, rest)
        bounds = jit_bounds(probed, n_units, threads, plan.chunksize,
                            None if weights is None else np.asarray(weights))
        return dataclasses.replace(plan, backend=_compiled_on(threads, bounds), n_jobs=threads,
                                   bounds=bounds, reason=reason)
    if plan.backend != "auto":
        return size_chunks(plan, n_units, m, nbytes, weights)
    if rest <= 0:
        return dataclasses.replace(plan, backend="serial", n_jobs=1, bounds=(),
                                   reason="every unit ran while measuring")
    rest_bytes = nbytes * rest / max(n_units, 1)
    weight = rest_weight(probed, n_units, weights)
    estimates, corrections = corrected(plan, rest, weight, m, rest_bytes, pool_warm,
                                        caller_assembles, learned)
    refused = _processes_refused(m, estimates)
    parallel = min(("threads", "processes"), key=estimates.__getitem__)
    speedup = estimates["serial"] / estimates[parallel] if estimates[parallel] > 0 else 1.0
    ordered = tuple(sorted(estimates.items(), key=lambda item: item[1]))
    start = start_seconds(plan.n_jobs, m.busy)
    plan = dataclasses.replace(plan, estimates=ordered,
                               start_seconds=None if pool_warm else start,
                               corrections=corrections)
    pays = estimates[parallel] <= c.parallel_margin * estimates["serial"]
    starts_pool, saving = None, None
    if not pays and not pool_warm:
        warm = corrected(plan, rest, weight, m, rest_bytes, True, caller_assembles,
                         learned)[0]["processes"]
        starts_pool, saving = _cold_pool(estimates, warm, start, missed)
    if starts_pool:
        parallel = "processes"
        speedup = estimates["serial"] / estimates[parallel]
    elif not pays:
        reason = (f"a pool would not pay (the best, {parallel}, is estimated at "
                  f"{format_seconds(estimates[parallel])} against "
                  f"{format_seconds(estimates['serial'])} in the calling process)")
        if saving is not None:
            reason += (f"; warm worker processes would save it {format_seconds(saving)}: "
                       f"once such calls add up to what starting them costs "
                       f"({format_seconds(start_price(estimates, start))}; "
                       f"{format_seconds(missed)} before this call), they start")
        if refused:
            reason += f"; {refused}"
        return dataclasses.replace(plan, backend="serial", n_jobs=1, bounds=(), reason=reason,
                                   warm_saving=saving)
    n_jobs = threads_for(m, plan.n_jobs, rest) if parallel == "threads" else plan.n_jobs
    why = ("the function waits (CPU time well below wall time): threads"
           if parallel == "threads" and m.waits else f"{parallel}")
    reason = f"{why}, estimated {speedup:.2f}x faster than serial"
    if refused and parallel != "processes":
        reason += f" ({refused})"
    if starts_pool == "repaid":
        reason = (f"processes: the worker processes start in this call (estimated "
                  f"{speedup:.2f}x serial's speed): the calls before it that stayed in the "
                  f"caller for want of them would have saved {format_seconds(missed)} on them "
                  "warm, as much as starting them costs")
    elif starts_pool:
        reason = (f"processes: the worker processes start in this call (estimated "
                  f"{speedup:.2f}x serial's speed), and calls like it that follow find them "
                  "warm")
    plan = dataclasses.replace(plan, backend=parallel, n_jobs=n_jobs, reason=reason)
    return size_chunks(plan, n_units, m, nbytes, weights)


def _processes_refused(m: Measurement, estimates: dict[str, float]) -> str | None:
    """Why worker processes are no candidate for this call (their estimate becomes infinite),
    or None: they cannot start here (a daemonic process), or cannot run the function."""
    why = processes_unavailable()
    if why:
        why = f"processes are no candidate: {why}"
    elif m.travel is not None and m.travel.refused:
        why = f"worker processes cannot run it: {m.travel.refused}"
    if why:
        estimates["processes"] = math.inf
    return why


def _cold_pool(estimates: dict[str, float], warm: float, start: float,
               missed: float) -> tuple[str | None, float | None]:
    """With no worker processes running and no backend paying now: why to start them in this
    call (None: not to), and else what warm ones would save it (None: they would not pay
    either).

    They start when this call pays little for it (:func:`_pool_pays_later`: ``"now"``), or
    (``"repaid"``) when the earlier calls that stayed in the caller for want of them would
    together have saved (``missed``) as much as starting them costs (:func:`start_price`): a
    program that repeats a call too short to pay for the start never finds the pool warm
    otherwise, and so it loses at most what it has already gone without (the rule of renting
    skis until the rent paid would have bought them).
    """
    c = costs()
    serial, cold = estimates["serial"], estimates["processes"]
    if _pool_pays_later(estimates, start):
        return "now", None
    if not math.isfinite(cold) or warm > c.parallel_margin * serial:
        return None, None
    if missed >= start_price(estimates, start):
        return "repaid", None
    return None, serial - warm


def start_price(estimates: dict[str, float], start: float) -> float:
    """What starting the worker processes is counted to cost a call that stays in the caller
    for want of them: the start itself, or more if the estimates say so (the caller runs
    chunks while the workers start, but on as many CPUs as workers, their start slows it)."""
    return max(estimates["processes"] - estimates["serial"], start)


def _pool_pays_later(estimates: dict[str, float], start: float) -> bool:
    """True when a call that a cold pool would not speed up enough is worth starting the pool
    for all the same: warm (without :attr:`Costs.pool_start_seconds`), the pool would clearly pay,
    and starting it costs this call at most a share :attr:`Costs.parallel_margin` more than
    staying serial.

    A pool that is never started is never warm: a program repeating a call of a few seconds
    would run every one of them serially, each too short to pay for the start alone. Once
    started, the pool stays warm for the calls that follow.
    """
    c = costs()
    serial, cold = estimates["serial"], estimates["processes"]
    return (cold * c.parallel_margin <= serial
            and cold - start <= c.parallel_margin * serial)


def jit_pays(loop: str, n_units: int, n_jobs: int, cached: bool) -> str | None:
    """Why ``jit="auto"`` should not compile this call (None: compile it).

    A function compiled before costs nothing more to compile, so it runs compiled. A new one
    is compiled when the least the Python path could take (pandas' own loop around a trivial
    function, on every worker) is more than compiling it would.
    """
    c = costs()
    if cached:
        return None

    compile_seconds = c.compile_seconds + (0 if "numba" in sys.modules else c.numba_import_seconds)
    least = n_units * c.python_unit_seconds[loop] / max(1, n_jobs)
    if least < compile_seconds:
        return (f"too few {loop.split()[-1]} to pay for compiling: the Python path takes at "
                f"least {format_seconds(least)}, compiling about {format_seconds(compile_seconds)}")
    return None


def plan_compiled(unit: str, n_units: int, options: Options,
                  weights: np.ndarray | None, compile_seconds: float) -> Plan:
    """The plan of a compiled loop over ``n_units`` units: with several threads and no chunk
    size given, its first chunk is to be timed (``bounds`` None, :func:`choose`)."""
    n_jobs = 1 if options.backend == "serial" else resolve_n_jobs(options.n_jobs)
    if n_jobs > 1 and options.chunksize is None:
        return Plan(unit, "threads", n_jobs, None, "", n_units=n_units, compiled=True,
                    compile_seconds=compile_seconds)
    threads, reason = jit_threads(n_jobs, 0, 0.0, n_units)
    bounds = jit_bounds(0, n_units, threads, options.chunksize, weights)
    return Plan(unit, _compiled_on(threads, bounds), threads, bounds, reason, n_units=n_units,
                chunksize=options.chunksize, compiled=True, compile_seconds=compile_seconds)


def _compiled_on(threads: int, bounds: tuple[tuple[int, int], ...]) -> str:
    """Compiled chunks run on threads of the caller, or in the calling thread when there is
    one thread or one chunk."""
    return "threads" if threads > 1 and len(bounds) > 1 else "serial"


def jit_threads(n_jobs: int, timed_units: int, seconds: float, rest_units: int) -> tuple[int, str]:
    """Threads for the rest of a compiled loop, and why, from the time its first units took."""
    c = costs()
    if n_jobs == 1:
        return 1, "compiled with numba; one thread, in the calling process"
    if not timed_units:
        return n_jobs, f"compiled with numba; chunks run on {n_jobs} threads of the calling process"
    rest = seconds / timed_units * rest_units
    if rest < c.jit_threads_seconds:
        return 1, (f"compiled with numba; the rest is estimated at {format_seconds(rest)}, too "
                   "little for threads to pay: one thread, in the calling process")
    return n_jobs, (f"compiled with numba; the rest is estimated at {format_seconds(rest)}: chunks "
                    f"run on {n_jobs} threads of the calling process")
