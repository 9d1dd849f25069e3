"""``python -m pdpar demo``: pdpar against plain pandas on generated data
(``python -m pdpar bench``: pdpar's workloads at several sizes, see :mod:`pdpar.bench`).

Three feature-engineering workloads run once with plain pandas and once through pdpar: a
CPU-bound row function, a groupby function, and an I/O-bound function that waits on reads.
Each pair of results is checked for equality, then a table of times and speed-ups is printed.

Speed-ups depend on the machine as much as on pdpar, so the demo first measures how busy the
machine is (the load average, what other programs use of the CPUs, and a loop pinned to each
CPU, which gives the most the workers can do together: on a virtual machine one CPU may run
slower than the other), watches what other programs use during the demo, prints the most a
CPU-bound workload could gain beside each speed-up, and says plainly when the numbers were
disturbed.
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import pdpar
from pdpar.bench import SCALES
from pdpar.bench import main as run_bench_command
from pdpar.bench.machine import MachineWatch, machine_line, machine_state, state_line
from pdpar.bench.report import wrap
from pdpar.workloads import assert_same, format_seconds, timed


def make_frame(rows: int, groups: int, seed: int = 0) -> pd.DataFrame:
    """Transactions: an amount, a price, a quantity, a store key and a category label."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "amount": rng.gamma(2.0, 50.0, rows).round(2),
        "price": rng.uniform(1, 100, rows).round(2),
        "qty": rng.integers(1, 20, rows),
        "store": rng.integers(0, groups, rows),
        "label": rng.choice(["food", "tools", "toys", "books"], rows),
    })


def row_features(row: pd.Series) -> float:
    """A few microseconds of Python per row: the kind of logic that resists vectorising."""
    amount, price = row["amount"], row["price"]
    score = 0.0
    for k in range(1, 12):
        score += math.sin(amount / k) * math.log1p(price * k)
    if row["label"] == "toys":
        score *= 1.5
    return score + row["qty"]


def store_stats(group: pd.DataFrame) -> pd.Series:
    """Per-store statistics, including a fitted trend."""
    x = np.arange(len(group), dtype=float)
    slope = float(np.polyfit(x, group["amount"].to_numpy(), 1)[0]) if len(group) > 1 else 0.0
    return pd.Series({
        "n": float(len(group)),
        "revenue": float((group["price"] * group["qty"]).sum()),
        "p90_amount": float(group["amount"].quantile(0.9)),
        "trend": slope,
    })


def read_size(path: str) -> int:
    """An I/O-bound function: open a file, read it, count its bytes."""
    with open(path, "rb") as handle:
        data = handle.read()
    time.sleep(0.002)  # the latency of a network file system or an object store
    return len(data)


def run_demo(rows: int, groups: int, files: int, out: Any = sys.stdout) -> list[dict[str, Any]]:
    """Run the three workloads; return one dict per workload with times and speed-up."""
    df = make_frame(rows, groups)
    with tempfile.TemporaryDirectory(prefix="pdpar-demo-") as folder:
        paths = []
        for i in range(files):
            path = os.path.join(folder, f"part-{i:05d}.txt")
            with open(path, "w") as handle:
                handle.write("x" * (100 + i % 900))
            paths.append(path)
        path_series = pd.Series(paths, name="path")

        workloads = [  # name, pandas, pdpar, bound by the CPUs
            (f"row function, {rows:,} rows (processes)",
             lambda: df.apply(row_features, axis=1),
             lambda: df.par(backend="processes").apply(row_features, axis=1), True),
            (f"groupby apply, {df['store'].nunique():,} groups (processes)",
             lambda: df.groupby("store").apply(store_stats),
             lambda: df.par(backend="processes").groupby("store").apply(store_stats), True),
            (f"I/O-bound map, {files:,} files (32 threads)",
             lambda: path_series.map(read_size),
             lambda: path_series.par(backend="threads", n_jobs=32).map(read_size), False),
        ]
        # start the worker pool once, as a long-running program would
        pd.Series(range(8)).par(backend="processes").map(abs)

        report = []
        for name, serial, parallel, cpu_bound in workloads:
            expected, t_serial = timed(serial)
            got, t_par = timed(parallel)
            assert_same(got, expected)
            report.append({"workload": name, "pandas_s": t_serial, "pdpar_s": t_par,
                           "speedup": t_serial / t_par, "equal": True,
                           "cpu_bound": cpu_bound})
            print(f"  done: {name}", file=out, flush=True)
    return report


def format_report(report: list[dict[str, Any]], ceiling: float | None = None) -> str:
    """The table; with ``ceiling`` (the most the CPUs can do together, in units of one), a
    column of the most each workload could gain: that for CPU-bound work, none for waits."""
    width = max(len(r["workload"]) for r in report)
    limit = ceiling is not None
    header = (f"{'workload':<{width}}  {'pandas':>9}  {'pdpar':>9}  {'speed-up':>8}"
              + ("  at most" if limit else "") + "  equal")
    lines = [header, "-" * len(header)]
    for r in report:
        most = ""
        if limit:
            most = f"  {ceiling:>6.2f}x" if r.get("cpu_bound", True) else f"  {'(waits)':>7}"
        lines.append(f"{r['workload']:<{width}}  {format_seconds(r['pandas_s']):>9}  "
                     f"{format_seconds(r['pdpar_s']):>9}  {r['speedup']:>7.2f}x{most}  "
                     f"{'yes' if r['equal'] else 'NO'}")
    return "\n".join(lines)


