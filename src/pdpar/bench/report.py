"""What ``python -m pdpar bench`` shows of a run, and how it keeps one.

:func:`format_table` gives the table the command prints, :func:`format_markdown` the table as
the documentation shows it; :func:`save_run` writes a run as JSON and :func:`load_run` reads it
back, for ``--json`` and ``--from``. :func:`wrap` breaks text into lines for a person, as the
plot's footer and ``python -m pdpar demo`` print it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..workloads import format_seconds
from .machine import machine_line
from .run import METHODS, WORKLOADS, Described, Result, Run, Shown, best_of

__all__ = ["save_run", "load_run", "format_table", "format_markdown", "wrap"]


def save_run(run: Run, path: Path | str) -> None:
    """Write ``run`` as JSON (see :func:`load_run`)."""
    data = {"format": "pdpar bench results 1", "scale": run.scale, "meta": run.meta,
            "workloads": [dataclasses.asdict(w) for w in run.workloads],
            "results": [dataclasses.asdict(r) for r in run.results]}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(data, indent=1) + "\n")


def load_run(path: Path | str) -> Run:
    """The run :func:`save_run` wrote to ``path``."""
    data = json.loads(Path(path).read_text())
    if not str(data.get("format", "")).startswith("pdpar bench results"):
        raise ValueError(f"{path} is not a results file of python -m pdpar bench")
    return Run(data["scale"], [Result(**r) for r in data["results"]],
               [Shown(**w) for w in data["workloads"]], data.get("meta", {}))


def format_table(results: Sequence[Result], scale: str,
                 workloads: Sequence[Described] = WORKLOADS,
                 meta: dict[str, Any] | None = None) -> str:
    """One block per workload: a line per size, each method's time and speed-up over serial
    pandas, and what ``auto`` ran; notes say which methods were not available, and why.
    ``meta`` is a saved run's: its machine line and repeats instead of this machine's."""
    methods = list(METHODS)
    cell = 18
    lines = [(meta or {}).get("machine", machine_line()),
             f"scale {scale}: best of {best_of(scale, meta)} warm call(s); speed-up = serial "
             "pandas' time / the method's time (above 1x is faster than pandas)"]
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


def format_markdown(results: Sequence[Result], workloads: Sequence[Described]) -> str:
    """The table as the documentation shows it: a Markdown table per workload, each cell the
    method's time and its speed-up over serial pandas (``n/a`` where it could not run), and
    what ``auto`` ran."""
    methods = list(METHODS)
    parts = []
    for workload in workloads:
        rows = [r for r in results if r.workload == workload.key]
        if not rows:
            continue
        parts += [f"**{workload.key}**: {workload.title}", "",
                  f"| {workload.unit} | pandas | " + " | ".join(methods) + " | auto ran |",
                  "|" + "---:|" * (len(methods) + 2) + "---|"]
        for size in sorted({r.size for r in rows}):
            at = {r.method: r for r in rows if r.size == size}
            cells = [f"{size:,}", format_seconds(at["pandas"].seconds or 0.0)]
            for method in methods:
                r = at[method]
                cells.append("n/a" if r.seconds is None else
                             f"{format_seconds(r.seconds)} ({r.speedup:.2f}x)"
                             + (" DIFFERS" if r.differs else ""))
            parts.append("| " + " | ".join([*cells, _ran(at["auto"])]) + " |")
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"


def _ran(result: Result) -> str:
    """What the best run ran, and what the other runs chose when it was not the same."""
    each = result.extra.get("ran_each", [result.ran])
    others = [ran for ran in each if ran != result.ran]
    if not others:
        return result.ran
    return f"{result.ran} (also {', '.join(sorted(set(others)))}: {len(others)} of {len(each)})"


def wrap(text: str, width: int) -> str:
    """``text`` in lines of at most ``width`` characters, broken between words (a longer word
    stands on a line of its own)."""
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return "\n".join([*lines, line])
