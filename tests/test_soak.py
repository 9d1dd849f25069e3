"""Many consecutive calls with processes: memory of the caller and of the workers stays flat.

``PDPAR_SOAK_CALLS`` sets the number of calls (default 40, as the slow tests run it; the full
soak is ``PDPAR_SOAK_CALLS=200 python -m pytest -m soak``).
"""

import gc
import os

import numpy as np
import pandas as pd
import psutil
import pytest

from conftest import BIG
from reliability import leftovers, worker_processes

CALLS = int(os.environ.get("PDPAR_SOAK_CALLS", "40"))
WARM_UP = 10
MB = 1 << 20


def row_total(row):
    return row["a"] + row["b"]


def group_summary(group):
    return pd.Series({"n": len(group), "mean": group["a"].mean()})


def fail_on_7(x):
    if x == 7:
        raise ValueError("seven")
    return x


def one_call(i, frame, groups, wide):
    """One of the kinds of call a program makes, in turn; some of them fail."""
    par = {"backend": "processes", "n_jobs": 2}
    kind = i % 5
    if kind == 0:
        return frame.par(**par, chunksize=500).apply(row_total, axis=1)
    if kind == 1:
        return wide.par(**par, chunksize=1).apply(np.sum)  # columns through spool files
    if kind == 2:
        return groups.par(**par, chunksize=20).groupby("k").apply(group_summary)
    if kind == 3:
        return frame.par(**par, chunksize=500).map(lambda x: x * 2)
    with pytest.raises(ValueError, match="seven"):
        frame["a"].par(**par, chunksize=100).map(fail_on_7)
    return None


def uss(proc):
    return proc.memory_full_info().uss


@pytest.mark.soak
@pytest.mark.slow
def test_memory_does_not_grow_over_many_calls(spool_dirs):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": np.arange(2000), "b": rng.random(2000)})
    groups = pd.DataFrame({"k": rng.integers(0, 100, 3000), "a": rng.random(3000)})
    wide = pd.DataFrame(rng.random((BIG, 4)))
    me = psutil.Process()
    samples = []
    for i in range(max(CALLS, WARM_UP + 5)):
        one_call(i, frame, groups, wide)
        if i + 1 == WARM_UP or i + 1 == max(CALLS, WARM_UP + 5):
            gc.collect()
            workers = sorted(worker_processes(), key=lambda p: p.pid)
            samples.append((me.memory_info().rss, [(p.pid, uss(p)) for p in workers]))
    (parent0, workers0), (parent1, workers1) = samples
    print(f"\n{CALLS} calls: caller RSS {parent0 / MB:.1f} -> {parent1 / MB:.1f} MB; workers USS "
          + ", ".join(f"{a / MB:.1f} -> {b / MB:.1f} MB" for (_, a), (_, b) in zip(workers0,
                                                                                  workers1)))
    # the warm pool served every call: the same two workers at the start and the end
    assert [pid for pid, _ in workers0] == [pid for pid, _ in workers1], samples
    assert len(workers1) == 2, samples
    # a call that kept one chunk alive would add 2 MB per call (the spooled ones)
    assert parent1 - parent0 < 32 * MB, samples
    for (_, before), (_, after) in zip(workers0, workers1):
        assert after - before < 32 * MB, samples
    assert leftovers(spool_dirs) == []
