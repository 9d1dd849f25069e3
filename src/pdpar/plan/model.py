"""What a plan is: the measurement a decision starts from, and the :class:`Plan` of a call,
with its explanation in words."""

from __future__ import annotations

from dataclasses import dataclass

from ..cpus import usable_cpu_count
from .costs import costs

__all__ = ["Sample", "Travel", "Measurement", "measured", "Plan", "format_seconds", "singular",
           "counted"]


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
class Travel:
    """What running the rest of a call in worker processes costs besides the work itself,
    measured on the first units (seconds, and bytes).

    ``data_seconds`` per unit and ``chunk_seconds`` per chunk: the chunks' data pickled in the
    caller and unpickled in a worker (the fixed part of a chunk, and the function with its
    arguments when they are small enough to go inside every chunk). ``shared_seconds`` once
    per call: the function with its arguments, when large (``shared_bytes``), written once
    for the workers and loaded once by each. ``results_seconds`` per unit: the results sent
    back. ``refused`` says why worker processes cannot run the call at all (a part of it does
    not pickle).
    """

    data_seconds: float = 0.0
    data_bytes: float = 0.0
    chunk_seconds: float = 0.0
    shared_seconds: float = 0.0
    shared_bytes: int = 0
    results_seconds: float = 0.0
    refused: str | None = None


@dataclass(frozen=True)
class Measurement:
    """The function timed in the calling process on its first units, chunk by chunk.

    Every chunk pays a fixed cost (pandas' own set-up of the call) besides the work per unit;
    the measuring chunks grow geometrically, so the two can be told apart
    (:attr:`per_weight`, :attr:`per_chunk`). ``travel`` is what sending the rest to worker
    processes would cost (None when not measured); ``busy`` how many CPUs other programs were
    asking for meanwhile (None when not known).
    """

    samples: tuple[Sample, ...]
    travel: Travel | None = None
    busy: float | None = None

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
        """True when the function spends most of its time waiting, not computing: on enough
        units that one slow unit (a first import, a page fault) does not decide it, and by a
        margin that grows with what other programs ask of the CPUs (on a busy machine the
        calling thread also waits for a CPU, or for the GIL held by a thread that waits for
        one, which is no waiting of the function's)."""
        c = costs()
        if self.units < c.wait_evidence_units:
            return False
        share = min(1.0, usable_cpu_count() / ((self.busy or 0.0) + 1.0))
        return self.cpu_share < c.waiting_cpu_share * share


def measured(units: int, seconds: float, cpu: float | None = None,
             weight: float | None = None) -> Measurement:
    """A measurement of one chunk (for tests and estimates by hand)."""
    return Measurement((Sample(units, float(units if weight is None else weight), seconds,
                               seconds if cpu is None else cpu),))


