"""How many CPUs this process may actually use.

``usable_cpu_count()`` is what ``n_jobs=-1`` means: the smallest of the machine's CPU count,
the affinity mask, the CPU bandwidth quota of the process's own cgroup (and of its ancestors),
and ``LOKY_MAX_CPU_COUNT`` (which loky and joblib honour).

Unlike loky, which only reads the quota files at the root of ``/sys/fs/cgroup``, the cgroup
limit here is found from ``/proc/self/cgroup`` and ``/proc/self/mountinfo``, so a quota set on
a child cgroup (systemd slices, Kubernetes pods without a cgroup namespace, nested containers)
is seen too. The affinity and ``LOKY_MAX_CPU_COUNT`` are read on every call; the files (cgroup
quotas, which can change while the process runs, but rarely) at most once per
:data:`REREAD_SECONDS`: reading them costs about 0.3-0.6 ms, and a call asks several times.
"""

from __future__ import annotations

import functools
import os
import re
import time

__all__ = ["usable_cpu_count", "runnable_tasks", "LoadWatch"]

# Octal escapes the kernel uses for space, tab, newline and backslash in mountinfo paths.
_MOUNTINFO_ESCAPE = re.compile(r"\\([0-7]{3})")


#: Seconds a count read from the cgroup files is reused for.
REREAD_SECONDS = 1.0

_last: tuple[float, tuple[int | None, str | None], int] | None = None


def usable_cpu_count() -> int:
    """Return the number of CPUs this process may use (always >= 1)."""
    global _last
    key = (_affinity_cpus(), os.environ.get("LOKY_MAX_CPU_COUNT"))
    now = time.monotonic()
    if _last is not None and _last[1] == key and now - _last[0] < REREAD_SECONDS:
        return _last[2]
    counts = [
        _os_cpu_count(),
        key[0],
        _cgroup_quota_cpus(),
        _loky_cpus(),
    ]
    count = max(1, min(c for c in counts if c is not None))
    _last = (now, key, count)
    return count


@functools.cache
def _os_cpu_count() -> int:
    """Return ``os.cpu_count()``, or 1 when it is unknown: the CPUs the machine has, read once
    (reading them took 20 us, and every call reads them a few times)."""
    return os.cpu_count() or 1


def _affinity_cpus() -> int | None:
    """Return the size of this process's CPU affinity mask, or None if unavailable."""
    getaffinity = getattr(os, "sched_getaffinity", None)
    if getaffinity is None:
        return None
    try:
        return len(getaffinity(0)) or None
    except (OSError, NotImplementedError):
        return None


def _loky_cpus() -> int | None:
    """Return ``LOKY_MAX_CPU_COUNT``, the limit loky (and joblib through it) puts on its CPU
    count, or None when it is not set or is not a number.

    Read here rather than asking ``joblib.cpu_count()``: importing joblib takes about 0.1 s,
    longer than a small call takes in all, and joblib's other limits (the affinity and the
    root cgroup's quota) are read here already.
    """
    value = os.environ.get("LOKY_MAX_CPU_COUNT")
    if value is None:
        return None
    try:
        count = int(value)
    except ValueError:
        return None
    return count if count > 0 else None


def _cgroup_quota_cpus(root: str = "/") -> int | None:
    """Return the tightest cgroup CPU quota (rounded up, >= 1) on this process, or None.

    Reads ``<root>/proc/self/cgroup`` and ``<root>/proc/self/mountinfo``; mount points found
    there are looked up under ``root`` too, so tests can build a fake tree. Both cgroup v2
    (``cpu.max``) and v1 (``cpu.cfs_quota_us``/``cpu.cfs_period_us``) are read, for the
    process's cgroup and every ancestor visible through the mount. None means no limit found.
    """
    try:
        return _cgroup_quota_cpus_unguarded(root)
    except Exception:  # never raise: an unreadable or odd cgroup setup means "no limit"
        return None


def _cgroup_quota_cpus_unguarded(root: str) -> int | None:
    """Return the cgroup CPU limit as ``_cgroup_quota_cpus`` does, but may raise."""
    proc_self = _under(root, "/proc/self")
    cgroup_text = _read(os.path.join(proc_self, "cgroup"))
    mountinfo_text = _read(os.path.join(proc_self, "mountinfo"))
    if cgroup_text is None or mountinfo_text is None:
        return None

    v2_path, v1_path = _parse_proc_cgroup(cgroup_text)
    limits: list[int] = []
    for fstype, mount_root, mount_point in _parse_mountinfo(mountinfo_text):
        if fstype == "cgroup2" and v2_path is not None:
            cgroup_path, read_limit = v2_path, _read_cpu_max
        elif fstype == "cgroup" and v1_path is not None:
            cgroup_path, read_limit = v1_path, _read_cfs_quota
        else:
            continue
        for directory in _cgroup_dirs(_under(root, mount_point), mount_root, cgroup_path):
            limit = read_limit(directory)
            if limit is not None:
                limits.append(limit)
    return min(limits) if limits else None


def _under(root: str, path: str) -> str:
    """Return the absolute ``path`` re-rooted under ``root``."""
    return os.path.join(root, path.lstrip("/"))


def _read(path: str) -> str | None:
    """Return the text of ``path``, or None if it cannot be read."""
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as fh:
            return fh.read()
    except (OSError, ValueError):
        return None


