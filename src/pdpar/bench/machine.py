"""How busy the machine is, measured for ``python -m pdpar bench`` and ``python -m pdpar demo``.

:func:`machine_line` names the software and the CPUs a run ran on; :func:`machine_state` measures
the load, what other programs use of the CPUs, and a loop pinned to each CPU
(:func:`core_seconds`), which gives the most the CPUs can do together (:func:`ceiling`);
:class:`MachineWatch` says what other programs used while a run went on, and
:func:`state_line` puts a state in one line for a person. Where ``/proc`` or CPU pinning is
missing (not Linux), the figures are None or empty.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

import pdpar

from ..cpus import usable_cpu_count

__all__ = ["machine_line", "core_seconds", "ceiling", "machine_state", "MachineWatch",
           "state_line"]


def machine_line() -> str:
    """pdpar's, pandas', numpy's and Python's versions, and the CPUs: on the machine, usable."""
    return (f"pdpar {pdpar.__version__}, pandas {pd.__version__}, numpy {np.__version__}, "
            f"Python {sys.version.split()[0]}; {os.cpu_count()} CPUs on the machine, "
            f"{usable_cpu_count()} usable")


def _loop(n: int) -> float:
    """Seconds a plain Python loop of ``n`` steps takes."""
    start = time.perf_counter()
    total = 0
    for i in range(n):
        total += i % 7
    return time.perf_counter() - start


def core_seconds(steps: int = 1_000_000) -> list[float]:
    """The seconds the same loop takes pinned to each usable CPU in turn, now (about 70 ms
    each on this project's machine); empty where a thread cannot be pinned (not Linux).

    On a virtual machine the host may run other work beside one virtual CPU and not the
    other: the loop then takes longer on that one.
    """
    if not hasattr(os, "sched_getaffinity"):
        return []
    cpus = sorted(os.sched_getaffinity(0))
    steps = steps if len(cpus) <= 4 else max(100_000, 4 * steps // len(cpus))
    seconds = []
    try:
        for cpu in cpus:
            os.sched_setaffinity(0, {cpu})
            _loop(steps // 100)  # settle on the CPU
            seconds.append(_loop(steps))
    except OSError:
        return []
    finally:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, cpus)
    return seconds


def ceiling(seconds: Sequence[float]) -> float | None:
    """The most work all the CPUs can do together, in units of the fastest CPU's, when the loop
    took ``seconds`` on each: 2.0 for two CPUs of one speed, 1.5 when one takes twice as long."""
    if not seconds:
        return None
    fastest = min(seconds)
    return sum(fastest / s for s in seconds)


def _cpu_ticks() -> tuple[int, int, int] | None:
    """The whole machine's CPU ticks so far, from /proc/stat: busy, all, stolen by the host."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, idle, iowait, irq, softirq, steal = fields + [0] * (8 - len(fields))
    busy = user + nice + system + irq + softirq
    return busy, busy + idle + iowait + steal, steal


def _tree_cpu_seconds() -> float | None:
    """CPU seconds used so far by this process, its threads and its descendants (the worker
    processes, alive or ended), from /proc."""
    try:
        tick = os.sysconf("SC_CLK_TCK")
        stats = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                with contextlib.suppress(OSError, ValueError, IndexError):
                    with open(f"/proc/{entry}/stat") as stat:
                        fields = stat.read().rsplit(")", 1)[1].split()
                    # after the name: state ppid ...; utime stime cutime cstime are 14-17
                    stats[int(entry)] = (int(fields[1]), sum(int(v) for v in fields[11:15]))
    except (OSError, ValueError, AttributeError):
        return None
    mine, found = {os.getpid()}, True
    while found:
        found = False
        for pid, (parent, _) in stats.items():
            if parent in mine and pid not in mine:
                mine.add(pid)
                found = True
    return sum(stats[pid][1] for pid in mine if pid in stats) / tick


def machine_state(sample: float = 0.5) -> dict[str, Any]:
    """How busy the machine is now: the load average, the share of its CPUs that other programs
    use over ``sample`` seconds (this process waits meanwhile), and the loop pinned to each
    usable CPU (:func:`core_seconds`) with the ceiling it gives (:func:`ceiling`)."""
    state: dict[str, Any] = {"load_average": None, "others": None, "steal": None}
    with contextlib.suppress(OSError, AttributeError):
        state["load_average"] = round(os.getloadavg()[0], 2)
    before = _cpu_ticks()
    time.sleep(sample)
    after = _cpu_ticks()
    if before and after and after[1] > before[1]:
        state["others"] = round((after[0] - before[0]) / (after[1] - before[1]), 3)
        state["steal"] = round((after[2] - before[2]) / (after[1] - before[1]), 3)
    seconds = core_seconds()
    state["core_seconds"] = [round(s, 4) for s in seconds]
    limit = ceiling(seconds)
    state["ceiling"] = round(limit, 2) if limit is not None else None
    return state


class MachineWatch:
    """What other programs did with the machine's CPUs while a run went on: started before it,
    :meth:`stop` after it gives the share of all the CPUs' time they used, and the host stole
    (None where /proc cannot tell)."""

    def __init__(self) -> None:
        self.ticks = _cpu_ticks()
        self.mine = _tree_cpu_seconds()
        self.start = time.perf_counter()

    def stop(self) -> dict[str, Any]:
        ticks, mine = _cpu_ticks(), _tree_cpu_seconds()
        wall = time.perf_counter() - self.start
        out: dict[str, Any] = {"seconds": round(wall, 1), "others": None, "steal": None}
        if self.ticks and ticks and ticks[1] > self.ticks[1]:
            total = ticks[1] - self.ticks[1]
            out["steal"] = round((ticks[2] - self.ticks[2]) / total, 3)
            if self.mine is not None and mine is not None:
                tick = os.sysconf("SC_CLK_TCK")
                others = (ticks[0] - self.ticks[0]) / tick - (mine - self.mine)
                out["others"] = round(max(0.0, others) / (total / tick), 3)
        return out


def state_line(state: dict[str, Any], when: str = "now") -> str:
    """One line for a person: the load, what others use, the loop on each CPU and the ceiling."""
    parts = []
    if state.get("load_average") is not None:
        parts.append(f"load average {state['load_average']:.2f}")
    if state.get("others") is not None:
        parts.append(f"other programs using {state['others']:.0%} of the CPUs")
    if state.get("steal"):
        parts.append(f"the host stealing {state['steal']:.0%}")
    seconds = state.get("core_seconds") or []
    if seconds:
        loop = ", ".join(f"{s * 1e3:.0f}" for s in seconds[:8]) + (" ..." if len(seconds) > 8
                                                                  else "")
        parts.append(f"a loop pinned to each CPU took {loop} ms, so {len(seconds)} workers can "
                     f"do at most {state['ceiling']:.2f}x the work of one")
    return f"{when}: " + ("; ".join(parts) if parts else "not measured on this system")
