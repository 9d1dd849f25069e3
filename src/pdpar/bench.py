"""``python -m pdpar bench``: pdpar's own workloads at several input sizes, against serial pandas.

Five workloads, each one pandas call over generated data: a CPU-bound row function reading
named fields, a light ``Series.map``, a groupby apply, a map that waits 2 ms per element (a
stand-in for I/O), and a numeric function of raw rows. Each runs at a few input sizes with
serial pandas and with pdpar on threads, on processes, with ``jit=True`` and with
``backend="auto"``; every result is checked against pandas' with ``pandas.testing``. The table
gives the best time of a few runs and the speed-up over serial pandas; ``--plot FILE.png``
draws the speed-up against the input size, one panel per workload, to show where parallelism
starts to pay (matplotlib: ``pip install "pdpar[plot]"``).

A method pdpar cannot run in this version (``jit=True`` raises :class:`pdpar.JitError` when
the function cannot be compiled) is shown as ``n/a`` with the reason. The peer libraries are
compared by the benchmark suite of the source repository (``benchmarks/``), not here.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd

import pdpar

from .cpus import usable_cpu_count

__all__ = ["WORKLOADS", "METHODS", "SCALES", "Result", "run_bench", "format_table",
           "draw_speedups", "main"]

SEED = 20240611

# --- the user functions -------------------------------------------------------------------


def row_score(row: pd.Series) -> float:
    """A few microseconds of branching Python over named fields of a row."""
    a = row["a"]
    b = row["b"]
    c = row["c"]
    total = 0.0
    for k in range(1, 9):
        if (a + k) % 3 == 0:
            total += b / k
        else:
            total -= math.sqrt(abs(c) + k)
    return total


def square(x: int) -> int:
    """The lightest function there is: pdpar's overhead shows in full."""
    return x * x


def group_stats(group: pd.DataFrame) -> pd.Series:
    """A handful of statistics of one group, as a Series (one result row per group)."""
    x = group["x"]
    y = group["y"]
    return pd.Series({"x_mean": x.mean(), "x_std": x.std(), "y_range": y.max() - y.min(),
                      "count": float(len(group))})


def wait_2ms(x: int) -> int:
    """2 ms of waiting per element, as a call to a network service would."""
    time.sleep(0.002)
    return x


def raw_row(r: np.ndarray) -> float:
    """Numeric arithmetic on a raw row (an ndarray)."""
    return r[0] * r[1] - r[2] / (1 + abs(r[3]))


# --- the data -----------------------------------------------------------------------------


def _rng() -> np.random.Generator:
    return np.random.default_rng(SEED)


def numeric_frame(rows: int) -> pd.DataFrame:
    rng = _rng()
    return pd.DataFrame({"a": rng.integers(0, 1_000, rows), "b": rng.standard_normal(rows),
                         "c": rng.standard_normal(rows) * 10})


def int_series(elements: int) -> pd.Series:
    return pd.Series(_rng().integers(0, 1_000, elements), name="x")


#: Rows per group of the groupby workload.
ROWS_PER_GROUP = 100


def grouped_frame(groups: int) -> pd.DataFrame:
    rng = _rng()
    rows = groups * ROWS_PER_GROUP
    keys = np.repeat(np.arange(groups), ROWS_PER_GROUP)
    return pd.DataFrame({"g": rng.permutation(keys), "x": rng.standard_normal(rows),
                         "y": rng.random(rows) * 100})


def float_frame(rows: int) -> pd.DataFrame:
    return pd.DataFrame(_rng().standard_normal((rows, 4)), columns=["c0", "c1", "c2", "c3"])


