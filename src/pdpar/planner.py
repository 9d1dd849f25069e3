"""Every policy decision of a call: serial or parallel, threads or processes, how many workers,
where chunks begin and end.

Nothing else in pdpar decides these. The kinds describe their input as a number of units (rows,
columns, elements or groups, with a weight per group) and its size in bytes, and get back a
:class:`Plan`.

Every decision that depends on the function starts from a measurement. Unless the caller set
``chunksize``, a call first runs a few small chunks in the calling process (:func:`next_probe`):
one unit, then as many as the time set aside for measuring allows, timed in wall time and in
the calling thread's CPU time. Their results are part of the final result, not a separate
trial; nothing runs twice. Then:

- ``backend="auto"`` (:func:`choose`) estimates the rest of the call serially, on threads and
  on processes (:func:`estimate`), from the measured time per unit and the measured costs of
  this machine: starting the process pool, dispatching a chunk, sending bytes to a worker,
  sending results back, and assembling them. It takes the fastest, and stays in the caller
  unless a pool is clearly faster (or, when no pool is running yet, unless a warm one would be
  and starting it costs this call little: :func:`_pool_pays_later`). A function whose CPU
  time is well below its wall time is waiting (on I/O, or with the GIL released), so it gets
  more threads than cores.
- the chunks are cut from the same measurement (:func:`size_chunks`):

  - at least :data:`CHUNKS_PER_WORKER` chunks per worker, so that one slow chunk (data skew)
    cannot leave the other workers idle;
  - about :data:`TARGET_CHUNK_SECONDS` of work per chunk when there is plenty of work, and
    never so little that dispatching a chunk costs more than :data:`MAX_OVERHEAD` of its run
    time;
  - at most :data:`MAX_CHUNK_BYTES` of input per chunk, so that the chunks in flight keep
    memory bounded;
  - groups: whole groups, many per chunk, balanced by rows;
  - the last round of chunks cut smaller (:func:`tapered_shares`), so that the workers
    finish together, when those smaller chunks still keep dispatch cheap.

A single usable CPU, or an input of one unit, runs as plain pandas in the caller.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import logging
import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from .cpus import usable_cpu_count
from .options import Options
from .run import cluster_workers

__all__ = ["Plan", "Measurement", "Sample", "measured", "plan_call", "next_probe",
           "size_chunks", "estimate", "choose", "usable_cpu_count", "resolve_n_jobs", "decided",
           "last_plan", "planning", "Planned", "call_notes", "jit_declined", "jit_pays",
           "jit_bounds", "jit_probe", "jit_threads", "singular"]

logger = logging.getLogger("pdpar")

#: Fewest chunks per worker when the chunk size is automatic.
CHUNKS_PER_WORKER = 4

#: Work per chunk aimed at when there is plenty: long enough that dispatch is negligible,
#: short enough that the last chunks finish together.
TARGET_CHUNK_SECONDS = 0.25

#: Largest share of a chunk's run time its dispatch may cost.
MAX_OVERHEAD = 0.05

#: Most input bytes per chunk.
MAX_CHUNK_BYTES = 64 << 20

#: Cost of dispatching one chunk, measured on a warm pool here (seconds; dask: a local cluster's
#: scheduler round trip), and the rate at
#: which the chunk's bytes travel to a worker process (bytes per second).
DISPATCH_SECONDS = {"threads": 0.0002, "processes": 0.0015, "dask": 0.015}
OTHER_DISPATCH_SECONDS = 0.005
TRANSFER_BYTES_PER_SECOND = 1e9

#: The calling process measures the function on small chunks until they have taken this long.
PROBE_SECONDS = 0.02

#: A measuring chunk has at most this many times the units measured before it.
PROBE_GROWTH = 32

#: A call whose whole work is estimated below this runs in the caller without measuring more.
SMALL_CALL_SECONDS = 0.005

#: Starting the worker processes when no warm pool is there (measured here: 0.5-0.9 s).
POOL_START_SECONDS = 0.8

#: Work a process worker gets done per second of one core's serial work, when all workers
#: run at once (measured here between 0.7 and 1.0 depending on the minute: on a shared host,
#: two workers can each run the same pandas code up to 45% slower than one alone).
PROCESS_EFFICIENCY = 0.8

#: Seconds per unit the calling process spends assembling results that came from chunks,
#: beyond what pandas spends assembling them in a serial call (measured here with a
#: trivial function; elements are replayed through pandas' own method).
ASSEMBLY_SECONDS_PER_UNIT = {"elements": 0.4e-6, "rows": 0.5e-6, "columns": 2e-6,
                             "groups": 3e-6}

#: Starting a thread pool for a call.
THREAD_POOL_START_SECONDS = 0.001

#: Threads for a function that waits: more than the CPUs, up to this many.
MAX_THREADS = 32

#: A function whose calling-thread CPU time is below this share of its wall time waits.
WAITING_CPU_SHARE = 0.5

#: The automatic backend leaves the caller only for an estimate at most this share of the
#: serial estimate: estimates are rough, and a pool that barely wins is not worth it.
PARALLEL_MARGIN = 0.9


@dataclass(frozen=True)
class Sample:
    """One measuring chunk: ``units`` units of total ``weight`` (rows, for groups; else the
    units) took ``wall`` seconds, ``cpu`` of them on the calling thread's CPU. ``wall`` leaves
    out the time the thread waited for a CPU on a busy machine."""

    units: int
    weight: float
    wall: float
    cpu: float


@dataclass(frozen=True)
class Measurement:
    """The function timed in the calling process on its first units, chunk by chunk.

    Every chunk pays a fixed cost (pandas' own set-up of the call) besides the work per unit;
    the measuring chunks grow geometrically, so the two can be told apart
    (:attr:`per_weight`, :attr:`per_chunk`). ``results_seconds`` is the time to send the
    measured units' results to another process and back (None when not measured).
    """

    samples: tuple[Sample, ...]
    results_seconds: float | None = None

    @property
    def units(self) -> int:
        return sum(s.units for s in self.samples)

    @property
    def weight(self) -> float:
        return sum(s.weight for s in self.samples)

    @property
    def wall(self) -> float:
        return sum(s.wall for s in self.samples)

    @property
    def cpu(self) -> float:
        return sum(s.cpu for s in self.samples)

    @property
    def per_weight(self) -> float:
        """Seconds of work per unit of weight, without the chunks' fixed cost."""
        return self._fit()[0]

    @property
    def per_chunk(self) -> float:
        """Fixed seconds per chunk, whatever its size."""
        return self._fit()[1]

    def _fit(self) -> tuple[float, float]:
        if len(self.samples) >= 2:
            a, b = self.samples[-2], self.samples[-1]
            if b.weight > a.weight:
                slope = (b.wall - a.wall) / (b.weight - a.weight)
                fixed = a.wall - slope * a.weight
                if slope > 0 and fixed >= 0:
                    return slope, fixed
        return self.wall / max(self.weight, 1.0), 0.0

    @property
    def cpu_share(self) -> float:
        """The calling thread's CPU time as a share of wall time."""
        return min(self.cpu / self.wall, 1.0) if self.wall > 0 else 1.0

    @property
    def waits(self) -> bool:
        """True when the function spends most of its time waiting, not computing."""
        return self.cpu_share < WAITING_CPU_SHARE


def measured(units: int, seconds: float, cpu: float | None = None,
             weight: float | None = None) -> Measurement:
    """A measurement of one chunk (for tests and estimates by hand)."""
    return Measurement((Sample(units, float(units if weight is None else weight), seconds,
                               seconds if cpu is None else cpu),))


@dataclass(frozen=True)
class Plan:
    """What a call runs: the backend, its workers, the chunks as unit ranges, and why.

    ``backend`` is ``"pandas"`` when the call runs as plain pandas in the calling process.
    ``probed`` units were run in the calling process to measure the function (see
    ``measurement``); ``bounds`` are the chunks that follow them, None until they are sized.
    ``estimates`` are the estimated seconds of the rest of the call per backend, when the
    automatic backend chose among them. ``chunksize`` is the caller's chunk size, if any.
    ``backend`` is ``"jit"`` when the function runs compiled by numba, on threads of the
    calling process; ``compile_seconds`` is what compiling took in this call (0 when the
    function was compiled before). ``jit`` says why a call that asked for ``jit="auto"`` was
    not compiled.
    """

    kind: str
    backend: str
    n_jobs: int
    bounds: tuple[tuple[int, int], ...] | None
    reason: str
    probed: int = 0
    unit_seconds: float | None = None
    n_units: int = 0
    measurement: Measurement | None = None
    estimates: tuple[tuple[str, float], ...] = ()
    chunksize: int | None = None
    compile_seconds: float | None = None
    jit: str | None = None

    @property
    def n_chunks(self) -> int:
        return len(self.bounds or ())

    @property
    def direct(self) -> bool:
        """True when the call runs as plain pandas in the caller, without chunks."""
        return self.backend == "pandas"

    def __str__(self) -> str:
        if self.direct:
            how = "plain pandas in the calling process"
        else:
            how = f"{self.backend}, n_jobs={self.n_jobs}, {self.n_chunks} chunks"
        return f"Plan({self.n_units} {self.kind}: {how}; {self.reason})"

    def explain(self) -> str:
        """The plan and the measurements and estimates behind it, in a few lines."""
        lines = [str(self)]
        m = self.measurement
        if m is not None and m.units:
            lines.append(
                f"measured: {m.units} {self.kind} in the calling process, "
                f"{_seconds(m.wall / m.units)} each (CPU {_seconds(m.cpu / m.units)}"
                f"{', waiting on I/O or with the GIL released' if m.waits else ''})")
            if m.results_seconds is not None:
                lines.append(f"sending results between processes: "
                             f"{_seconds(m.results_seconds / m.units)} per {singular(self.kind)}")
        if self.estimates:
            lines.append("estimated time for the rest: " + ", ".join(
                f"{name} {_seconds(seconds)}" for name, seconds in self.estimates))
        if self.compile_seconds is not None:
            lines.append(f"compiling took {_seconds(self.compile_seconds)}"
                         + (" (compiled before)" if not self.compile_seconds else ""))
        if self.probed and self.backend == "jit":
            lines.append(f"the first {singular(self.kind)} ran through pandas, to check the "
                         "compiled function against it; its result is part of the result")
        elif self.probed:
            lines.append(f"the first {self.probed} {self.kind} ran in the calling process "
                         "while measuring; their results are part of the result")
        if self.jit:
            lines.append(f"not compiled: {self.jit}")
        return "\n".join(lines)


def _seconds(value: float) -> str:
    if value >= 1:
        return f"{value:.3g} s"
    if value >= 1e-3:
        return f"{value * 1e3:.3g} ms"
    return f"{value * 1e6:.3g} us"


def singular(kind: str) -> str:
    """"rows" -> "row": one unit of a kind."""
    return {"rows": "row", "columns": "column", "elements": "element", "groups": "group"}[kind]


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


def even_bounds(n: int, size: int) -> tuple[tuple[int, int], ...]:
    """Ranges of ``size`` units (the last one shorter) covering ``range(n)``."""
    return tuple((start, min(start + size, n)) for start in range(0, n, size))


def weighted_bounds(weights: Sequence[int] | np.ndarray, n_chunks: int,
                    shares: Sequence[float] | None = None) -> tuple[tuple[int, int], ...]:
    """Split units into ``n_chunks`` contiguous ranges of about equal total weight (or of the
    given ``shares`` of it, one per chunk).

    Used for groups: a chunk holds whole groups, many per chunk, balanced by rows.
    """
    w = _unit_weights(weights)
    n = len(w)
    cum = np.cumsum(w)
    cuts = np.searchsorted(cum, cum[-1] * _share_ends(n_chunks, n, shares), side="left") + 1
    return _bounds_at(cuts, n)


def shared_bounds(n: int, shares: Sequence[float]) -> tuple[tuple[int, int], ...]:
    """Split ``range(n)`` into contiguous ranges holding about the given shares of it."""
    return _bounds_at(np.rint(n * _share_ends(len(shares), n, shares)).astype(np.int64), n)


def _share_ends(n_chunks: int, n: int, shares: Sequence[float] | None) -> np.ndarray:
    """Where each chunk but the last ends, as a share of the whole."""
    if shares is None:
        n_chunks = max(1, min(n_chunks, n))
        return np.arange(1, n_chunks) / n_chunks
    ends = np.cumsum(shares, dtype=np.float64)
    return ends[:-1] / ends[-1]


def _bounds_at(cuts: np.ndarray, n: int) -> tuple[tuple[int, int], ...]:
    edges = np.unique(np.concatenate(([0], np.clip(cuts, 1, n), [n])))
    return tuple((int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]))


