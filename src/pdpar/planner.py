"""Every policy decision of a call: which backend, how many workers, where chunks begin and end.

Nothing else in pdpar decides these. The kinds describe their input as a number of units (rows,
columns, elements or groups, with a weight per group) and its size in bytes, and get back a
:class:`Plan`.

The automatic backend is, for now, a size rule: inputs with fewer units than
:data:`AUTO_MIN_UNITS` for their kind run as plain pandas in the caller (no pool, no copies);
larger ones run on processes. A single usable CPU always means plain pandas.

Chunk sizes are chosen from a measurement. Unless the caller set ``chunksize``, a parallel call
first runs a few small chunks in the calling process (:func:`next_probe`), which are part of
the result, not a separate trial; their measured time per unit then sizes the remaining chunks
(:func:`size_chunks`):

- at least :data:`CHUNKS_PER_WORKER` chunks per worker, so that one slow chunk (data skew)
  cannot leave the other workers idle;
- about :data:`TARGET_CHUNK_SECONDS` of work per chunk when there is plenty of work, and never
  so little that dispatching a chunk costs more than :data:`MAX_OVERHEAD` of its run time;
- at most :data:`MAX_CHUNK_BYTES` of input per chunk, so that the chunks in flight keep memory
  bounded;
- groups: whole groups, many per chunk, balanced by rows.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .cpus import usable_cpu_count
from .errors import JitError
from .options import Options

__all__ = ["Plan", "plan_call", "next_probe", "size_chunks", "usable_cpu_count",
           "resolve_n_jobs", "AUTO_MIN_UNITS"]

#: Below this many units the automatic backend runs plain pandas in the caller.
AUTO_MIN_UNITS = {"rows": 20_000, "columns": 64, "elements": 200_000, "groups": 256}

#: Fewest chunks per worker when the chunk size is automatic.
CHUNKS_PER_WORKER = 4

#: Work per chunk aimed at when there is plenty: long enough that dispatch is negligible,
#: short enough that the last chunks finish together.
TARGET_CHUNK_SECONDS = 0.25

#: Largest share of a chunk's run time its dispatch may cost.
MAX_OVERHEAD = 0.05

#: Most input bytes per chunk.
MAX_CHUNK_BYTES = 64 << 20

#: Cost of dispatching one chunk, measured on a warm pool here (seconds), and the rate at
#: which the chunk's bytes travel to a worker process (bytes per second).
DISPATCH_SECONDS = {"threads": 0.0002, "processes": 0.0015}
OTHER_DISPATCH_SECONDS = 0.005
TRANSFER_BYTES_PER_SECOND = 1e9

#: The calling process measures the function on small chunks until they have taken this long.
PROBE_SECONDS = 0.02


@dataclass(frozen=True)
class Plan:
    """What a call will run: the backend, its workers, and the chunks as unit ranges.

    ``probed`` units were run in the calling process to measure the function, at
    ``unit_seconds`` per unit; ``bounds`` are the chunks that follow them. ``bounds`` is
    None until the chunks are sized.
    """

    kind: str
    backend: str
    n_jobs: int
    bounds: tuple[tuple[int, int], ...] | None
    reason: str
    probed: int = 0
    unit_seconds: float | None = None

    @property
    def n_chunks(self) -> int:
        return len(self.bounds or ())

    @property
    def direct(self) -> bool:
        """True when the call runs as plain pandas in the caller, without chunks."""
        return self.backend == "pandas"

    def __str__(self) -> str:
        if self.direct:
            return f"Plan({self.kind}: plain pandas in the caller; {self.reason})"
        measured = ""
        if self.unit_seconds is not None:
            measured = (f", {self.probed} {self.kind} measured in the caller at "
                        f"{self.unit_seconds * 1e6:.3g} us each")
        return (f"Plan({self.kind}: {self.backend}, n_jobs={self.n_jobs}, "
                f"{self.n_chunks} chunks{measured}; {self.reason})")


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


def weighted_bounds(weights: Sequence[int] | np.ndarray,
                    n_chunks: int) -> tuple[tuple[int, int], ...]:
    """Split units into ``n_chunks`` contiguous ranges of about equal total weight.

    Used for groups: a chunk holds whole groups, many per chunk, balanced by rows.
    """
    w = np.asarray(weights, dtype=np.float64) + 1.0  # an empty group still costs a call
    n = len(w)
    n_chunks = max(1, min(n_chunks, n))
    cum = np.cumsum(w)
    targets = cum[-1] * np.arange(1, n_chunks) / n_chunks
    cuts = np.searchsorted(cum, targets, side="left") + 1
    edges = np.unique(np.concatenate(([0], np.clip(cuts, 1, n), [n])))
    return tuple((int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]))


def plan_call(kind: str, n_units: int, options: Options,
              weights: Sequence[int] | np.ndarray | None = None,
              work_units: int | None = None) -> Plan:
    """Decide how a call over ``n_units`` units of ``kind`` runs.

    ``weights`` (groups) balances chunks by weight; ``work_units`` is the number of function
    calls when it differs from ``n_units`` (``DataFrame.map`` chunks rows but calls per cell).
    The plan's ``bounds`` are None when the chunks are to be sized by measurement.
    """
    if options.jit is True:
        raise JitError("jit=True: the numba path is not available in this version of pdpar; "
                       "use jit=False or jit='auto' (which runs the Python path)")
    backend = options.backend
    work = n_units if work_units is None else work_units
    n_jobs = resolve_n_jobs(options.n_jobs)
    if backend == "auto":
        if n_jobs == 1:
            return Plan(kind, "pandas", 1, (), "one usable CPU")
        if work < AUTO_MIN_UNITS[kind]:
            return Plan(kind, "pandas", 1, (),
                        f"{work} {kind} is below the {AUTO_MIN_UNITS[kind]} where a pool pays")
        backend, reason = "processes", f"{work} {kind}: large enough for a process pool"
    else:
        reason = "backend named by the caller"

    if options.chunksize is not None:
        # An explicit chunk size counts units (for groups: groups per chunk).
        return Plan(kind, backend, n_jobs, even_bounds(n_units, options.chunksize), reason)
    if backend == "serial":
        return Plan(kind, backend, n_jobs, ((0, n_units),), reason)
    if n_units <= n_jobs:
        return Plan(kind, backend, n_jobs, even_bounds(n_units, 1), reason)
    return Plan(kind, backend, n_jobs, None, reason)


def next_probe(plan: Plan, n_units: int, done: int, seconds: float) -> int:
    """Units in the next measuring chunk run in the caller, or 0 when measuring is over.

    ``done`` units were measured so far, taking ``seconds``. The chunks grow geometrically from
    one unit, and together stay below a share of one chunk of the rest.
    """
    limit = n_units // (2 * CHUNKS_PER_WORKER * plan.n_jobs)
    if done >= limit or seconds >= PROBE_SECONDS:
        return 0
    return min(max(1, 3 * done), limit - done)


def size_chunks(plan: Plan, n_units: int, probed: int, last_units: int, last_seconds: float,
                nbytes: int = 0, weights: Sequence[int] | np.ndarray | None = None) -> Plan:
    """Cut the units after the ``probed`` ones into chunks, from the measured cost.

    The last measuring chunk ran ``last_units`` units in ``last_seconds``; ``nbytes`` is the
    size of the whole input. With ``weights`` (groups) the cost is taken as proportional to the
    weight (rows) of each group and the chunks are balanced by weight.
    """
    rest = n_units - probed
    if rest <= 0:
        return dataclasses.replace(plan, bounds=(), probed=probed)
    if weights is not None:
        w = np.asarray(weights, dtype=np.float64) + 1.0
        per_weight = last_seconds / max(float(w[probed - last_units:probed].sum()), 1.0)
        work = per_weight * float(w[probed:].sum())
    else:
        work = last_seconds / max(last_units, 1) * rest
    unit_seconds = last_seconds / max(last_units, 1)
    rest_bytes = nbytes * rest / max(n_units, 1)
    dispatch = DISPATCH_SECONDS.get(plan.backend, OTHER_DISPATCH_SECONDS)
    if plan.backend != "threads":
        dispatch += rest_bytes / TRANSFER_BYTES_PER_SECOND / max(rest, 1)

    by_work = math.ceil(work / TARGET_CHUNK_SECONDS)
    by_overhead = math.floor(work / (dispatch / MAX_OVERHEAD)) if dispatch > 0 else rest
    by_bytes = math.ceil(rest_bytes / MAX_CHUNK_BYTES)
    n_chunks = max(CHUNKS_PER_WORKER * plan.n_jobs, by_work)
    n_chunks = max(min(n_chunks, by_overhead), plan.n_jobs, by_bytes)
    n_chunks = min(n_chunks, rest)
    if weights is not None:
        local = weighted_bounds(np.asarray(weights)[probed:], n_chunks)
    else:
        local = even_bounds(rest, math.ceil(rest / n_chunks))
    bounds = tuple((probed + a, probed + b) for a, b in local)
    return dataclasses.replace(plan, bounds=bounds, probed=probed, unit_seconds=unit_seconds)
