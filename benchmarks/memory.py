"""W6's sampler: peak memory of a process tree, shared memory and temporary files included.

Every ``interval`` seconds a thread adds up, over the process and all its descendants, the PSS
of each (``Pss`` from /proc/PID/smaps_rollup, else psutil's ``memory_full_info().pss``, else RSS),
and the bytes of the files that appeared in /dev/shm or in the run's own temporary folder since
the sampler started. A file in /dev/shm that a process maps is in both numbers, so a sample's
total is ``sum(PSS - Pss_Shmem) + max(sum(Pss_Shmem), file bytes)``: shared memory counts once,
whether a process maps it or it only sits in a file. Peaks are kept from :meth:`mark` on.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field

import psutil

SHM = "/dev/shm"


def _rollup(pid: int) -> tuple[int, int] | None:
    """(Pss, Pss_Shmem) in bytes from smaps_rollup, or None where the kernel has no such file."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            text = handle.read()
    except OSError:
        return None
    values = {}
    for line in text.splitlines()[1:]:
        name, _, rest = line.partition(":")
        values[name] = int(rest.split()[0]) * 1024
    if "Pss" not in values:
        return None
    return values["Pss"], values.get("Pss_Shmem", 0)


def _process_memory(process: psutil.Process) -> tuple[int, int]:
    """(PSS, the shared-memory part of it) of one process, in bytes; (0, 0) once it is gone."""
    rollup = _rollup(process.pid)
    if rollup is not None:
        return rollup
    try:
        try:
            return process.memory_full_info().pss, 0
        except (psutil.AccessDenied, AttributeError):
            return process.memory_info().rss, 0
    except psutil.NoSuchProcess:
        return 0, 0


def _folder_bytes(path: str) -> int:
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                pass
    return total


@dataclass
class Sample:
    pss: int = 0  # sum of PSS over the tree
    shmem: int = 0  # the part of ``pss`` that maps shared memory
    files: int = 0  # new files in /dev/shm and the temporary folder
    processes: int = 0

    @property
    def total(self) -> int:
        return self.pss - self.shmem + max(self.shmem, self.files)


@dataclass
class Peaks:
    start: Sample = field(default_factory=Sample)
    total: int = 0
    pss: int = 0
    files: int = 0
    processes: int = 0
    samples: int = 0

    def add(self, sample: Sample) -> None:
        self.total = max(self.total, sample.total)
        self.pss = max(self.pss, sample.pss)
        self.files = max(self.files, sample.files)
        self.processes = max(self.processes, sample.processes)
        self.samples += 1


class TreeSampler:
    """Samples the tree under ``pid`` in a thread until :meth:`stop`; construct it before the
    process writes any file, so the files already in /dev/shm are left out."""

    def __init__(self, temp_folder: str, interval: float = 0.05) -> None:
        self.temp_folder = temp_folder
        self.interval = interval
        self.peaks = Peaks()
        self._existing = set(os.listdir(SHM)) if os.path.isdir(SHM) else set()
        self._root: psutil.Process | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self, pid: int) -> None:
        self._root = psutil.Process(pid)
        self._thread.start()

    def sample(self) -> Sample:
        assert self._root is not None
        sample = Sample()
        try:
            tree = [self._root, *self._root.children(recursive=True)]
        except psutil.NoSuchProcess:
            tree = []
        for process in tree:
            pss, shmem = _process_memory(process)
            sample.pss += pss
            sample.shmem += shmem
        sample.processes = len(tree)
        sample.files = _folder_bytes(self.temp_folder)
        if os.path.isdir(SHM):
            for name in set(os.listdir(SHM)) - self._existing:
                path = os.path.join(SHM, name)
                if os.path.isdir(path):
                    sample.files += _folder_bytes(path)
                else:
                    try:
                        sample.files += os.lstat(path).st_size
                    except OSError:
                        pass
        return sample

    def mark(self) -> None:
        """Forget the peaks so far: the measured call starts now."""
        start = self.sample()
        with self._lock:
            self.peaks = Peaks(start=start)
            self.peaks.add(start)

    def stop(self) -> Peaks:
        self._stop.set()
        self._thread.join()
        return self.peaks

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            sample = self.sample()
            with self._lock:
                self.peaks.add(sample)
