"""backend="dask" on a local cluster (2 worker processes of one thread, loopback) against
serial pandas and backend="processes": W1's row function, a 256 MB frame's transfer, and the
cost per chunk. The numbers in docs/scaling-out.md come from this script.

    python benchmarks/cluster.py [rows]
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

import pdpar  # noqa: E402
from benchmarks.workloads import mixed_frame, row_score, timed  # noqa: E402


def best(call, repeat=2):
    """Fastest of ``repeat`` timed calls (seconds)."""
    return timed(call, repeat)[1]


def total(column):
    return column.sum()


def local_cluster(**client_options):
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None,
                           scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
    return cluster, Client(cluster, **client_options)


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    cluster, client = local_cluster()
    df = mixed_frame(rows)
    expected = df.apply(row_score, axis=1)
    on_dask = df.par(backend="dask")
    on_processes = df.par(backend="processes", n_jobs=2)
    pd.testing.assert_series_equal(on_dask.apply(row_score, axis=1), expected)
    pd.testing.assert_series_equal(on_processes.apply(row_score, axis=1), expected)
    serial = best(lambda: df.apply(row_score, axis=1))
    processes = best(lambda: on_processes.apply(row_score, axis=1))
    dask = best(lambda: on_dask.apply(row_score, axis=1))
    print(f"W1, {rows:,} rows: serial {serial:.2f} s, processes {processes:.2f} s, "
          f"dask {dask:.2f} s")
    print(f"  dask sent {pdpar.last_transfer()}; the frame holds "
          f"{int(df.memory_usage(index=False, deep=True).sum()):,} bytes")

    big = pd.DataFrame(np.random.default_rng(0).random((1_000_000, 32)))  # 256 MB
    pd.testing.assert_series_equal(big.par(backend="dask", chunksize=1).apply(total),
                                   big.apply(total))
    processes = best(lambda: big.par(backend="processes", n_jobs=2, chunksize=1).apply(total))
    dask = best(lambda: big.par(backend="dask", chunksize=1).apply(total))
    print(f"256 MB frame, 32 column chunks: processes {processes:.2f} s, dask {dask:.2f} s")
    print(f"  dask sent {pdpar.last_transfer()}")
    client.close()
    cluster.close()

    cluster, client = local_cluster(direct_to_workers=True)
    dask = best(lambda: big.par(backend="dask", chunksize=1).apply(total))
    print(f"  the same with Client(direct_to_workers=True): dask {dask:.2f} s")
    s = pd.Series(range(2000))
    dask = best(lambda: s.par(backend="dask", chunksize=10).map(abs))
    processes = best(lambda: s.par(backend="processes", n_jobs=2, chunksize=10).map(abs))
    print(f"cost per chunk, 2,000 elements in 200 chunks of 10, abs: dask {dask:.2f} s, "
          f"processes {processes:.2f} s")
    client.close()
    cluster.close()
    pdpar.shutdown()


if __name__ == "__main__":
    main()