def tapered_shares(n_chunks: int, n_jobs: int) -> list[float]:
    """The shares of the work of ``n_chunks`` equal chunks, with the last round of
    ``n_jobs`` chunks cut into rounds of half, a quarter and a quarter chunk.

    Workers take chunks as they finish, so they drift apart by up to a chunk: the one that
    takes the last chunk may still run it long after the others are idle (measured on W1, 14
    chunks of about 0.23 s: the workers finished 35 ms and 113 ms apart). Ending on
    smaller chunks lets them finish closer together, for ``2 * n_jobs`` more dispatches.
    """
    return [1.0] * (n_chunks - n_jobs) + [0.5] * n_jobs + [0.25] * (2 * n_jobs)


def _unit_weights(weights: Sequence[int] | np.ndarray) -> np.ndarray:
    return np.asarray(weights, dtype=np.float64) + 1.0  # an empty group still costs a call


def plan_call(kind: str, n_units: int, options: Options) -> Plan:
    """Decide what can be decided about a call over ``n_units`` units of ``kind`` before the
    function has run.

    The plan's ``bounds`` are None when the chunks are to be sized by measurement, and its
    backend is still ``"auto"`` when the choice waits for that measurement (:func:`choose`).
    """
    backend = options.backend
    n_jobs = resolve_n_jobs(options.n_jobs)
    if backend == "auto":
        if n_jobs == 1:
            return Plan(kind, "pandas", 1, (), "one usable CPU", n_units=n_units)
        if n_units <= 1:
            return Plan(kind, "pandas", 1, (), f"{n_units} {kind}: nothing to share out",
                        n_units=n_units)
        reason = "chosen from a measurement"
    else:
        reason = "backend named by the caller"
    workers = cluster_workers(backend)  # raises, saying what to start, if none runs
    if workers is not None and options.n_jobs < 0:
        n_jobs = max(1, workers + 1 + options.n_jobs)  # the cluster's, not this machine's

    if options.chunksize is not None and backend != "auto":
        # An explicit chunk size counts units (for groups: groups per chunk).
        return Plan(kind, backend, n_jobs, even_bounds(n_units, options.chunksize), reason,
                    n_units=n_units, chunksize=options.chunksize)
    if backend == "serial":
        return Plan(kind, backend, n_jobs, ((0, n_units),), reason, n_units=n_units)
    if n_units <= n_jobs and backend != "auto":
        return Plan(kind, backend, n_jobs, even_bounds(n_units, 1), reason, n_units=n_units)
    return Plan(kind, backend, n_jobs, None, reason, n_units=n_units,
                chunksize=options.chunksize)


