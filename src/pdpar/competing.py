"""Which of the machine's running processes compete with this one for a CPU.

``/proc/loadavg`` counts every task ready to run; a process niced above this one (a background
build, ``nice -n 19``) takes a CPU only when nothing of this process wants it, and is no load
for it, unless the kernel groups processes by session (autogroups), where groups share the CPU
by their own nice values.
"""

from __future__ import annotations

import functools
import os
import time

from .cpus import REREAD_SECONDS

__all__ = ["competing_share", "running_processes"]


def competing_share() -> float | None:
    """The share of the other running processes that compete with this one for a CPU: those
    whose nice value is at most this process's (with autogroups: those of another session whose
    group's nice value is at most this one's group's, see :func:`_competes`).

    Read from ``/proc/<pid>/stat`` of every process (several milliseconds on a busy machine:
    only worth it for a call that takes far longer), at most once per :data:`REREAD_SECONDS`.
    None where that is unknown, or no other running process was seen (the runnable tasks are
    threads of processes whose main thread waits).
    """
    global _competing
    now = time.monotonic()
    if _competing is not None and now - _competing[0] < REREAD_SECONDS:
        return _competing[1]
    others = running_processes()
    if not others:
        share = None
    else:
        group_of = _autogroup if _autogroups_enabled() else _no_group
        mine = (group_of("self"), os.getpriority(os.PRIO_PROCESS, 0))
        share = sum(1 for pid, nice in others.items()
                    if _competes((group_of(str(pid)), nice), mine)) / len(others)
    _competing = (now, share)
    return share


def _autogroup(pid: str) -> tuple[str, int] | None:
    """The process's autogroup and that group's nice value, where the kernel groups
    processes by session (``/proc/sys/kernel/sched_autogroup_enabled``); else None."""
    try:
        with open(f"/proc/{pid}/autogroup") as f:
            group, _, nice = f.read().split()
        return group, int(nice)
    except (OSError, ValueError):
        return None


def _no_group(pid: str) -> None:
    return None


def _competes(other: tuple[tuple[str, int] | None, int],
              mine: tuple[tuple[str, int] | None, int]) -> bool:
    """Whether a running process takes CPU time from this one: with autogroups (a desktop's
    terminals, each session its own group), the CPU is shared between groups by the groups'
    nice values, whatever the nice values of their processes, so a ``nice -n 19`` job started
    from another terminal competes in full; within a group, by the processes' nice values."""
    (group, nice), (my_group, my_nice) = other, mine
    if group is not None and my_group is not None and group[0] != my_group[0] \
            and _autogroups_enabled():
        return group[1] <= my_group[1]
    return nice <= my_nice


@functools.cache
def _autogroups_enabled() -> bool:
    """Whether the kernel groups processes by session (read once: a boot-time setting)."""
    try:
        with open("/proc/sys/kernel/sched_autogroup_enabled") as f:
            return f.read().strip() == "1"
    except OSError:
        return False


_competing: tuple[float, float | None] | None = None


def running_processes() -> dict[int, int]:
    """The processes running or ready to run other than this one, with their nice values (an
    empty dict where ``/proc`` cannot be read)."""
    me = os.getpid()
    found: dict[int, int] = {}
    try:
        entries = list(os.scandir("/proc"))
    except OSError:
        return found
    for entry in entries:
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
            fields = stat[stat.rindex(b")") + 2:].split()  # the name may hold spaces
            if fields[0] == b"R":
                found[int(entry.name)] = int(fields[16])
        except (OSError, ValueError, IndexError):
            continue  # the process ended meanwhile
    return found
