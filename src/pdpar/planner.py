"""Every policy decision of a call: which backend, how many workers, where chunks begin and end.

Nothing else in pdpar decides these. The kinds describe their input as a number of units (rows,
columns, elements or groups, with a weight per group), and get back a :class:`Plan`.

The automatic backend is, for now, a size rule: inputs with fewer units than
:data:`AUTO_MIN_UNITS` for their kind run as plain pandas in the caller (no pool, no copies);
larger ones run on processes. A single usable CPU always means plain pandas.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .errors import JitError
from .options import Options

__all__ = ["Plan", "plan_call", "usable_cpu_count", "resolve_n_jobs", "AUTO_MIN_UNITS"]

#: Below this many units the automatic backend runs plain pandas in the caller.
AUTO_MIN_UNITS = {"rows": 20_000, "columns": 64, "elements": 200_000, "groups": 256}

#: Chunks per worker when the chunk size is automatic: enough that one slow chunk does not
#: leave the other workers idle.
CHUNKS_PER_WORKER = 4


@dataclass(frozen=True)
class Plan:
    """What a call will run: the backend, its workers, and the chunks as unit ranges."""

    kind: str
    backend: str
    n_jobs: int
    bounds: tuple[tuple[int, int], ...]
    reason: str

    @property
    def n_chunks(self) -> int:
        return len(self.bounds)

    @property
    def direct(self) -> bool:
        """True when the call runs as plain pandas in the caller, without chunks."""
        return self.backend == "pandas"

    def __str__(self) -> str:
        if self.direct:
            return f"Plan({self.kind}: plain pandas in the caller; {self.reason})"
        return (f"Plan({self.kind}: {self.backend}, n_jobs={self.n_jobs}, "
                f"{self.n_chunks} chunks; {self.reason})")


def usable_cpu_count() -> int:
    """CPUs this process may use: affinity and cgroup quotas (through loky), at least 1."""
    from joblib import cpu_count

    return max(1, int(cpu_count()))


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
        bounds = even_bounds(n_units, options.chunksize)
    else:
        n_chunks = 1 if backend == "serial" else min(n_units, CHUNKS_PER_WORKER * n_jobs)
        if weights is not None:
            bounds = weighted_bounds(weights, n_chunks)
        else:
            bounds = even_bounds(n_units, max(1, math.ceil(n_units / max(n_chunks, 1))))
    return Plan(kind, backend, n_jobs, bounds, reason)