def next_probe(plan: Plan, n_units: int, measurement: Measurement) -> int:
    """Units in the next measuring chunk run in the caller, or 0 when measuring is over.

    ``measurement`` holds the chunks measured so far. The chunks grow from one unit, as fast as
    the time left for measuring (:data:`PROBE_SECONDS`) allows, and together stay below a
    quarter of one chunk of the rest. The automatic backend always measures at least one
    unit.
    """
    m = measurement
    done, seconds = m.units, m.wall
    limit = n_units // (4 * CHUNKS_PER_WORKER * plan.n_jobs)
    if plan.backend == "auto":
        limit = max(limit, 1)
        if done >= 4 and seconds / done * n_units < SMALL_CALL_SECONDS:
            return 0  # the whole call is too short for any pool: no need to measure more
    if done >= limit or seconds >= PROBE_SECONDS:
        return 0
    if done == 0:
        return 1
    # As many units as the time left allows. Each chunk pays pandas' set-up of the call again
    # (0.3-1 ms), so a few large chunks measure as well as many small ones, for less; from two
    # chunks on, that set-up is told apart from the time per unit. Measuring stops when the
    # time left holds fewer units than were measured: a chunk that small adds little to the
    # measurement, and one larger would run over the time while the workers wait.
    per_unit = m.per_weight * m.weight / done
    fits = int((PROBE_SECONDS - seconds - m.per_chunk) / per_unit) if per_unit > 0 else limit
    if fits < done:
        return 0
    size = min(fits, PROBE_GROWTH * done, limit - done)
    if limit - done - size < size and limit - done <= fits:  # no short chunk after this one
        size = limit - done
    return size


