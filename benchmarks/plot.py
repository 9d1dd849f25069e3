"""Draw the overhead curve (W2) from a benchmark results file.

    python benchmarks/plot.py [--json RESULTS.json] [--out docs/img/overhead-curve.png]

For each input size of W2 (``s.map(lambda x: x ** 2)``), the median warm time of each method
divided by serial pandas' median warm time in the same environment: below 1 the method is
faster than pandas, above 1 it costs more than it saves. Needs matplotlib (``pip install -e
".[plot]"``).
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: Methods drawn, in legend order, with their line style.
STYLES = {
    "pdpar auto": {"color": "tab:blue", "linewidth": 2.5, "marker": "o"},
    "pdpar threads": {"color": "tab:cyan", "linestyle": "--", "marker": "."},
    "pdpar processes": {"color": "tab:purple", "linestyle": "--", "marker": "."},
    "joblib": {"color": "tab:gray", "linestyle": ":", "marker": "."},
    "pandarallel": {"color": "tab:orange", "linestyle": ":", "marker": "x"},
    "mapply": {"color": "tab:green", "linestyle": ":", "marker": "x"},
    "parallel-pandas": {"color": "tab:red", "linestyle": ":", "marker": "x"},
}


def ratios(results: list[dict], workload: str) -> dict[str, dict[int, float]]:
    """Method -> size -> median warm time / serial pandas' median warm time (same env)."""
    pandas: dict[tuple[str, int], float] = {}
    times: dict[tuple[str, str, int], float] = {}
    for r in results:
        if r["workload"] != workload or r["status"] != "ok" or not r.get("warm"):
            continue
        median = statistics.median(r["warm"])
        if r["method"] == "pandas":
            pandas[(r["env"], r["size"])] = median
        else:
            times[(r["method"], r["env"], r["size"])] = median
    out: dict[str, dict[int, float]] = defaultdict(dict)
    for (method, env, size), seconds in times.items():
        if (env, size) in pandas:
            out[method][size] = seconds / pandas[(env, size)]
    return out


def draw(results: list[dict], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = ratios(results, "W2")
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    for method, style in STYLES.items():
        points = sorted(curves.get(method, {}).items())
        if points:
            ax.plot([p[0] for p in points], [p[1] for p in points], label=method, **style)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("elements in s.map(lambda x: x ** 2)")
    ax.set_ylabel("time / serial pandas (lower is faster)")
    ax.set_title("W2: what parallel costs on a light function (2 cores)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    print(f"wrote {out}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, default=HERE / "results" / "latest.json")
    parser.add_argument("--out", type=Path,
                        default=HERE.parent / "docs" / "img" / "overhead-curve.png")
    args = parser.parse_args(argv)
    draw(json.loads(args.json.read_text())["results"], args.out)


if __name__ == "__main__":
    main()
