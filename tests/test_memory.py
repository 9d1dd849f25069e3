"""Large results with processes: the caller holds the results and a bounded window of chunks.

Measured in a subprocess, from its peak resident memory (``VmHWM``: unlike ``ru_maxrss``, it
does not inherit the high-water mark of the process that started it).
"""

import json
import os
import subprocess
import sys

import pytest

ROWS = 300
CHUNKSIZE = 10
MAX_INFLIGHT = 4
MB = 1 << 20

PROGRAM = f"""
import json
import numpy as np, pandas as pd, pdpar

def one_megabyte(row):
    return np.full({MB} // 8, row["x"], dtype=np.float64)

def peak():
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024

df = pd.DataFrame({{"x": np.arange({ROWS}, dtype=np.float64)}})
df.iloc[:4].par(backend="processes", n_jobs=2, chunksize=1).apply(one_megabyte, axis=1)
before = peak()
out = df.par(backend="processes", n_jobs=2, chunksize={CHUNKSIZE},
             max_inflight={MAX_INFLIGHT}).apply(one_megabyte, axis=1)
growth = peak() - before
# what pandas returns (its own result would cost as much memory again: compare its shape)
expected = df.iloc[:3].apply(one_megabyte, axis=1)
assert out.dtype == expected.dtype and out.index.equals(df.index)
assert all(a.shape == (len(expected.iloc[0]),) and (a == x).all() for a, x in zip(out, df["x"]))
print(json.dumps({{"growth": growth, "results": int(sum(a.nbytes for a in out))}}))
"""


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux's /proc")
def test_large_results_cost_the_caller_their_size_plus_a_bounded_window():
    done = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    measured = json.loads(done.stdout)
    growth, results = measured["growth"], measured["results"]
    window = MAX_INFLIGHT * CHUNKSIZE * MB  # results of the chunks in flight
    print(f"\npeak memory grew by {growth / MB:.0f} MB for {results / MB:.0f} MB of results")
    assert results == ROWS * MB
    # the results are kept once, plus at most the window of chunks in flight and some slack
    assert results <= growth < results + window + 64 * MB