def estimate(kind: str, rest_units: int, rest_weight: float, measurement: Measurement,
             rest_bytes: float, n_jobs: int, pool_warm: bool) -> dict[str, float]:
    """Estimated seconds for the rest of a call: in the caller (``"pandas"``), on threads and
    on processes.

    The work is the measured time per unit of weight times what is left; each chunk adds the
    measured fixed cost of a chunk. Threads share the GIL: the calling thread's CPU time runs
    one thread at a time, only waiting overlaps. Processes pay for starting the pool (unless
    it is warm), for sending the chunks' bytes and the results, and run at
    :data:`PROCESS_EFFICIENCY`; both pay for dispatching chunks and for assembling the
    results in the caller.
    """
    m = measurement
    work = m.per_weight * rest_weight
    chunks = min(max(CHUNKS_PER_WORKER * n_jobs, math.ceil(work / TARGET_CHUNK_SECONDS)),
                 rest_units)
    fixed = chunks * m.per_chunk
    assembly = rest_units * ASSEMBLY_SECONDS_PER_UNIT.get(kind, 1e-6)
    threads = threads_for(m, n_jobs, rest_units)
    on_threads = (THREAD_POOL_START_SECONDS + max(work * m.cpu_share, work / threads) + fixed
                  + chunks * DISPATCH_SECONDS["threads"] + assembly)
    results = (m.results_seconds or 0.0) / max(m.units, 1) * rest_units
    on_processes = ((0.0 if pool_warm else POOL_START_SECONDS)
                    + (work + fixed) / (n_jobs * PROCESS_EFFICIENCY)
                    + chunks * DISPATCH_SECONDS["processes"]
                    + rest_bytes / TRANSFER_BYTES_PER_SECOND + results + assembly)
    return {"pandas": work, "threads": on_threads, "processes": on_processes}