@dataclass(frozen=True)
class Plan:
    """What a call runs: where, on how many workers, the chunks as unit ranges, and why.

    ``unit`` is what the call counts: ``"rows"``, ``"columns"``, ``"elements"`` or
    ``"groups"``. ``backend`` is where the work runs: ``"serial"`` (the calling thread),
    ``"threads"``, ``"processes"``, ``"dask"``, ``"ray"`` or another joblib backend's name
    (``"auto"`` only while the choice waits for a measurement). ``plain`` plans leave the call
    (or what is left of it) to pandas as it is, in the calling thread.
    ``probed`` units ran before the chunks, in the calling process (measured, see
    ``measurement``, or run through pandas first); ``bounds`` are the chunks that follow them,
    None until they are sized. ``estimates`` are the estimated seconds of the rest of the call
    per backend, when the automatic backend chose among them. ``chunksize`` is the caller's
    chunk size, if any. ``compiled`` plans run the function compiled by numba, on threads of the
    calling process; ``compile_seconds`` is what compiling took in this call (0 when the
    function was compiled before). ``jit`` says why a call that asked for ``jit="auto"`` was
    not compiled. ``start_seconds`` is what starting the worker processes was estimated to
    cost, when the automatic backend found none running. ``rows``, for ``DataFrame.apply`` over
    rows, is ``"cheap rows"`` when the function gets a light row instead of a Series, else why
    it gets the Series. ``corrections`` are the factors the estimates were scaled by, per
    backend: what the last calls of the same function took against their estimates
    (:mod:`.hindsight`). ``warm_saving`` is what warm worker processes were estimated to save a
    call that stayed in the caller only because none were running (such calls add up, and
    start them once they would have saved what starting costs: :func:`.hindsight.missed`).
    """

    unit: str
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
    compiled: bool = False
    compile_seconds: float | None = None
    jit: str | None = None
    start_seconds: float | None = None
    rows: str | None = None
    corrections: tuple[tuple[str, float], ...] = ()
    warm_saving: float | None = None

    @property
    def n_chunks(self) -> int:
        return len(self.bounds or ())

    @property
    def plain(self) -> bool:
        """True when pandas runs the call (or what is left of it) as it is, in the calling
        thread, without chunks."""
        return self.bounds == () and not self.compiled

    def __str__(self) -> str:
        if self.plain:
            how = "plain pandas in the calling process"
        else:
            how = f"{self.backend}, n_jobs={self.n_jobs}, {self.n_chunks} chunks"
            if self.compiled:
                how = "compiled with numba, " + how
            elif self.rows == "cheap rows":
                how += ", cheap rows"
        return f"Plan({counted(self.n_units, self.unit)}: {how}; {self.reason})"

    def explain(self) -> str:
        """The plan and the measurements and estimates behind it, in a few lines."""
        lines = [str(self)]
        m = self.measurement
        if m is not None and m.units:
            lines.append(
                f"measured: {counted(m.units, self.unit)} in the calling process, "
                f"{format_seconds(m.wall / m.units)} each (CPU {format_seconds(m.cpu / m.units)}"
                f"{', waiting on I/O or with the GIL released' if m.waits else ''})")
            if m.busy is not None:
                lines.append(f"other programs asked for {m.busy:.1f} CPUs meanwhile")
            if m.travel is not None:
                lines.append(_travel_line(m.travel, singular(self.unit)))
        if self.start_seconds is not None:
            lines.append(f"no worker processes running: starting them estimated at "
                         f"{format_seconds(self.start_seconds)} (the caller runs chunks "
                         "meanwhile)")
        if self.estimates:
            lines.append("estimated time for the rest: " + ", ".join(
                f"{name} {format_seconds(seconds)}" for name, seconds in self.estimates))
        if self.corrections:
            lines.append("scaled as the last calls of this function took against their "
                         "estimates: " + ", ".join(
                             f"the work x{factor:.2f} (in the calling process)"
                             if name == "serial" else f"{name} x{factor:.2f}"
                             for name, factor in self.corrections))
        if self.compile_seconds is not None:
            lines.append(f"compiling took {format_seconds(self.compile_seconds)}"
                         + (" (compiled before)" if not self.compile_seconds else ""))
        if self.probed and self.compiled:
            lines.append(f"the first {singular(self.unit)} ran through pandas, to check the "
                         "compiled function against it; its result is part of the result")
        elif self.probed:
            lines.append(f"the first {counted(self.probed, self.unit)} ran in the calling process "
                         "while measuring; their results are part of the result")
        if self.jit:
            lines.append(f"not compiled: {self.jit}")
        if self.rows and not self.compiled:
            lines.append("rows: cheap rows (a light row of the fields the function reads)"
                         if self.rows == "cheap rows" else f"rows: Series, as {self.rows}")
        return "\n".join(lines)


def _travel_line(t: Travel, unit: str) -> str:
    if t.refused:
        return f"worker processes cannot run it: {t.refused}"
    parts = [f"data {format_seconds(t.data_seconds)} per {unit} "
             f"({t.data_bytes:,.0f} bytes) and {format_seconds(t.chunk_seconds)} per chunk",
             f"results {format_seconds(t.results_seconds)} per {unit}"]
    if t.shared_bytes:
        parts.append(f"the function and its arguments ({t.shared_bytes:,} bytes) once per "
                     f"call, {format_seconds(t.shared_seconds)}")
    return "sending to worker processes: " + ", ".join(parts)


def format_seconds(value: float) -> str:
    """``0.0123`` -> ``"12.3 ms"``: three significant digits, in s, ms or us."""
    if value >= 1:
        return f"{value:.3g} s"
    if value >= 1e-3:
        return f"{value * 1e3:.3g} ms"
    return f"{value * 1e6:.3g} us"


def counted(n: int, unit: str) -> str:
    """``3 rows``, ``1 row``."""
    return f"{n} {unit if n != 1 else singular(unit)}"


def singular(unit: str) -> str:
    """"rows" -> "row"."""
    return {"rows": "row", "columns": "column", "elements": "element", "groups": "group",
            "windows": "window"}[unit]
