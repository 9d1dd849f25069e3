"""Measuring a call on its first units, in the calling process: the function's time (wall and
CPU, less the time spent waiting for a CPU), how busy the machine is meanwhile, and what the
rest of the call would cost to send to worker processes and back (:func:`travel`).

The measured units are part of the call: their results are kept, nothing runs twice.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import time
from typing import Any

import cloudpickle
import numpy as np

from . import transport
from .broadcast import SHARE_MIN_BYTES
from .competing import competing_share
from .cpus import LoadWatch
from .errors import ChunkSpan
from .plan import Measurement, Plan, Sample, Travel
from .plan.bounds import next_probe
from .plan.costs import costs
from .progress import ProgressSink
from .run import run_chunks
from .work import Work

__all__ = ["measure", "travel"]


def measure(work: Work, plan: Plan, results: list[Any],
            progress: ProgressSink | None) -> Measurement:
    """Run the first chunks of ``work`` in the caller (their results go to ``results``),
    timed, until :func:`pdpar.plan.bounds.next_probe` says it is enough."""
    samples: list[Sample] = []
    rest = work.n_units - work.first
    weights = work.weights[work.first:] if work.weights is not None else None
    load = LoadWatch()
    done = 0
    with contextlib.closing(_RunQueueClock()) as clock:
        while size := next_probe(plan, rest, Measurement(tuple(samples)), weights):
            start = work.first + done
            payload = work.payload(ChunkSpan(len(results), None, work.unit, start, start + size))
            load.sample()
            started, started_cpu = time.perf_counter(), time.thread_time()
            started_queued = clock.queued()
            results.extend(run_chunks(work.task, [payload], backend="serial", n_jobs=1))
            sample_cpu = time.thread_time() - started_cpu
            sample_wall = time.perf_counter() - started
            sample_wall -= min(clock.queued() - started_queued, sample_wall - sample_cpu)
            load.sample()
            weight = float(size) if work.weights is None \
                else float(np.sum(np.asarray(work.weights[start:start + size]) + 1.0))
            samples.append(Sample(size, weight, sample_wall, sample_cpu))
            done += size
            if progress is not None:
                progress.update(size)
    return Measurement(tuple(samples), busy=_competing(load.busy(), samples, rest))


def _competing(busy: float | None, samples: list[Sample], rest: int) -> float | None:
    """``busy`` less the share of processes niced above this one, for a call long enough
    (:attr:`Costs.competing_scan_seconds`) that telling them apart is worth what it costs."""
    if not busy or not samples:
        return busy
    done = sum(sample.units for sample in samples)
    wall = sum(sample.wall for sample in samples)
    if wall / max(done, 1) * rest < costs().competing_scan_seconds:
        return busy
    share = competing_share()
    return busy if share is None else busy * share


def travel(work: Work, measured_units: int, results: list[Any]) -> Travel:
    """What sending the rest of ``work`` to worker processes costs, from its first units: the
    data of a chunk of one unit and of one of ``measured_units`` (at least two), pickled as
    the spool pickles them and unpickled as a worker does; the function with its arguments
    (``work.shared``); and ``results``, the measured chunks' results, sent back."""
    rest = work.n_units - work.first
    try:
        one = _round_trip(_data(work, 1))
        many_units = max(2, min(measured_units, rest))
        many = _round_trip(_data(work, many_units)) if many_units <= rest else one
    except Exception as exc:
        return Travel(refused=f"{transport.unpicklable_part(_data(work, 1))} cannot be pickled "
                              f"({exc!r})")
    seconds_one, bytes_one = one
    seconds_many, bytes_many = many
    span = max(many_units - 1, 1)
    data_seconds = max(seconds_many - seconds_one, 0.0) / span
    data_bytes = max(bytes_many - bytes_one, 0) / span
    chunk_seconds = max(seconds_one - data_seconds, 0.0)
    shared_seconds, shared_bytes = 0.0, 0
    if work.shared is not None:
        try:
            started = time.thread_time()
            pickled = work.shared.pickled()
            pickle.loads(pickled)
            seconds = time.thread_time() - started
        except Exception as exc:
            part = transport.unpicklable_part((work.shared,))
            return Travel(refused=f"{part} cannot be pickled ({exc!r})")
        if len(pickled) >= SHARE_MIN_BYTES:
            shared_seconds = seconds + len(pickled) / costs().transfer_bytes_per_second
            shared_bytes = len(pickled)
        else:
            chunk_seconds += seconds
    try:
        results_seconds = _results_seconds(results)
    except Exception as exc:
        return Travel(refused=f"a result of the function cannot be pickled ({exc!r})")
    return Travel(data_seconds, data_bytes, chunk_seconds, shared_seconds, shared_bytes,
                  results_seconds / max(measured_units, 1))


def _data(work: Work, units: int) -> tuple:
    """The data of a chunk of ``units`` units from ``work.first`` on, without what every
    chunk shares."""
    payload = work.payload(ChunkSpan(0, None, work.unit, work.first, work.first + units))
    return payload[:-1] if work.shared is not None else payload


def _round_trip(args: tuple) -> tuple[float, int]:
    """Seconds to pickle ``args`` as the spool does and to unpickle them as a worker does
    (out-of-band buffers at the rate bytes are copied), and the bytes.

    Pickling is CPU work: its CPU time is measured, which a busy machine does not inflate (one
    preemption in a wall-clock measurement of a few chunks' pickling made 8 bytes a row seem
    to cost 300 us; what a busy machine does to every task is priced in the estimate)."""
    started = time.thread_time()
    buffers: list[pickle.PickleBuffer] = []
    head = transport.dumps(args, buffers.append)
    raws = [buffer.raw() for buffer in buffers]
    pickle.loads(head, buffers=raws)
    size = len(head) + sum(raw.nbytes for raw in raws)
    copied = sum(raw.nbytes for raw in raws) / costs().transfer_bytes_per_second
    return time.thread_time() - started + copied, size


def _results_seconds(results: list[Any]) -> float:
    """Seconds to send ``results`` from a worker process and back (raises what pickling
    them raises)."""
    if not results:
        return 0.0
    started = time.thread_time()
    sent = [transport.compact(result) for result in results]  # as a worker sends them
    pickle.loads(cloudpickle.dumps(sent, protocol=pickle.HIGHEST_PROTOCOL))
    return time.thread_time() - started


class _RunQueueClock:
    """Seconds the calling thread has spent ready to run but waiting for a CPU (Linux).

    A function measured on a busy machine takes longer in wall time than in CPU time without
    waiting for anything itself; that time is not waiting that threads could overlap, so the
    measurement leaves it out. Reads 0 where the kernel does not report it.
    """

    def __init__(self) -> None:
        try:
            self._fd: int | None = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
        except OSError:
            self._fd = None

    def queued(self) -> float:
        if self._fd is None:
            return 0.0
        try:
            return int(os.pread(self._fd, 128, 0).split()[1]) / 1e9
        except (OSError, ValueError, IndexError):
            return 0.0

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