def _parse_proc_cgroup(text: str) -> tuple[str | None, str | None]:
    """Return the process's (v2 path, v1 ``cpu`` hierarchy path) from /proc/self/cgroup."""
    v2_path: str | None = None
    v1_path: str | None = None
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3 or not parts[2].startswith("/"):
            continue
        hierarchy_id, controllers, path = parts
        if hierarchy_id == "0" and controllers == "":
            v2_path = path
        elif "cpu" in controllers.split(","):
            v1_path = path
    return v2_path, v1_path


def _parse_mountinfo(text: str) -> list[tuple[str, str, str]]:
    """Return (fstype, root, mount point) of the cgroup mounts in a mountinfo text.

    Only cgroup2 mounts and cgroup v1 mounts carrying the ``cpu`` controller are kept. When
    several are mounted on the same mount point, only the last (the visible one) is kept.
    """
    by_mount_point: dict[str, tuple[str, str, str]] = {}
    for line in text.splitlines():
        fields = line.split()
        if "-" not in fields:
            continue
        sep = fields.index("-")
        if sep < 6 or len(fields) < sep + 3:
            continue
        fstype, super_options = fields[sep + 1], fields[sep + 3].split(",")
        if fstype == "cgroup" and "cpu" not in super_options:
            continue
        if fstype not in ("cgroup", "cgroup2"):
            continue
        mount_root, mount_point = _unescape(fields[3]), _unescape(fields[4])
        by_mount_point[mount_point] = (fstype, mount_root, mount_point)
    return list(by_mount_point.values())


def _unescape(field: str) -> str:
    """Return a mountinfo path with its octal escapes (``\\040`` etc.) decoded."""
    return _MOUNTINFO_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), field)


def _cgroup_dirs(mount_point: str, mount_root: str, cgroup_path: str) -> list[str]:
    """Return the directories of the cgroup and its ancestors up to the mount point.

    ``cgroup_path`` (from /proc/self/cgroup) is mapped through the mount's root (mountinfo
    field 4): a mount of ``/docker/abc`` on ``/sys/fs/cgroup`` shows cgroup ``/docker/abc/x``
    at ``/sys/fs/cgroup/x``. Returns [] when the cgroup is not visible through this mount.
    """
    path_parts = [p for p in cgroup_path.split("/") if p]
    root_parts = [p for p in mount_root.split("/") if p]
    if ".." in path_parts or ".." in root_parts:
        return []  # outside our cgroup namespace: nothing we can map
    if path_parts[: len(root_parts)] != root_parts:
        return []
    relative = path_parts[len(root_parts) :]
    return [os.path.join(mount_point, *relative[:i]) for i in range(len(relative), -1, -1)]


def _read_cpu_max(directory: str) -> int | None:
    """Return the CPUs allowed by a cgroup v2 ``cpu.max`` in ``directory``, or None."""
    text = _read(os.path.join(directory, "cpu.max"))
    if text is None:
        return None
    fields = text.split()
    if not fields or fields[0] == "max":
        return None
    period = fields[1] if len(fields) > 1 else "100000"
    return _quota_to_cpus(fields[0], period)


def _read_cfs_quota(directory: str) -> int | None:
    """Return the CPUs allowed by cgroup v1 ``cpu.cfs_quota_us`` in ``directory``, or None."""
    quota = _read(os.path.join(directory, "cpu.cfs_quota_us"))
    if quota is None:
        return None
    period = _read(os.path.join(directory, "cpu.cfs_period_us"))
    if period is None:
        return None
    return _quota_to_cpus(quota, period)


def _quota_to_cpus(quota: str, period: str) -> int | None:
    """Return ceil(quota / period), at least 1, or None for no or malformed limit."""
    try:
        quota_us, period_us = int(quota.strip()), int(period.strip())
    except ValueError:
        return None
    if quota_us <= 0 or period_us <= 0:
        return None
    return max(1, -(-quota_us // period_us))


def runnable_tasks() -> int | None:
    """Tasks running or ready to run on this machine at this moment (every CPU), read from
    ``/proc/loadavg``; None where that is not known, or not about the CPUs this process may
    use (its affinity or a cgroup quota leaves it fewer than the machine has)."""
    if usable_cpu_count() != _os_cpu_count():
        return None
    return _loadavg_runnable()


def _loadavg_runnable() -> int | None:
    global _loadavg
    try:
        if _loadavg is None:
            _loadavg = os.open("/proc/loadavg", os.O_RDONLY)
        return int(os.pread(_loadavg, 128, 0).split()[3].split(b"/")[0])
    except (OSError, IndexError, ValueError):
        return None


#: ``/proc/loadavg``, open once and read with ``pread`` (a few microseconds a read).
_loadavg: int | None = None


class LoadWatch:
    """How many CPUs other programs ask for while a call measures its function: the runnable
    tasks of the machine, sampled as the measuring chunks start and end, less the calling
    thread itself."""

    __slots__ = ("_samples", "_known")

    def __init__(self) -> None:
        self._samples: list[int] = []
        self._known = usable_cpu_count() == _os_cpu_count()

    def sample(self) -> None:
        tasks = runnable_tasks() if self._known else None
        if tasks is not None:
            self._samples.append(tasks)

    def busy(self) -> float | None:
        """CPUs' worth of other tasks, on average over the samples (None without samples)."""
        if not self._samples:
            return None
        return max(0.0, sum(self._samples) / len(self._samples) - 1.0)

