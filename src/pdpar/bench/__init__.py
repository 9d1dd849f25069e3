"""``python -m pdpar bench``: pdpar's own workloads at several input sizes, against serial pandas.

Five workloads of :mod:`pdpar.workloads`, the ones the benchmark suite of the source repository
(``benchmarks/``) runs under the same keys, each one pandas call over generated data: a CPU-bound
row function reading named fields (W1), a light ``Series.map`` (W2), a groupby apply (W3), a map
that waits 2 ms per element, a stand-in for I/O (W4b), and a numeric function of raw rows (W5).
Each runs at a few input sizes with serial pandas and with pdpar on threads, on processes, with
``jit=True`` and with ``backend="auto"``; every result is checked against pandas' with
``pandas.testing``. The table gives the best time of a few runs and the speed-up over serial
pandas; ``--plot FILE.png`` draws the speed-up against the input size, one panel per workload
and one for ``jit=True``, to show where parallelism starts to pay (it needs matplotlib, the
``plot`` extra: ``pip install -e ".[plot]"`` in the checkout).

``--json FILE`` saves a run's results with what it ran on (the date, the command, the machine
and how busy it was); ``--from FILE`` prints the table and draws the plot of saved results
without running anything, and ``--markdown`` prints the table as Markdown, as the documentation
shows it.

A method pdpar cannot run in this version (``jit=True`` raises :class:`pdpar.JitError` when
the function cannot be compiled) is shown as ``n/a`` with the reason. The peer libraries are
compared by the benchmark suite, not here.

The package's modules: :mod:`pdpar.bench.run` runs and times the workloads,
:mod:`pdpar.bench.report` prints the table and saves and loads runs, :mod:`pdpar.bench.plot`
draws the plot, and :mod:`pdpar.bench.machine` measures how busy the machine is (for
``python -m pdpar demo`` too). This module gives their public names and :func:`main`, the
command.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .machine import MachineWatch, ceiling, core_seconds, machine_line, machine_state, state_line
from .plot import JIT_COLOURS, STYLES, draw_speedups, require_matplotlib
from .report import format_markdown, format_table, load_run, save_run
from .run import METHODS, SCALES, WORKLOADS, Described, Result, Run, Shown, measure, run_bench

__all__ = ["WORKLOADS", "METHODS", "SCALES", "Described", "Shown", "Result", "Run", "run_bench",
           "format_table", "format_markdown", "save_run", "load_run", "STYLES", "JIT_COLOURS",
           "require_matplotlib", "draw_speedups", "machine_line", "machine_state",
           "core_seconds", "ceiling", "state_line", "MachineWatch", "main"]


def main(scale: str, plot: Path | None, *, save: Path | None = None,
         load: Path | None = None, markdown: bool = False, command: str = "") -> int:
    """``python -m pdpar bench``: run the workloads (or read the run saved in ``load``), print
    the table (as Markdown with ``markdown``), save the run to ``save`` and draw the plot if
    asked; 1 if any result differs from pandas'. ``command`` is the command line the saved
    run records."""
    if plot is not None:
        try:
            require_matplotlib()
        except ImportError as exc:
            print(f"python -m pdpar bench: {exc}", file=sys.stderr)
            return 2
    if load is not None:
        run = load_run(load)
    else:
        run = measure(scale, command)
    if markdown:
        print(format_markdown(run.results, run.workloads), end="", flush=True)
    else:
        print(format_table(run.results, run.scale, run.workloads, run.meta), flush=True)
    if save is not None:
        save_run(run, save)
        print(f"wrote {save}")
    if plot is not None:
        draw_speedups(run.results, plot, run.scale, run.workloads, run.meta)
        print(f"wrote {plot}")
    return 1 if any(r.differs for r in run.results) else 0
