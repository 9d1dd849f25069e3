"""The plot of ``python -m pdpar bench --plot FILE.png``: the speed-up over serial pandas
against the input size, a panel per workload and one for ``jit=True``.

:func:`draw_speedups` draws it with matplotlib (the ``plot`` extra), on logarithmic axes whose
ticks are the sizes run and powers of two of the speed-up, with a footer saying what the run was
measured on; :func:`require_matplotlib` says how to install matplotlib when it is missing.
:data:`STYLES` and :data:`JIT_COLOURS` are how the lines are drawn.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .machine import machine_line
from .report import wrap
from .run import WORKLOADS, Described, Result, best_of

__all__ = ["STYLES", "JIT_COLOURS", "require_matplotlib", "draw_speedups"]


#: How each method is drawn, in legend order. ``jit`` has a panel of its own: its speed-ups run
#: to hundreds, which would squash the other methods' lines together near 1x.
STYLES: dict[str, dict[str, Any]] = {
    "auto": {"color": "tab:blue", "linewidth": 2.5, "marker": "o"},
    "threads": {"color": "tab:cyan", "linestyle": "--", "marker": "."},
    "processes": {"color": "tab:purple", "linestyle": "--", "marker": "."},
}
#: The jit panel draws one line per workload, in these colours.
JIT_COLOURS = ("tab:green", "tab:orange", "tab:red", "tab:brown", "tab:olive", "tab:pink")


def require_matplotlib() -> None:
    """Raise ImportError, saying how to install it, when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ImportError(
            "--plot needs matplotlib, the plot extra of pdpar: in the checkout, "
            "pip install -e \".[plot]\" (or pip install matplotlib)") from None


def _points(results: Sequence[Result], key: str, method: str) -> list[tuple[int, float]]:
    return sorted((r.size, r.speedup) for r in results
                  if r.workload == key and r.method == method and r.speedup is not None)


def _log_axes(ax: Any, sizes: Sequence[int], speedups: Sequence[float], unit: str) -> None:
    from matplotlib.ticker import FuncFormatter, NullFormatter, NullLocator

    ax.axhline(1.0, color="black", linewidth=1.0)
    ax.set_xscale("log")
    ax.set_xticks(sizes, [_compact(size) for size in sizes])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_yscale("log", base=2)
    low, high = min([1.0, *speedups]), max([1.0, *speedups])
    ax.set_ylim(low / 1.3, high * 1.3)
    ax.set_yticks(_speedup_ticks(low, high))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: _times(y)))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.set_xlabel(unit)
    ax.grid(True, which="major", alpha=0.3)


