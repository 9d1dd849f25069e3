"""``python -m pdpar bench``: pdpar's own workloads at several input sizes, against serial pandas.

Five workloads of :mod:`pdpar.workloads`, the ones the benchmark suite of the source repository
(``benchmarks/``) runs under the same keys, each one pandas call over generated data: a CPU-bound
row function reading named fields (W1), a light ``Series.map`` (W2), a groupby apply (W3), a map
that waits 2 ms per element, a stand-in for I/O (W4b), and a numeric function of raw rows (W5).
Each runs at a few input sizes with serial pandas and with pdpar on threads, on processes, with
``jit=True`` and with ``backend="auto"``; every result is checked against pandas' with
``pandas.testing``. The table gives the best time of a few runs and the speed-up over serial
pandas; ``--plot FILE.png`` draws the speed-up against the input size, one panel per workload,
to show where parallelism starts to pay (matplotlib: ``pip install "pdpar[plot]"``).

A method pdpar cannot run in this version (``jit=True`` raises :class:`pdpar.JitError` when
the function cannot be compiled) is shown as ``n/a`` with the reason. The peer libraries are
compared by the benchmark suite, not here.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd

import pdpar

from .cpus import usable_cpu_count
from .workloads import WORKLOADS as ALL_WORKLOADS
from .workloads import Workload, assert_same, format_seconds, timed

__all__ = ["WORKLOADS", "METHODS", "SCALES", "Result", "run_bench", "format_table",
           "draw_speedups", "main"]

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


def _ran(result: Result) -> str:
    """What the best run ran, and what the other runs chose when it was not the same."""
    each = result.extra.get("ran_each", [result.ran])
    others = [ran for ran in each if ran != result.ran]
    if not others:
        return result.ran
    return f"{result.ran} (also {', '.join(sorted(set(others)))}: {len(others)} of {len(each)})"


# --- the table ----------------------------------------------------------------------------


def machine_line() -> str:
    return (f"pdpar {pdpar.__version__}, pandas {pd.__version__}, numpy {np.__version__}, "
            f"Python {sys.version.split()[0]}; {os.cpu_count()} CPUs on the machine, "
            f"{usable_cpu_count()} usable")


def format_table(results: Sequence[Result], scale: str,
                 workloads: Sequence[Workload] = WORKLOADS) -> str:
    """One block per workload: a line per size, each method's time and speed-up over serial
    pandas, and what ``auto`` ran; notes say which methods were not available, and why."""
    methods = list(METHODS)
    cell = 18
    lines = [machine_line(),
             f"scale {scale}: best of {SCALES[scale]} warm call(s); speed-up = serial pandas' "
             "time / the method's time (above 1x is faster than pandas)"]
    unavailable: dict[str, list[str]] = {}
    differs: list[str] = []
    for workload in workloads:
        rows = [r for r in results if r.workload == workload.key]
        if not rows:
            continue
        lines += ["", f"{workload.key}  {workload.title}",
                  f"{workload.unit:>10}  {'pandas':>9}" + "".join(
                      f"  {m:>{cell}}" for m in methods) + "  auto ran"]
        for size in sorted({r.size for r in rows}):
            at = {r.method: r for r in rows if r.size == size}
            line = f"{size:>10,}  {format_seconds(at['pandas'].seconds or 0.0):>9}"
            for method in methods:
                r = at[method]
                if r.seconds is None:
                    text = "n/a"
                    unavailable.setdefault(f"{method}: {r.unavailable}", []).append(
                        f"{workload.key} {size:,}")
                else:
                    text = f"{format_seconds(r.seconds)} {r.speedup:5.2f}x"
                    if r.differs:
                        text += " DIFFERS"
                        differs.append(f"{workload.key} {size:,} {method}: {r.differs}")
                line += f"  {text:>{cell}}"
            lines.append(line + f"  {_ran(at['auto'])}")
    if unavailable:
        lines.append("")
        for reason, where in unavailable.items():
            lines.append(f"n/a {reason} ({_where(where)})")
    lines.append("")
    if differs:
        lines += ["results that differ from pandas':", *differs]
    else:
        lines.append("every result equals pandas' (pandas.testing, exact)")
    return "\n".join(lines)


def _where(where: list[str]) -> str:
    keys = sorted({w.split()[0] for w in where})
    return f"{len(where)} measurement(s) of {', '.join(keys)}"


# --- the plot -----------------------------------------------------------------------------

#: How each method is drawn, in legend order.
STYLES: dict[str, dict[str, Any]] = {
    "auto": {"color": "tab:blue", "linewidth": 2.5, "marker": "o"},
    "threads": {"color": "tab:cyan", "linestyle": "--", "marker": "."},
    "processes": {"color": "tab:purple", "linestyle": "--", "marker": "."},
    "jit": {"color": "tab:green", "linestyle": "-.", "marker": "s"},
}


def require_matplotlib() -> None:
    """Raise ImportError, saying how to install it, when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ImportError(
            "--plot needs matplotlib, an optional dependency of pdpar: "
            "pip install \"pdpar[plot]\" (or pip install matplotlib)") from None


