"""Where chunks begin and end: the measuring chunks run in the caller, the chunks of the rest
of a call, and the chunks of a compiled loop. Groups are whole, many per chunk, balanced by
rows."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from .costs import costs
from .model import Measurement, Plan

__all__ = ["even_bounds", "weighted_bounds", "shared_bounds", "tapered_shares", "next_probe",
           "rest_weight", "size_chunks", "jit_probe", "jit_bounds"]


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


def next_probe(plan: Plan, n_units: int, measurement: Measurement,
               weights: Sequence[int] | np.ndarray | None = None) -> int:
    """Units in the next measuring chunk run in the caller, or 0 when measuring is over.

    ``measurement`` holds the chunks measured so far. The chunks grow from one unit, as fast as
    the time left for measuring (:attr:`Costs.probe_seconds`) allows, and together stay below a
    quarter of one chunk of the rest. The automatic backend always measures at least one
    unit. A function that seems to wait is measured on enough units to tell
    (:attr:`Costs.wait_evidence_units`, within :attr:`Costs.wait_probe_seconds`). A compiled
    loop is timed on one chunk of :attr:`Costs.jit_probe_units` units (rows, for groups:
    ``weights``).
    """
    c = costs()
    m = measurement
    if plan.compiled:
        return 0 if m.units else jit_probe(0, n_units, None if weights is None
                                           else np.asarray(weights))
    done, seconds = m.units, m.wall
    limit = n_units // (4 * c.chunks_per_worker * plan.n_jobs)
    if plan.backend == "auto":
        limit = max(limit, 1)
        if done >= 4 and seconds / done * n_units < c.small_call_seconds:
            return 0  # the whole call is too short for any pool: no need to measure more
    if 0 < done < min(c.wait_evidence_units, limit) and m.cpu_share < c.waiting_cpu_share \
            and seconds < c.wait_probe_seconds:
        return c.wait_evidence_units - done  # it seems to wait: enough units to tell
    if done >= limit or seconds >= c.probe_seconds:
        return 0
    if done == 0:
        return 1
    # As many units as the time left allows. Each chunk pays pandas' set-up of the call again
    # (0.3-1 ms), so a few large chunks measure as well as many small ones, for less; from two
    # chunks on, that set-up is told apart from the time per unit. Measuring stops when the
    # time left holds fewer units than were measured: a chunk that small adds little to the
    # measurement, and one larger would run over the time while the workers wait.
    per_unit = m.per_weight * m.weight / done
    fits = int((c.probe_seconds - seconds - m.per_chunk) / per_unit) if per_unit > 0 else limit
    if fits < done:
        return 0
    size = min(fits, c.probe_growth * done, limit - done)
    if limit - done - size < size and limit - done <= fits:  # no short chunk after this one
        size = limit - done
    return size


def rest_weight(probed: int, n_units: int,
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
    c = costs()
    m = measurement
    probed = m.units
    rest = n_units - probed
    if rest <= 0:
        return dataclasses.replace(plan, bounds=(), probed=probed)
    if plan.chunksize is not None:
        bounds = tuple((probed + a, probed + b) for a, b in even_bounds(rest, plan.chunksize))
        return dataclasses.replace(plan, bounds=bounds, probed=probed, measurement=m)
    work = m.per_weight * rest_weight(probed, n_units, weights)
    rest_bytes = nbytes * rest / max(n_units, 1)
    dispatch = c.dispatch(plan.backend) + m.per_chunk
    if plan.backend != "threads":
        dispatch += rest_bytes / c.transfer_bytes_per_second / max(rest, 1)

    by_work = math.ceil(work / c.target_chunk_seconds)
    by_overhead = math.floor(work / (dispatch / c.max_overhead)) if dispatch > 0 else rest
    by_bytes = math.ceil(rest_bytes / c.max_chunk_bytes)
    n_chunks = max(c.chunks_per_worker * plan.n_jobs, by_work)
    n_chunks = max(min(n_chunks, by_overhead), plan.n_jobs)
    # whole rounds: 3 chunks on 2 workers take as long as 4, with 2/3 of the work in 2 rounds
    n_chunks = max(n_chunks - n_chunks % plan.n_jobs, by_bytes)
    n_chunks = min(n_chunks, rest)
    shares = None
    if (n_chunks >= 2 * plan.n_jobs and 4 * n_chunks <= by_overhead
            and n_chunks + 2 * plan.n_jobs <= rest):
        # the quarter chunks still keep dispatch below c.max_overhead of their run time
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


def jit_probe(first: int, stop: int, weights: np.ndarray | None = None) -> int:
    """Where the timed first units of a compiled loop over ``[first, stop)`` end."""
    c = costs()
    if weights is None:
        return min(stop, first + c.jit_probe_units)
    cum = np.cumsum(weights[first:stop])
    return first + min(stop - first, int(np.searchsorted(cum, c.jit_probe_units)) + 1)


def jit_bounds(first: int, stop: int, n_jobs: int, chunksize: int | None,
               weights: np.ndarray | None = None) -> tuple[tuple[int, int], ...]:
    """The chunks of a compiled loop over units ``[first, stop)``: the caller's chunk size,
    else :attr:`Costs.chunks_per_worker` per thread, of at least :attr:`Costs.jit_min_chunk_units`
    units (rows, for groups)."""
    c = costs()
    n = stop - first
    if n <= 0:
        return ()
    if chunksize is not None:
        return tuple((first + a, first + b) for a, b in even_bounds(n, chunksize))
    total = float(np.sum(weights[first:stop])) if weights is not None else float(n)
    n_chunks = max(1, min(n_jobs * c.chunks_per_worker, int(total // c.jit_min_chunk_units)))
    if n_jobs == 1:
        n_chunks = 1
    if weights is not None:
        return tuple((first + a, first + b)
                     for a, b in weighted_bounds(weights[first:stop], n_chunks))
    size = -(-n // n_chunks)
    return tuple((first + a, first + b) for a, b in even_bounds(n, size))