def threads_for(measurement: Measurement, n_jobs: int, rest_units: int) -> int:
    """Threads for the rest of a call: ``n_jobs``, or more, up to :data:`MAX_THREADS`, when
    the function waits: twice as many as would keep the GIL busy if waits were even (they are
    not; measured on W4b, a 2 ms sleep: 17 threads took 0.32 s, 32 threads 0.17 s)."""
    m = measurement
    if not m.waits:
        return n_jobs
    wanted = 2 * math.ceil(m.wall / m.cpu) if m.cpu > 0 else MAX_THREADS
    return max(n_jobs, min(wanted, MAX_THREADS, rest_units))


def choose(plan: Plan, n_units: int, measurement: Measurement, nbytes: int = 0,
           weights: Sequence[int] | np.ndarray | None = None, pool_warm: bool = False) -> Plan:
    """The automatic backend's choice for the units after the measured ones, with the chunks
    cut for it; the plan records the measurement and the estimates.

    A named backend is kept; only its chunks are sized.
    """
    m = measurement
    probed = m.units
    rest = n_units - probed
    plan = dataclasses.replace(plan, measurement=m, probed=probed,
                               unit_seconds=m.wall / m.units if m.units else None)
    if plan.backend != "auto":
        return size_chunks(plan, n_units, m, nbytes, weights)
    if rest <= 0:
        return dataclasses.replace(plan, backend="pandas", n_jobs=1, bounds=(),
                                   reason="every unit ran while measuring")
    rest_bytes = nbytes * rest / max(n_units, 1)
    estimates = estimate(plan.kind, rest, _rest_weight(probed, n_units, weights), m,
                         rest_bytes, plan.n_jobs, pool_warm)
    parallel = min(("threads", "processes"), key=estimates.__getitem__)
    speedup = estimates["pandas"] / estimates[parallel] if estimates[parallel] > 0 else 1.0
    ordered = tuple(sorted(estimates.items(), key=lambda item: item[1]))
    plan = dataclasses.replace(plan, estimates=ordered)
    pays = estimates[parallel] <= PARALLEL_MARGIN * estimates["pandas"]
    starts_pool = not pays and not pool_warm and _pool_pays_later(estimates)
    if starts_pool:
        parallel = "processes"
        speedup = estimates["pandas"] / estimates[parallel]
    elif not pays:
        return dataclasses.replace(
            plan, backend="pandas", n_jobs=1, bounds=(),
            reason=f"a pool would not pay (the best, {parallel}, is estimated at "
                   f"{_seconds(estimates[parallel])} against {_seconds(estimates['pandas'])} "
                   "in the calling process)")
    n_jobs = threads_for(m, plan.n_jobs, rest) if parallel == "threads" else plan.n_jobs
    why = ("the function waits (CPU time well below wall time): threads"
           if parallel == "threads" and m.waits else f"{parallel}")
    reason = f"{why}, estimated {speedup:.2f}x faster than serial"
    if starts_pool:
        reason = (f"processes: the worker processes start in this call (estimated "
                  f"{speedup:.2f}x serial's speed), and calls like it that follow find them "
                  "warm")
    plan = dataclasses.replace(plan, backend=parallel, n_jobs=n_jobs, reason=reason)
    return size_chunks(plan, n_units, m, nbytes, weights)