def draw_speedups(results: Sequence[Result], path: Path | str, scale: str,
                  workloads: Sequence[Workload] = WORKLOADS) -> None:
    """Draw the speed-up over serial pandas against the input size, one panel per workload,
    one line per method; serial pandas is the line at 1x. Written as a PNG to ``path``."""
    require_matplotlib()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, NullFormatter, NullLocator

    shown = [w for w in workloads if any(r.workload == w.key for r in results)]
    columns = 3
    rows = math.ceil((len(shown) + 1) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.4 * rows), dpi=110,
                             squeeze=False)
    flat = list(axes.flat)
    for ax, workload in zip(flat, shown):
        ax.axhline(1.0, color="black", linewidth=1.0)
        speedups = [1.0]
        for method, style in STYLES.items():
            points = sorted((r.size, r.speedup) for r in results
                            if r.workload == workload.key and r.method == method
                            and r.speedup is not None)
            if points:
                ax.plot([p[0] for p in points], [p[1] for p in points], **style)
                speedups += [p[1] for p in points]
        ax.set_xscale("log")
        sizes = sorted({r.size for r in results if r.workload == workload.key})
        ax.set_xticks(sizes, [_compact(size) for size in sizes])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_yscale("log", base=2)
        ax.set_yticks(_speedup_ticks(min(speedups), max(speedups)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: _times(y)))
        ax.yaxis.set_minor_locator(NullLocator())
        ax.set_xlabel(workload.unit)
        ax.set_ylabel("speed-up over serial pandas")
        ax.set_title(f"{workload.key}: {_short_title(workload)}", fontsize=9)
        ax.grid(True, which="major", alpha=0.3)
    legend_ax = flat[len(shown)]
    legend_ax.axis("off")
    handles = [legend_ax.plot([], [], color="black", linewidth=1.0)[0]]
    labels = ["serial pandas (1x)"]
    available = {r.method for r in results if r.speedup is not None}
    for method, style in STYLES.items():
        handles.append(legend_ax.plot([], [], **style)[0])
        labels.append(f"pdpar {method}" + ("" if method in available else " (n/a here)"))
    legend_ax.legend(handles, labels, loc="upper left", frameon=False)
    legend_ax.text(0.0, 0.02, _wrap(machine_line(), 48) + f"\nscale {scale}, best of "
                   f"{SCALES[scale]} warm call(s)", transform=legend_ax.transAxes,
                   fontsize=7.5, va="bottom")
    for ax in flat[len(shown) + 1:]:
        ax.axis("off")
    fig.suptitle("Where parallelism pays: pdpar's speed-up over serial pandas by input size")
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def _speedup_ticks(low: float, high: float, most: int = 7) -> list[float]:
    """Powers of two around ``low`` to ``high``, 1x always among them, at most about ``most``
    of them; with 1.5 times each when the range is narrow."""
    first, last = math.floor(math.log2(low)), math.ceil(math.log2(high))
    step = max(1, math.ceil((last - first) / (most - 1)))
    ticks = [2.0 ** k for k in range(first, last + 1) if k % step == 0]
    if last - first <= 3:
        ticks += [1.5 * 2.0 ** k for k in range(first, last)]
    # ticks beyond the data would stretch the axis
    return sorted(t for t in ticks if low / 1.25 <= t <= high * 1.25 or t == 1.0)


def _times(value: float) -> str:
    return f"{value:.0f}x" if value >= 10 else f"{value:.2g}x"


def _compact(number: int) -> str:
    for step, suffix in ((1_000_000, "M"), (1_000, "k")):
        if number >= step and number % (step // 10) == 0:
            return f"{number / step:g}{suffix}"
    return f"{number:,}"


def _short_title(workload: Workload) -> str:
    return workload.title.split(":", 1)[0]


def _wrap(text: str, width: int) -> str:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return "\n".join([*lines, line])


# --- the command --------------------------------------------------------------------------


def main(scale: str, plot: Path | None) -> int:
    """``python -m pdpar bench``: print the table, draw the plot if asked; 1 if any result
    differs from pandas'."""
    if plot is not None:
        try:
            require_matplotlib()
        except ImportError as exc:
            print(f"python -m pdpar bench: {exc}", file=sys.stderr)
            return 2
    print(machine_line(), file=sys.stderr, flush=True)
    try:
        results = run_bench(scale)
    finally:
        pdpar.shutdown()
    print(format_table(results, scale), flush=True)
    if plot is not None:
        draw_speedups(results, plot, scale)
        print(f"wrote {plot}")
    return 1 if any(r.differs for r in results) else 0
