"""The fixed cost of a warm call with processes on a small frame.

    python benchmarks/overhead.py [--rows 10000] [--repeat 21] [--json PATH]

For a 10,000-row frame, times serial pandas and pdpar with ``backend="processes"`` (after a
first call that starts the pool), with a trivial row function and with W1's row function. The
overhead is pdpar's time minus the ideal parallel time (serial time / workers): what dispatch,
transport, measuring and assembly add to the function's own work.

The two are timed in alternation, pandas then pdpar, ``--repeat`` times: this machine's speed
drifts from one second to the next, so the overhead is the median of the pairs' overheads,
and the times shown are the medians of each. Before each pair a loop pinned to each CPU gives
the two-core ceiling of the moment (one CPU may run slower than the other); the second
overhead is over serial / that ceiling, the best two workers could do then.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

import pdpar  # noqa: E402
from benchmarks.ceiling import core_speeds, two_core_ceiling  # noqa: E402
from benchmarks.workloads import format_seconds, mixed_frame, row_score, timed  # noqa: E402


def trivial(row: pd.Series) -> float:
    """A row function that costs next to nothing, so the overhead is all there is."""
    return row["a"]


def alternated(serial, parallel, n_jobs: int, repeat: int) -> dict[str, float]:
    """Median serial time, median parallel time, the median of the pairs' overheads over
    serial / workers, and over serial / the two-core ceiling of the moment."""
    pairs = []
    for _ in range(repeat):
        ceiling = two_core_ceiling(core_speeds()) if n_jobs == 2 else float(n_jobs)
        pairs.append((timed(serial)[1], timed(parallel)[1], ceiling))
    return {"pandas_s": statistics.median(s for s, _, _ in pairs),
            "pdpar_processes_s": statistics.median(p for _, p, _ in pairs),
            "overhead_s": statistics.median(p - s / n_jobs for s, p, _ in pairs),
            "ceiling": statistics.median(c for _, _, c in pairs),
            "overhead_at_ceiling_s": statistics.median(p - s / c for s, p, c in pairs)}


def measure(rows: int, repeat: int) -> list[dict]:
    df = mixed_frame(rows)
    n_jobs = 2
    out = []
    for name, func in [("trivial row function", trivial), ("W1 row function", row_score)]:
        expected = df.apply(func, axis=1)
        par = df.par(backend="processes", n_jobs=n_jobs)
        pd.testing.assert_series_equal(par.apply(func, axis=1), expected, check_exact=True)
        times = alternated(lambda f=func: df.apply(f, axis=1),
                           lambda f=func, p=par: p.apply(f, axis=1), n_jobs, repeat)
        out.append({"function": name, "rows": rows, "n_jobs": n_jobs, **times})
    pdpar.shutdown()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--json", type=Path, default=None)
    options = parser.parse_args()
    results = measure(options.rows, options.repeat)
    for r in results:
        print(f"{r['function']}, {r['rows']:,} rows: pandas {format_seconds(r['pandas_s'])}, "
              f"pdpar processes (warm) {format_seconds(r['pdpar_processes_s'])}, overhead over "
              f"pandas / {r['n_jobs']}: {format_seconds(r['overhead_s'])}; over pandas / the "
              f"two-core ceiling of the moment (median {r['ceiling']:.2f}): "
              f"{format_seconds(r['overhead_at_ceiling_s'])}")
    if options.json is not None:
        options.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
