"""The first call of a fresh process, and the calls after it: serial pandas against pdpar.

    python benchmarks/firstcall.py [--sizes 1000,10000,100000] [--repeats 9] [--out PATH]

W2 (``s.map(lambda x: x ** 2)``, the lightest function there is, where pdpar's own overhead
shows in full) in a fresh interpreter that has imported pandas and pdpar: the first call
(cold: nothing measured, nothing imported lazily yet) and then the median of 20 more (warm), by
serial pandas in one process and by pdpar's default (``backend="auto"``) in another. Processes
alternate, pandas then pdpar, ``--repeats`` times per size; each figure is the median over the
repeats, and the difference is taken process pair by process pair, so the machine's drift
falls on both alike. Results are checked against pandas in each pdpar process.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time
import pandas as pd
import pdpar
n, method = int(sys.argv[1]), sys.argv[2]
s = pd.Series(range(n), dtype="int64")
f = lambda x: x ** 2
run = (lambda: s.map(f)) if method == "pandas" else (lambda: s.par.map(f))
started = time.perf_counter()
first = run()
cold = time.perf_counter() - started
warm = []
for _ in range(20):
    started = time.perf_counter()
    got = run()
    warm.append(time.perf_counter() - started)
if method != "pandas":
    pd.testing.assert_series_equal(got, s.map(f))
    pd.testing.assert_series_equal(first, s.map(f))
warm.sort()
print(json.dumps({"cold": cold, "warm": warm[len(warm) // 2],
                  "plan": str(pdpar.last_plan()) if method != "pandas" else None}))
"""


def child(n: int, method: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(n), method], check=True,
                         capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(n: int, repeats: int) -> dict:
    pairs = []
    for _ in range(repeats):
        pandas, pdpar = child(n, "pandas"), child(n, "pdpar")
        pairs.append((pandas, pdpar))
    return {
        "size": n,
        "pandas_cold": statistics.median(p["cold"] for p, _ in pairs),
        "pdpar_cold": statistics.median(q["cold"] for _, q in pairs),
        "cold_extra": statistics.median(q["cold"] - p["cold"] for p, q in pairs),
        "pandas_warm": statistics.median(p["warm"] for p, _ in pairs),
        "pdpar_warm": statistics.median(q["warm"] for _, q in pairs),
        "warm_ratio": statistics.median(q["warm"] / p["warm"] for p, q in pairs),
        "plan": pairs[-1][1]["plan"],
    }


def render(rows: list[dict], argv: str, started: str, load: float) -> str:
    lines = ["# The first call of a fresh process", "",
             f"`python benchmarks/firstcall.py {argv}`, {started}; load average (1 min) at "
             f"the start {load:.2f}. W2: `s.map(lambda x: x ** 2)`. Medians over fresh "
             "processes, pandas and pdpar alternating; the extra time of pdpar's first call "
             "and the ratio of its warm calls are taken pair by pair.", "",
             "| elements | pandas cold | pdpar cold | pdpar's extra (cold) | pandas warm "
             "| pdpar warm | pdpar / pandas (warm) | pdpar's plan |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['size']:,} | {r['pandas_cold'] * 1e3:.2f} ms | {r['pdpar_cold'] * 1e3:.2f} ms "
            f"| {r['cold_extra'] * 1e3:+.2f} ms | {r['pandas_warm'] * 1e3:.2f} ms "
            f"| {r['pdpar_warm'] * 1e3:.2f} ms | {r['warm_ratio']:.2f} | {r['plan']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    started, load = time.strftime("%Y-%m-%d %H:%M"), os.getloadavg()[0]
    rows = [measure(int(n), args.repeats) for n in args.sizes.split(",")]
    text = render(rows, " ".join(sys.argv[1:] if argv is None else argv), started, load)
    print(text)
    if args.out is not None:
        args.out.write_text(text)
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