def _pool_pays_later(estimates: dict[str, float]) -> bool:
    """True when a call that a cold pool would not speed up enough is worth starting the pool
    for all the same: warm (without :data:`POOL_START_SECONDS`), the pool would clearly pay,
    and starting it costs this call at most a share :data:`PARALLEL_MARGIN` more than
    staying serial.

    A pool that is never started is never warm: a program repeating a call of a few seconds
    would run every one of them serially, each too short to pay for the start alone. Once
    started, the pool stays warm for the calls that follow.
    """
    serial, cold = estimates["pandas"], estimates["processes"]
    return (cold * PARALLEL_MARGIN <= serial
            and cold - POOL_START_SECONDS <= PARALLEL_MARGIN * serial)


def _rest_weight(probed: int, n_units: int,
                 weights: Sequence[int] | np.ndarray | None) -> float:
    if weights is not None:
        return float(_unit_weights(weights)[probed:].sum())
    return float(n_units - probed)


def size_chunks(plan: Plan, n_units: int, measurement: Measurement, nbytes: int = 0,
                weights: Sequence[int] | np.ndarray | None = None) -> Plan:
    """Cut the units after the measured ones into chunks, from the measured cost (or of the
    caller's chunk size).

    ``nbytes`` is the size of the whole input. With ``weights`` (groups) the cost is taken as
    proportional to the weight (rows) of each group and the chunks are balanced by weight.
    """
    m = measurement
    probed = m.units
    rest = n_units - probed
    if rest <= 0:
        return dataclasses.replace(plan, bounds=(), probed=probed)
    if plan.chunksize is not None:
        bounds = tuple((probed + a, probed + b) for a, b in even_bounds(rest, plan.chunksize))
        return dataclasses.replace(plan, bounds=bounds, probed=probed, measurement=m)
    work = m.per_weight * _rest_weight(probed, n_units, weights)
    rest_bytes = nbytes * rest / max(n_units, 1)
    dispatch = DISPATCH_SECONDS.get(plan.backend, OTHER_DISPATCH_SECONDS) + m.per_chunk
    if plan.backend != "threads":
        dispatch += rest_bytes / TRANSFER_BYTES_PER_SECOND / max(rest, 1)

    by_work = math.ceil(work / TARGET_CHUNK_SECONDS)
    by_overhead = math.floor(work / (dispatch / MAX_OVERHEAD)) if dispatch > 0 else rest
    by_bytes = math.ceil(rest_bytes / MAX_CHUNK_BYTES)
    n_chunks = max(CHUNKS_PER_WORKER * plan.n_jobs, by_work)
    n_chunks = max(min(n_chunks, by_overhead), plan.n_jobs)
    # whole rounds: 3 chunks on 2 workers take as long as 4, with 2/3 of the work in 2 rounds
    n_chunks = max(n_chunks - n_chunks % plan.n_jobs, by_bytes)
    n_chunks = min(n_chunks, rest)
    shares = None
    if (n_chunks >= 2 * plan.n_jobs and 4 * n_chunks <= by_overhead
            and n_chunks + 2 * plan.n_jobs <= rest):
        # the quarter chunks still keep dispatch below MAX_OVERHEAD of their run time
        shares = tapered_shares(n_chunks, plan.n_jobs)
    if weights is not None:
        local = weighted_bounds(np.asarray(weights)[probed:], n_chunks, shares)
    elif shares is not None:
        local = shared_bounds(rest, shares)
    else:
        local = even_bounds(rest, math.ceil(rest / n_chunks))
    bounds = tuple((probed + a, probed + b) for a, b in local)
    return dataclasses.replace(plan, bounds=bounds, probed=probed, measurement=m,
                               unit_seconds=m.wall / max(m.units, 1))


