"""The costs and thresholds every policy decision is computed from, as one value.

:data:`COSTS` holds figures measured on a 2-CPU virtual machine (the docstring of
:class:`Costs` gives the measurements). :func:`costs`, the costs in force, corrects them with
what this process has measured as it ran: the start-up of pdpar's worker processes, as the last
start took here (:func:`pdpar.run.processes.measured_start`). Tests and experiments may swap
the whole value with :func:`using`.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ..run.processes import measured_start

__all__ = ["Costs", "COSTS", "costs", "using"]


def _frozen(**values: float) -> Mapping[str, float]:
    return MappingProxyType(values)


@dataclass(frozen=True)
class Costs:
    """What the planner knows about this machine and about pandas' own loops.

    Chunks (:mod:`.bounds`):
        chunks_per_worker: fewest chunks per worker when the chunk size is automatic, so that
            one slow chunk (data skew) cannot leave the other workers idle.
        target_chunk_seconds: work per chunk aimed at when there is plenty: long enough that
            dispatch is negligible, short enough that the last chunks finish together.
        max_overhead: largest share of a chunk's run time its dispatch may cost.
        max_chunk_bytes: most input bytes per chunk, so that the chunks in flight keep memory
            bounded.

    Measuring the function (:func:`.bounds.next_probe`):
        probe_seconds: the calling process measures the function on small chunks until they
            have taken this long.
        probe_growth: a measuring chunk has at most this many times the units measured before.
        wait_probe_seconds: a function that seems to wait is measured for up to this long,
            to see it on ``wait_evidence_units`` units.
        small_call_seconds: a call whose whole work is estimated below this runs in the caller
            without measuring more.
        competing_scan_seconds: on a busy machine, a call whose rest is estimated above this
            reads which running processes are niced above it (they are no load for it;
            :func:`pdpar.competing.competing_share`; reading them took 7-11 ms with 150 processes).

    Running the rest (:mod:`.policy`):
        dispatch_seconds: dispatching one chunk on a warm pool, by backend (dask: a local
            cluster's scheduler round trip); ``other_dispatch_seconds`` for any other backend.
        transfer_bytes_per_second: the rate at which a chunk's bytes reach a worker process.
        pool_start_seconds: starting the worker processes when no warm pool is there
            (measured here: 0.5-0.9 s; replaced by the start last seen in this process).
        process_efficiency: work a process worker gets done per second of one core's serial
            work when all workers run at once (measured here between 0.7 and 1.0 depending on
            the minute: on a shared host, two workers can each run the same pandas code up to
            45% slower than one alone).
        assembly_seconds_per_unit: seconds per unit the calling process spends assembling
            results that came from chunks, beyond what pandas spends in a serial call
            (measured with a trivial function), by unit.
        thread_pool_start_seconds: starting a thread pool for a call.
        max_threads: threads for a function that waits: more than the CPUs, up to this many.
        waiting_cpu_share: a function whose calling-thread CPU time is below this share of
            its wall time waits, if that was seen on at least ``wait_evidence_units`` units
            (one slow unit, a first import or a page fault, is no evidence).
        parallel_margin: the automatic backend leaves the caller only for an estimate at most
            this share of the serial estimate: estimates are rough, and a pool that barely
            wins is not worth it.

    Compiling (numba):
        python_unit_seconds: seconds per unit pandas spends in its own loop around a trivial
            function, serially: the least the Python path of a call can cost, by loop.
        compile_seconds: compiling a new function and its loop (measured: 0.2-0.5 s);
            ``numba_import_seconds`` more the first time numba is imported.
        jit_min_chunk_units: fewest units per chunk of a compiled loop: compiled units take
            nanoseconds, a chunk's dispatch to a thread tens of microseconds.
        jit_probe_units: units (rows, for groups) of a compiled loop timed in the caller before
            the rest is shared out.
        jit_threads_seconds: the least work left for which threads pay (below it, one thread
            finishes: a compiled loop that only streams through memory gains nothing from a
            second thread here).
    """

    chunks_per_worker: int = 4
    target_chunk_seconds: float = 0.25
    max_overhead: float = 0.05
    max_chunk_bytes: int = 64 << 20

    probe_seconds: float = 0.02
    probe_growth: int = 32
    wait_probe_seconds: float = 0.1
    small_call_seconds: float = 0.005
    competing_scan_seconds: float = 0.5

    dispatch_seconds: Mapping[str, float] = field(
        default_factory=lambda: _frozen(threads=0.0002, processes=0.0015, dask=0.015))
    other_dispatch_seconds: float = 0.005
    transfer_bytes_per_second: float = 1e9
    pool_start_seconds: float = 0.8
    process_efficiency: float = 0.8
    assembly_seconds_per_unit: Mapping[str, float] = field(
        default_factory=lambda: _frozen(elements=0.4e-6, rows=0.5e-6, columns=2e-6,
                                        groups=3e-6))
    thread_pool_start_seconds: float = 0.001
    max_threads: int = 32
    waiting_cpu_share: float = 0.5
    wait_evidence_units: int = 3
    parallel_margin: float = 0.9

    python_unit_seconds: Mapping[str, float] = field(
        default_factory=lambda: _frozen(**{"raw rows": 2.5e-6, "rows": 7e-6, "columns": 7e-6,
                                           "elements": 0.25e-6, "groups": 12e-6}))
    compile_seconds: float = 0.4
    numba_import_seconds: float = 0.5
    jit_min_chunk_units: int = 4096
    jit_probe_units: int = 4096
    jit_threads_seconds: float = 0.02

    def dispatch(self, backend: str) -> float:
        """Seconds to dispatch one chunk on ``backend``."""
        return self.dispatch_seconds.get(backend, self.other_dispatch_seconds)


#: The costs as documented, before anything is measured here.
COSTS = Costs()
_current = [COSTS]
_pinned = [False]


def costs() -> Costs:
    """The costs in force: :data:`COSTS` with what this process has measured since (unless
    :func:`using` pins them)."""
    current = _current[0]
    if _pinned[0]:
        return current
    start = measured_start()
    if start is not None and start != current.pool_start_seconds:
        current = _current[0] = dataclasses.replace(current, pool_start_seconds=start)
    return current


@contextlib.contextmanager
def using(value: Costs) -> Iterator[Costs]:
    """Plan with exactly ``value`` inside the block (for tests and experiments)."""
    saved = _current[0], _pinned[0]
    _current[0], _pinned[0] = value, True
    try:
        yield value
    finally:
        _current[0], _pinned[0] = saved