def draw_speedups(results: Sequence[Result], path: Path | str, scale: str,
                  workloads: Sequence[Described] = WORKLOADS,
                  meta: dict[str, Any] | None = None) -> None:
    """Draw the speed-up over serial pandas against the input size: a panel per workload with
    threads, processes and ``auto`` on a scale of its own, and a panel of ``jit=True`` for the
    workloads it compiles; serial pandas is the line at 1x. Written as a PNG to ``path``, sized
    to be read at the width of a page's text (about 700 pixels) and sharp at twice that.
    ``meta`` is a saved run's, for the line under the plot."""
    require_matplotlib()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [w for w in workloads
             if any(_points(results, w.key, m) for m in STYLES)]
    compiled = [w for w in workloads if _points(results, w.key, "jit")]
    panels = len(shown) + (1 if compiled else 0)
    columns = 2 if panels > 1 else 1
    rows = math.ceil(panels / columns)
    with plt.rc_context({"font.size": 9, "axes.titlesize": 9.5, "axes.labelsize": 9,
                         "xtick.labelsize": 8.5, "ytick.labelsize": 8.5,
                         "legend.fontsize": 8.5}):
        fig, axes = plt.subplots(rows, columns, figsize=(7.2, 2.45 * rows + 1.45), dpi=200,
                                 squeeze=False)
        flat = list(axes.flat)
        for ax, workload in zip(flat, shown):
            sizes = sorted({r.size for r in results if r.workload == workload.key})
            speedups = []
            for method, style in STYLES.items():
                points = _points(results, workload.key, method)
                if points:
                    ax.plot([p[0] for p in points], [p[1] for p in points], **style)
                    speedups += [p[1] for p in points]
            _log_axes(ax, sizes, speedups, workload.unit)
            ax.set_title(f"{workload.key}: {_short_title(workload)}")
        if compiled:
            ax = flat[len(shown)]
            sizes, speedups = [], []
            for colour, workload in zip(JIT_COLOURS * 4, compiled):
                points = _points(results, workload.key, "jit")
                ax.plot([p[0] for p in points], [p[1] for p in points], color=colour,
                        marker="s", markersize=4, label=workload.key)
                sizes += [p[0] for p in points]
                speedups += [p[1] for p in points]
            _log_axes(ax, sorted(set(sizes)), speedups, "rows or elements")
            ax.set_title("jit=True (numba), where it compiles")
            ax.legend(loc="upper left", frameon=False)
        for ax in flat[panels:]:
            ax.axis("off")
        for ax in flat[::columns]:
            ax.set_ylabel("speed-up over pandas")
        handles = [plt.Line2D([], [], color="black", linewidth=1.0)]
        labels = ["serial pandas (1x)"]
        for method, style in STYLES.items():
            handles.append(plt.Line2D([], [], **style))
            labels.append(f"pdpar {method}")
        fig.legend(handles, labels, loc="upper center", ncol=len(labels), frameon=False,
                   bbox_to_anchor=(0.5, 1.0 - 0.45 / fig.get_figheight()))
        fig.suptitle("Where parallelism pays: speed-up over serial pandas by input size",
                     fontsize=10.5, y=1.0 - 0.1 / fig.get_figheight())
        fig.text(0.01, 0.01, _footer(scale, meta), fontsize=8, va="bottom", ha="left",
                 color="0.2", linespacing=1.4)
        height = fig.get_figheight()
        fig.tight_layout(rect=(0, 0.8 / height, 1, 1 - 0.62 / height))
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path)
        plt.close(fig)


def _footer(scale: str, meta: dict[str, Any] | None) -> str:
    """Under the plot: what it was measured on, and when."""
    meta = meta or {}
    first = meta.get("machine", machine_line())
    repeats = best_of(scale, meta)
    second = f"scale {scale}, best of {repeats} warm call" + ("s" if repeats > 1 else "")
    if meta.get("command"):
        second = f"{meta['command']} ({second})"
    if meta.get("date"):
        second = f"{meta['date'][:10]}: {second}"
    start = meta.get("state_start") or {}
    during = meta.get("during") or {}
    busy = []
    if start.get("load_average") is not None:
        busy.append(f"load average {start['load_average']:.2f} at the start")
    if during.get("others") is not None:
        busy.append(f"other programs used {during['others']:.1%} of the CPUs during the run")
    if during.get("steal") is not None:
        busy.append(f"the host stole {during['steal']:.1%}")
    lines = [wrap(first, 125), wrap(second, 125)]
    if busy:
        lines.append(wrap("; ".join(busy), 125))
    return "\n".join(lines)


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
    """A tick's label: ``16x``, ``1.5x``, ``0.25x``, and powers of two below that as fractions
    (``1/16x``), which read better than ``0.062x``."""
    if value >= 10:
        return f"{value:.0f}x"
    if value < 0.2 and math.log2(value).is_integer():
        return f"1/{round(1 / value)}x"
    return f"{value:.2g}x"


def _compact(number: int) -> str:
    for step, suffix in ((1_000_000, "M"), (1_000, "k")):
        if number >= step and number % (step // 10) == 0:
            return f"{number / step:g}{suffix}"
    return f"{number:,}"


def _short_title(workload: Described) -> str:
    return workload.title.split(":", 1)[0]