#: Beyond these, the demo says its numbers were disturbed: the share of the CPUs that other
#: programs used or the host stole during it, and the ceiling as a share of the usable CPUs.
BUSY_SHARE = 0.10
STOLEN_SHARE = 0.05
CEILING_SHARE = 0.85

#: The demo's notes are wrapped to lines of this many characters.
WIDTH = 96


def judge(start: dict[str, Any], end: dict[str, Any], during: dict[str, Any]) -> list[str]:
    """What a person should know about the numbers: whether other programs or an uneven pair
    of CPUs held them back, and by how much, or that the machine was quiet."""
    cpus = len(start.get("core_seconds") or end.get("core_seconds") or [])
    ceilings = [s["ceiling"] for s in (start, end) if s.get("ceiling") is not None]
    ceiling = min(ceilings) if ceilings else None
    reasons = []
    if during.get("others") is not None and during["others"] >= BUSY_SHARE:
        reasons.append(f"other programs used {during['others']:.0%} of the CPUs while it ran")
    if during.get("steal") is not None and during["steal"] >= STOLEN_SHARE:
        reasons.append(f"the host gave {during['steal']:.0%} of the CPUs' time to other "
                       "machines")
    if ceiling is not None and cpus > 1 and ceiling < CEILING_SHARE * cpus:
        reasons.append(f"the CPUs did not run at one speed (a loop pinned to each took "
                       f"{_loop_times(start)} ms at the start, {_loop_times(end)} ms at the "
                       f"end), so {cpus} workers could do at most {ceiling:.2f}x the work of "
                       "one")
    if cpus == 1:
        return ["One CPU is usable here: the CPU-bound workloads cannot run faster than "
                "pandas on it (only the I/O-bound one, which waits, can gain)."]
    if reasons:
        return ["These numbers are disturbed: " + "; ".join(reasons) + ". The speed-ups are "
                "lower than pdpar gives on this machine when it is quiet: run the demo again "
                "when it is."]
    if ceiling is None:
        return ["This system does not tell how busy it is: the speed-ups are as measured."]
    return [f"The machine was quiet (other programs used {during.get('others') or 0:.0%} of "
            f"the CPUs during the demo): these are the speed-ups pdpar gives on it. A "
            f"CPU-bound workload can gain at most {ceiling:.2f}x on its {cpus} CPUs; the "
            "I/O-bound one waits, so its threads can go well beyond."]


def _loop_times(state: dict[str, Any]) -> str:
    return " and ".join(f"{s * 1e3:.0f}" for s in state.get("core_seconds") or []) or "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pdpar",
        description="pdpar against plain pandas: a demonstration (demo) and a benchmark (bench)")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="compare pdpar with plain pandas on generated data")
    demo.add_argument("--rows", type=int, default=200_000, help="rows of the generated frame")
    demo.add_argument("--groups", type=int, default=5_000, help="groups for the groupby")
    demo.add_argument("--files", type=int, default=2_000, help="files for the I/O workload")
    bench = commands.add_parser(
        "bench", help="time pdpar's workloads against serial pandas at several input sizes")
    bench.add_argument("--scale", choices=list(SCALES), default="small",
                       help="input sizes: small (under a minute on 2 cores), medium (a few "
                            "minutes), large (about a quarter of an hour)")
    bench.add_argument("--plot", type=Path, metavar="FILE.png",
                       help="draw the speed-up against input size (needs matplotlib)")
    bench.add_argument("--json", type=Path, metavar="RESULTS.json",
                       help="save the results, and what they were measured on, to this file")
    bench.add_argument("--from", dest="load", type=Path, metavar="RESULTS.json",
                       help="run nothing: print the table (and draw --plot) of saved results")
    bench.add_argument("--markdown", action="store_true",
                       help="print the table as Markdown, as the documentation shows it")
    args = parser.parse_args(argv)
    if args.command == "bench":
        words = sys.argv[1:] if argv is None else argv
        return run_bench_command(args.scale, args.plot, save=args.json, load=args.load,
                                 markdown=args.markdown,
                                 command=" ".join(["python -m pdpar", *map(shlex.quote, words)]))

    started = time.perf_counter()
    print(machine_line(), flush=True)
    start = machine_state()
    print(wrap(state_line(start, "before the demo"), WIDTH), flush=True)
    watch = MachineWatch()
    report = run_demo(args.rows, args.groups, args.files)
    during = watch.stop()
    end = machine_state(sample=0.2)
    pdpar.shutdown()
    ceilings = [s["ceiling"] for s in (start, end) if s.get("ceiling") is not None]
    print()
    print(format_report(report, min(ceilings) if ceilings else None))
    print()
    for line in judge(start, end, during):
        print(wrap(line, WIDTH))
    print(f"(the demo took {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