_last_plan: contextvars.ContextVar[Plan | None] = contextvars.ContextVar("pdpar_last_plan",
                                                                        default=None)
_planning: contextvars.ContextVar[bool] = contextvars.ContextVar("pdpar_planning",
                                                                 default=False)
_jit_note: contextvars.ContextVar[str | None] = contextvars.ContextVar("pdpar_jit_note",
                                                                       default=None)


class Planned(BaseException):
    """Raised to end a call once its plan is made, when only the plan was asked for.

    A BaseException, so that no ``except Exception`` in pandas or in a user's code between
    the call and :func:`planning` can swallow it.
    """

    def __init__(self, plan: Plan) -> None:
        super().__init__(plan)
        self.plan = plan


def decided(plan: Plan) -> Plan:
    """Record ``plan`` as the last plan of this thread (or task); when only the plan was asked
    for, end the call here (:class:`Planned`). Logged at DEBUG level."""
    note = _jit_note.get()
    if note and plan.backend != "jit":
        plan = dataclasses.replace(plan, jit=note)
    _last_plan.set(plan)
    if logger.isEnabledFor(logging.DEBUG):  # explain() formats text: only when logged
        logger.debug("%s", plan.explain())
    if _planning.get():
        raise Planned(plan)
    return plan


def last_plan() -> Plan | None:
    """The plan of the last pdpar call made in this thread (or task), or None.

    >>> import pandas as pd, pdpar
    >>> _ = pd.Series([1, 2, 3]).par.map(str)
    >>> print(pdpar.last_plan())
    Plan(3 elements: plain pandas in the calling process; str functions go to pandas directly)
    """
    return _last_plan.get()


@contextlib.contextmanager
def call_notes() -> Iterator[None]:
    """A pdpar call: notes made during it (:func:`jit_declined`) end with it."""
    token = _jit_note.set(None)
    try:
        yield
    finally:
        _jit_note.reset(token)


def jit_declined(reason: str) -> None:
    """Note, for this call's plan, why the function was not compiled."""
    _jit_note.set(reason)


#: Seconds per unit pandas spends in its own loop around a trivial function, serially, here:
#: the least the Python path of a call can cost (raw rows, named rows, elements, groups).
PYTHON_UNIT_SECONDS = {"raw rows": 2.5e-6, "rows": 7e-6, "columns": 7e-6, "elements": 0.25e-6,
                       "groups": 12e-6}

