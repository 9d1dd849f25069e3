"""How much faster two processes can be than one on this machine, measured.

A virtual machine's two cores are not always two whole cores: the hypervisor may run other
machines' work on them (steal time). :func:`measure` times one plain CPU-bound Python process
alone, then two side by side, and reports how much more the two did (2.0 is two whole cores);
the run does so at its start and its end. Each trial divides two timings taken a moment apart,
so one above 2.0 means the machine's speed changed in between: the median of the trials is the
figure to read. :func:`two_core_ceiling` estimates from a loop pinned to each CPU the most two
workers can do at one moment.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

WORK = 4_000_000


def burn(n: int = WORK) -> float:
    """Pure-Python work; returns how long it took."""
    start = time.perf_counter()
    total = 0
    for i in range(n):
        total += i % 7
    return time.perf_counter() - start


def _steal_ticks() -> int | None:
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()
        return int(fields[8])  # cpu user nice system idle iowait irq softirq steal
    except (OSError, IndexError, ValueError):
        return None


def measure(repeat: int = 3) -> dict[str, float | None]:
    """The work two processes side by side did, as a multiple of one process's timed alone
    just before (2.0 is two whole cores): the best and the median of ``repeat`` trials, and the
    share of CPU time the host stole meanwhile."""
    context = multiprocessing.get_context("spawn")
    steal0, wall0 = _steal_ticks(), time.perf_counter()
    with context.Pool(2) as pool:
        pool.map(burn, [1000, 1000])
        ratios = []
        for _ in range(repeat):
            one = pool.apply(burn)
            start = time.perf_counter()
            pool.map(burn, [WORK, WORK])
            both = time.perf_counter() - start
            ratios.append(2 * one / both)
    steal1, wall1 = _steal_ticks(), time.perf_counter()
    steal = None
    if steal0 is not None and steal1 is not None:
        ticks = multiprocessing.cpu_count() * (wall1 - wall0) * 100  # USER_HZ is 100 here
        steal = round((steal1 - steal0) / ticks, 3) if ticks else None
    return {"two_process_speedup": round(max(ratios), 2),
            "two_process_speedup_median": round(sorted(ratios)[len(ratios) // 2], 2),
            "trials": repeat, "steal_share": steal}


def core_speeds(work: int = WORK // 4) -> list[float]:
    """The seconds the same loop takes pinned to each usable CPU in turn, this moment.

    On a virtual machine the host may run other work beside one virtual CPU and not the
    other: measured here, the loop took 70 ms on one and 70 to 120 ms on the other, changing
    from one second to the next.
    """
    cpus = sorted(os.sched_getaffinity(0))
    seconds = []
    try:
        for cpu in cpus:
            os.sched_setaffinity(0, {cpu})
            burn(work // 100)  # settle on the CPU
            seconds.append(burn(work))
    finally:
        os.sched_setaffinity(0, cpus)
    return seconds


def two_core_ceiling(seconds: list[float]) -> float:
    """The most two workers can do, in units of one, when the CPUs run at these speeds: the
    faster CPU's work plus the slower one's (a serial call takes the faster CPU at best)."""
    if len(seconds) < 2:
        return 1.0
    fast, slow = sorted(seconds)[:2]
    return 1.0 + fast / slow


if __name__ == "__main__":
    print(measure())
    speeds = core_speeds()
    print({"core_seconds": [round(s, 4) for s in speeds],
           "two_core_ceiling": round(two_core_ceiling(speeds), 2)})
