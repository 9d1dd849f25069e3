"""Running the workloads of ``python -m pdpar bench`` and timing them.

What a run is made of: the methods (:data:`METHODS`), the scales (:data:`SCALES`) and the
workloads (:data:`WORKLOADS`) it runs, a :class:`Result` per workload, size and method, and the
:class:`Run` that holds them with the workloads as they were and what they ran on.
:func:`run_bench` times every method against serial pandas and checks each result against
pandas'; :func:`measure` does so at a scale and notes how busy the machine was.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import math
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO

import pdpar

from ..workloads import WORKLOADS as ALL_WORKLOADS
from ..workloads import Workload, assert_same, timed
from .machine import MachineWatch, machine_line, machine_state, state_line

__all__ = ["METHODS", "SCALES", "WORKLOADS", "Described", "Shown", "Result", "Run",
           "run_bench", "measure", "best_of"]

#: pdpar's methods and the options each passes to ``par(...)``. Serial pandas is the reference.
METHODS: dict[str, dict[str, Any]] = {
    "threads": {"backend": "threads"},
    "processes": {"backend": "processes"},
    "jit": {"backend": "auto", "jit": True},
    "auto": {"backend": "auto"},
}

#: Scales: the runs per measurement (the best is kept); each workload's ``sizes`` give its sizes
#: at each. ``small`` runs in well under a minute on 2 cores.
SCALES: dict[str, int] = {"small": 1, "medium": 3, "large": 3}

#: The workloads that have sizes for these scales: W1, W2, W3, W4b and W5.
WORKLOADS: tuple[Workload, ...] = tuple(
    w for w in ALL_WORKLOADS.values() if set(SCALES) <= set(w.sizes))


class Described(Protocol):
    """What the table and the plot need of a workload: a :class:`Workload`, or the description
    of one that a saved run keeps."""

    @property
    def key(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def unit(self) -> str: ...


@dataclass(frozen=True)
class Shown:
    """A workload as a saved run describes it (its definition may have changed since)."""

    key: str
    title: str
    unit: str


@dataclass
class Result:
    """One workload at one size, by one method (``"pandas"`` for serial pandas)."""

    workload: str
    size: int
    method: str
    seconds: float | None = None  # best run; None when the method is not available
    speedup: float | None = None  # serial pandas' time / this time
    ran: str = ""  # what pdpar's fastest run ran (its plan's backend)
    unavailable: str = ""  # why the method is n/a
    differs: str = ""  # how the result differed from pandas', if it did
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Run:
    """A run of the command: its results, its workloads as they were, and what it ran on
    (``meta``: the date, the command, the machine line, the scale's repeats, the machine's
    state at the start and during the run; ``note`` for anything else a reader should know)."""

    scale: str
    results: list[Result]
    workloads: list[Shown]
    meta: dict[str, Any] = field(default_factory=dict)


def _call(workload: Workload, obj: Any) -> Any:
    """The workload's pandas call on ``obj``: its data, or the data's ``par`` accessor, which
    takes the same call."""
    return workload.op.pandas(obj)


def _difference(expected: Any, got: Any) -> str:
    """Empty when ``got`` equals ``expected`` exactly (values, dtypes, index, names)."""
    try:
        assert_same(got, expected)
    except AssertionError as exc:
        return str(exc).strip().splitlines()[0]
    return ""


def run_bench(scale: str = "small", workloads: Sequence[Workload] = WORKLOADS,
              log: TextIO | None = sys.stderr) -> list[Result]:
    """Run every workload at the sizes of ``scale`` with serial pandas and each of
    :data:`METHODS`; return one :class:`Result` per workload, size and method.

    Every method first runs each workload once, untimed, on its smallest input: the process
    pool starts and a function is compiled there, as in a long-running program, so the times
    are those of warm calls.
    """
    repeats = SCALES[scale]
    results: list[Result] = []
    for workload in workloads:
        with workload.make_data(min(workload.sizes[scale])) as data:
            _warm_up(workload, data)
        for size in workload.sizes[scale]:
            with workload.make_data(size) as data:
                expected, base = timed(functools.partial(_call, workload, data), repeats)
                results.append(Result(workload.key, size, "pandas", base, 1.0))
                for method, options in METHODS.items():
                    results.append(_run_method(workload, data, size, method, options, expected,
                                               base, repeats))
            if log is not None:
                print(f"  {workload.key}: {size:,} {workload.unit} done", file=log, flush=True)
    return results


def _warm_up(workload: Workload, data: Any) -> None:
    _call(workload, data)
    for options in METHODS.values():
        with contextlib.suppress(pdpar.JitError):  # reported when the method is timed
            _call(workload, data.par(**options))


def _run_method(workload: Workload, data: Any, size: int, method: str,
                options: dict[str, Any], expected: Any, base: float, repeats: int) -> Result:
    """The best of ``repeats`` runs; ``ran`` is what the plan of that run chose, and
    ``extra["ran_each"]`` what each run chose (``auto`` may choose differently each time)."""
    result = Result(workload.key, size, method)
    ran_each = []
    for _ in range(repeats):
        try:
            got, seconds = timed(lambda: _call(workload, data.par(**options)))
        except pdpar.JitError as exc:
            result.unavailable = f"{type(exc).__name__}: {_one_line(str(exc))}"
            return result
        plan = pdpar.last_plan()
        ran_each.append(plan.backend if plan is not None else "")
        if result.seconds is None or seconds < result.seconds:
            result.seconds = seconds
            result.ran = ran_each[-1]
        result.differs = result.differs or _difference(expected, got)
    assert result.seconds is not None
    result.speedup = base / result.seconds if result.seconds > 0 else math.inf
    result.extra["ran_each"] = ran_each
    return result


_TERMINAL_CODES = re.compile(r"\x1b\[[0-9;]*m")


def _one_line(message: str, width: int = 200) -> str:
    """A message on one line without terminal colour codes, cut to ``width`` characters."""
    text = " ".join(_TERMINAL_CODES.sub("", message).split())
    return text if len(text) <= width else text[:width - 3] + "..."


def best_of(scale: str, meta: dict[str, Any] | None) -> int:
    """The runs each measurement took, the best of which it kept: a saved run's, or those of
    ``scale``."""
    return int((meta or {}).get("repeats", SCALES.get(scale, 1)))


def measure(scale: str, command: str) -> Run:
    """Run every workload at ``scale``, and note what it ran on and how busy the machine was."""
    print(machine_line(), file=sys.stderr, flush=True)
    meta: dict[str, Any] = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": command or f"python -m pdpar bench --scale {scale}",
        "machine": machine_line(), "repeats": SCALES[scale],
        "workloads_source": "pdpar.workloads", "state_start": machine_state()}
    print(state_line(meta["state_start"], "at the start"), file=sys.stderr, flush=True)
    watch = MachineWatch()
    try:
        results = run_bench(scale)
        meta["during"] = watch.stop()
    finally:
        pdpar.shutdown()
    meta["state_end"] = machine_state()
    return Run(scale, results, _shown(WORKLOADS), meta)


def _shown(workloads: Sequence[Described]) -> list[Shown]:
    return [Shown(w.key, w.title, w.unit) for w in workloads]