#: Compiling a new function and its loop (measured here: 0.2-0.5 s), and importing numba the
#: first time (0.5 s more).
COMPILE_SECONDS = 0.4
NUMBA_IMPORT_SECONDS = 0.5

#: Fewest units per chunk of a compiled loop: compiled units take nanoseconds, a chunk's
#: dispatch to a thread tens of microseconds.
JIT_MIN_CHUNK_UNITS = 4096


def jit_pays(kind: str, n_units: int, n_jobs: int, cached: bool) -> str | None:
    """Why ``jit="auto"`` should not compile this call (None: compile it).

    A function compiled before costs nothing more to compile, so it runs compiled. A new one
    is compiled when the least the Python path could take (pandas' own loop around a trivial
    function, on every worker) is more than compiling it would.
    """
    if cached:
        return None
    import sys

    compile_seconds = COMPILE_SECONDS + (0 if "numba" in sys.modules else NUMBA_IMPORT_SECONDS)
    least = n_units * PYTHON_UNIT_SECONDS[kind] / max(1, n_jobs)
    if least < compile_seconds:
        return (f"too few {kind.split()[-1]} to pay for compiling: the Python path takes at "
                f"least {_seconds(least)}, compiling about {_seconds(compile_seconds)}")
    return None


#: Units (rows, for groups) of a compiled loop timed in the caller before the rest is shared
#: out, and the least work left for which threads pay (below it, one thread finishes: a
#: compiled loop that only streams through memory gains nothing from a second thread here).
JIT_PROBE_UNITS = 4096
JIT_THREADS_SECONDS = 0.02


def jit_probe(first: int, stop: int, weights: np.ndarray | None = None) -> int:
    """Where the timed first units of a compiled loop over ``[first, stop)`` end."""
    if weights is None:
        return min(stop, first + JIT_PROBE_UNITS)
    cum = np.cumsum(weights[first:stop])
    return first + min(stop - first, int(np.searchsorted(cum, JIT_PROBE_UNITS)) + 1)


def jit_threads(n_jobs: int, timed_units: int, seconds: float, rest_units: int) -> tuple[int, str]:
    """Threads for the rest of a compiled loop, and why, from the time its first units took."""
    if n_jobs == 1:
        return 1, "compiled with numba; one thread, in the calling process"
    if not timed_units:
        return n_jobs, f"compiled with numba; chunks run on {n_jobs} threads of the calling process"
    rest = seconds / timed_units * rest_units
    if rest < JIT_THREADS_SECONDS:
        return 1, (f"compiled with numba; the rest is estimated at {_seconds(rest)}, too "
                   "little for threads to pay: one thread, in the calling process")
    return n_jobs, (f"compiled with numba; the rest is estimated at {_seconds(rest)}: chunks "
                    f"run on {n_jobs} threads of the calling process")


def jit_bounds(first: int, stop: int, n_jobs: int, chunksize: int | None,
               weights: np.ndarray | None = None) -> tuple[tuple[int, int], ...]:
    """The chunks of a compiled loop over units ``[first, stop)``: the caller's chunk size,
    else :data:`CHUNKS_PER_WORKER` per thread, of at least :data:`JIT_MIN_CHUNK_UNITS`
    units (rows, for groups)."""
    n = stop - first
    if n <= 0:
        return ()
    if chunksize is not None:
        return tuple((first + a, first + b) for a, b in even_bounds(n, chunksize))
    total = float(np.sum(weights[first:stop])) if weights is not None else float(n)
    n_chunks = max(1, min(n_jobs * CHUNKS_PER_WORKER, int(total // JIT_MIN_CHUNK_UNITS)))
    if n_jobs == 1:
        n_chunks = 1
    if weights is not None:
        return tuple((first + a, first + b)
                     for a, b in weighted_bounds(weights[first:stop], n_chunks))
    size = -(-n // n_chunks)
    return tuple((first + a, first + b) for a, b in even_bounds(n, size))


@contextlib.contextmanager
def planning() -> Iterator[None]:
    """Inside this block, pdpar calls stop as soon as their plan is made (:class:`Planned`)."""
    token = _planning.set(True)
    try:
        yield
    finally:
        _planning.reset(token)
