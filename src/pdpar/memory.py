"""How much memory this process may still take: what the machine has available, and what the
memory limit of its cgroup (a container's, or a systemd slice's) leaves.

Read before pdpar starts more worker processes than there are CPUs
(:func:`pdpar.run.workers.check_worker_count`); never raises: unreadable files mean no limit.
"""

from __future__ import annotations

import os

__all__ = ["available_bytes"]

#: A cgroup v1 "no limit" is the largest page-aligned number; anything this large is no limit.
_NO_LIMIT = 1 << 60


def available_bytes() -> int | None:
    """Bytes this process may still take: the smallest of the machine's available memory
    (``MemAvailable``) and what the cgroup limits of the process (and of the cgroups above
    it) leave; None when none of them can be read (not Linux)."""
    found = [n for n in (_meminfo_available(), *_cgroup_room()) if n is not None]
    return min(found) if found else None


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_room() -> list[int | None]:
    """Limit less usage of the process's memory cgroup and its ancestors, v2 and v1."""
    try:
        with open("/proc/self/cgroup") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    room: list[int | None] = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        if parts[0] == "0" and parts[1] == "":
            base, limit, usage = "/sys/fs/cgroup", "memory.max", "memory.current"
        elif "memory" in parts[1].split(","):
            base, limit, usage = "/sys/fs/cgroup/memory", "memory.limit_in_bytes", \
                "memory.usage_in_bytes"
        else:
            continue
        relative = [p for p in parts[2].split("/") if p]
        for depth in range(len(relative), -1, -1):
            folder = os.path.join(base, *relative[:depth])
            room.append(_room(os.path.join(folder, limit), os.path.join(folder, usage)))
    return room


def _room(limit_file: str, usage_file: str) -> int | None:
    try:
        with open(limit_file) as f:
            text = f.read().strip()
        if text == "max" or int(text) >= _NO_LIMIT:
            return None
        with open(usage_file) as f:
            return max(int(text) - int(f.read().strip()), 0)
    except (OSError, ValueError):
        return None