# --- workloads, methods, scales -------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """One pandas call over data of a given size.

    ``call`` receives either the data itself (serial pandas) or its ``par`` accessor with a
    method's options: the accessor mirrors pandas' method names, so one call serves both.
    """

    key: str
    title: str
    unit: str
    make_data: Callable[[int], Any]
    call: Callable[[Any], Any]
    sizes: dict[str, tuple[int, ...]]


WORKLOADS: tuple[Workload, ...] = (
    Workload("W1", "CPU-bound row function: df.apply(row_score, axis=1)", "rows",
             numeric_frame, lambda df: df.apply(row_score, axis=1),
             {"small": (1_000, 4_000, 16_000),
              "medium": (1_000, 3_000, 10_000, 30_000, 100_000),
              "large": (1_000, 10_000, 100_000, 300_000, 1_000_000)}),
    Workload("W2", "light map: s.map(square)", "elements",
             int_series, lambda s: s.map(square),
             {"small": (1_000, 10_000, 100_000),
              "medium": (1_000, 10_000, 100_000, 1_000_000),
              "large": (1_000, 10_000, 100_000, 1_000_000, 10_000_000)}),
    Workload("W3", f"groupby apply: df.groupby('g').apply(group_stats), {ROWS_PER_GROUP} rows "
             "per group", "groups",
             grouped_frame,
             lambda df: df.groupby("g").apply(group_stats, include_groups=False),
             {"small": (25, 100, 400),
              "medium": (30, 100, 300, 1_000, 3_000),
              "large": (100, 1_000, 3_000, 10_000, 30_000)}),
    Workload("W4", "I/O-bound map, 2 ms wait per element: s.map(wait_2ms)", "elements",
             int_series, lambda s: s.map(wait_2ms),
             {"small": (20, 80, 320),
              "medium": (10, 30, 100, 300, 1_000),
              "large": (10, 100, 1_000, 3_000, 10_000)}),
    Workload("W5", "numeric raw row function: df.apply(raw_row, axis=1, raw=True)", "rows",
             float_frame, lambda df: df.apply(raw_row, axis=1, raw=True),
             {"small": (1_000, 10_000, 100_000),
              "medium": (1_000, 10_000, 100_000, 1_000_000),
              "large": (1_000, 10_000, 100_000, 1_000_000, 3_000_000)}),
)

#: pdpar's methods and the options each passes to ``par(...)``. Serial pandas is the reference.
METHODS: dict[str, dict[str, Any]] = {
    "threads": {"backend": "threads"},
    "processes": {"backend": "processes"},
    "jit": {"backend": "auto", "jit": True},
    "auto": {"backend": "auto"},
}

#: Scales: the sizes of each workload (see ``Workload.sizes``) and the runs per measurement
#: (the best is kept). ``small`` runs in well under a minute on 2 cores.
SCALES: dict[str, int] = {"small": 1, "medium": 3, "large": 3}


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


def _timed(call: Callable[[], Any], repeats: int) -> tuple[Any, float]:
    best = math.inf
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - start)
    return result, best


def _difference(expected: Any, got: Any) -> str:
    """Empty when ``got`` equals ``expected`` exactly (values, dtypes, index, names)."""
    try:
        if isinstance(expected, pd.DataFrame):
            pd.testing.assert_frame_equal(got, expected, check_exact=True)
        else:
            pd.testing.assert_series_equal(got, expected, check_exact=True)
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
        _warm_up(workload, workload.make_data(min(workload.sizes[scale])))
        for size in workload.sizes[scale]:
            data = workload.make_data(size)
            expected, base = _timed(functools.partial(workload.call, data), repeats)
            results.append(Result(workload.key, size, "pandas", base, 1.0))
            for method, options in METHODS.items():
                results.append(_run_method(workload, data, size, method, options, expected,
                                           base, repeats))
            if log is not None:
                print(f"  {workload.key}: {size:,} {workload.unit} done", file=log, flush=True)
    return results


def _warm_up(workload: Workload, data: Any) -> None:
    workload.call(data)
    for options in METHODS.values():
        with contextlib.suppress(pdpar.JitError):  # reported when the method is timed
            workload.call(data.par(**options))


def _run_method(workload: Workload, data: Any, size: int, method: str,
                options: dict[str, Any], expected: Any, base: float, repeats: int) -> Result:
    """The best of ``repeats`` runs; ``ran`` is what the plan of that run chose, and
    ``extra["ran_each"]`` what each run chose (``auto`` may choose differently each time)."""
    result = Result(workload.key, size, method)
    ran_each = []
    for _ in range(repeats):
        try:
            got, seconds = _timed(lambda: workload.call(data.par(**options)), 1)
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


def _seconds(value: float) -> str:
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.1f} ms"
    return f"{value * 1e6:.0f} us"


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
            line = f"{size:>10,}  {_seconds(at['pandas'].seconds or 0.0):>9}"
            for method in methods:
                r = at[method]
                if r.seconds is None:
                    text = "n/a"
                    unavailable.setdefault(f"{method}: {r.unavailable}", []).append(
                        f"{workload.key} {size:,}")
                else:
                    text = f"{_seconds(r.seconds)} {r.speedup:5.2f}x"
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
