"""pdpar, serial pandas and the peers timed in rounds, one call of each per round.

    python benchmarks/interleaved.py [--only W1,W3] [--rounds 5] [--size N] [--out PATH]

``run.py`` times each method in turn, so a method is compared with serial pandas measured
minutes earlier; on a shared machine whose speed drifts by a third from one minute to the next,
that can decide which method looks faster. Here every method of a workload runs in its own
process at once (started, warmed with its cold call, then idle), and the rounds call each in
turn. The speed-up of a method is the median over rounds of serial pandas' time in that round
(same environment) divided by the method's: drift between rounds cancels out. Every result is
checked against serial pandas as in ``run.py``. A method whose cold call takes longer than
``--budget`` gets no rounds. Before each round a loop pinned to each CPU in turn measures how
fast each is at that moment (the host may slow one and not the other); with them, the round's
two-core ceiling, and each method's speed-up as a share of it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

from benchmarks.ceiling import core_speeds, two_core_ceiling  # noqa: E402
from benchmarks.methods import METHODS, REFERENCE  # noqa: E402
from benchmarks.run import ENVS, env_info, interpreter, machine_info  # noqa: E402
from benchmarks.workloads import WORKLOADS, Workload  # noqa: E402

#: The workload's own ceiling, timed in every round (:class:`benchmarks.methods.PandasHalves`).
HALVES = "pandas in two halves at once"
HALVES_ENV = METHODS[HALVES].env


class Served:
    """A method's process in ``--serve`` mode."""

    def __init__(self, workload: Workload, size: int, name: str, env: str, python: str,
                 refs: Path, scratch: Path, budget: float, tag: str = "",
                 variables: dict[str, str] | None = None) -> None:
        self.name, self.env, self.times = name, env, []
        self.state = "starting"
        label = f"{env}-{name.replace(' ', '_')}{tag}"
        log = open(scratch / f"{workload.key}-{label}.log", "w")
        self.process = subprocess.Popen(
            [python, "-m", "benchmarks.child", "--workload", workload.key, "--size", str(size),
             "--method", name, "--env", env, "--refs", str(refs),
             "--out", str(scratch / f"{label}.json"),
             "--budget", str(budget), "--serve"],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore", **(variables or {})})

    def ready(self) -> str:
        """Wait for the cold call: READY, SLOW, WRONG or an error."""
        line = self._line()
        self.state = line[2:].lower() if line.startswith("@@") else "error"
        return self.state

    def call(self) -> float | None:
        assert self.process.stdin is not None
        self.process.stdin.write("go\n")
        self.process.stdin.flush()
        line = self._line()
        if not line.startswith("@@TIME "):
            self.state = "wrong" if line == "@@WRONG" else "error"
            return None
        seconds = float(line.split()[1])
        self.times.append(seconds)
        return seconds

    def _line(self) -> str:
        assert self.process.stdout is not None
        while line := self.process.stdout.readline():
            if line.startswith("@@"):
                return line.strip()
        return ""

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()


def run_workload(workload: Workload, rounds: int, budget: float, pythons: dict[str, str],
                 size: int | None = None) -> list[dict]:
    size = size or max(workload.sizes["full"])
    scratch = Path(tempfile.mkdtemp(prefix=f"interleaved-{workload.key}-"))
    refs = scratch / "refs"
    refs.mkdir()
    served: list[Served] = []
    try:
        for env in ENVS:
            names = [n for n in workload.methods if METHODS[n].env == env
                     and not METHODS[n].supports(workload.op)]
            if REFERENCE not in names and names:
                names.insert(0, REFERENCE)
            if env == HALVES_ENV and names:
                names.insert(1, HALVES)
            for name in sorted(names, key=lambda n: n != REFERENCE):  # the reference first
                one = Served(workload, size, name, env, pythons[env], refs, scratch, budget)
                served.append(one)
                print(f"  {workload.key} {env:5s} {name:28s} {one.ready()}", flush=True)
        active = [s for s in served if s.state == "ready"]
        ceilings = []
        for r in range(rounds):
            ceilings.append(two_core_ceiling(core_speeds()))
            for one in active:
                if one.state == "ready":
                    one.call()
            print(f"  round {r + 1} (ceiling {ceilings[-1]:.2f}x): " + ", ".join(
                f"{s.name} {s.times[-1]:.2f}" for s in active if s.times and s.state == "ready"),
                flush=True)
    finally:
        for one in served:
            one.close()
        shutil.rmtree(scratch, ignore_errors=True)
    return [summary(one, served, workload, size, rounds, ceilings) for one in served]


def summary(one: Served, served: list[Served], workload: Workload, size: int,
            rounds: int, ceilings: list[float]) -> dict:
    serial = next((s for s in served if s.env == one.env and s.name == REFERENCE), None)
    halves = next((s for s in served if s.name == HALVES), None)
    speedups, of_halves = [], []
    if serial is not None and len(serial.times) == rounds and len(one.times) == rounds:
        speedups = [p / t for p, t in zip(serial.times, one.times)]
    if halves is not None and len(halves.times) == rounds and len(one.times) == rounds:
        of_halves = [h / t for h, t in zip(halves.times, one.times)]
    return {"workload": workload.key, "size": size, "method": one.name, "env": one.env,
            "state": one.state, "times": one.times, "ceilings": ceilings,
            "median_s": statistics.median(one.times) if one.times else None,
            "speedup": statistics.median(speedups) if speedups else None,
            "of_ceiling": statistics.median(s / c for s, c in zip(speedups, ceilings))
            if speedups else None,
            "of_halves": statistics.median(of_halves) if of_halves else None}


def render(rows: list[dict], rounds: int, meta: dict) -> str:
    lines = ["# Interleaved rounds", "",
             f"Generated by `python benchmarks/interleaved.py {meta['argv']}` on "
             f"{meta['date']}, in {meta['minutes']:.1f} minutes. " + __doc__.split("\n\n")[2]
             .replace("\n", " ").strip(), "",
             f"- Machine: {meta['cpu']}; `os.cpu_count()` = {meta['cpus']}.",
             f"- Load average (1 min) when the run started: {meta['load']:.2f}."]
    for env, info in meta["envs"].items():
        packages = ", ".join(f"{k} {v}" for k, v in info.get("packages", {}).items())
        lines.append(f"- {env} environment: Python {info.get('python')}, {packages}.")
    for key in dict.fromkeys(r["workload"] for r in rows):
        mine = [r for r in rows if r["workload"] == key]
        ceilings = mine[0]["ceilings"]
        lines += ["", f"## {key}: {WORKLOADS[key].title}", "",
                  f"{mine[0]['size']:,} {WORKLOADS[key].unit}; {rounds} rounds. Two-core "
                  "ceiling of each round (1 + the slower CPU's speed / the faster one's, from a "
                  "loop pinned to each CPU before the round): "
                  + ", ".join(f"{c:.2f}" for c in ceilings) + ".", "",
                  f"\"{HALVES}\": serial pandas on each half of the input (whole groups on "
                  "each side of the median key; a window's second half with the rows its first "
                  "windows read) in two processes forked with their half, nothing sent and "
                  "nothing assembled: what two processes of this very code do on this machine "
                  "in that round, shared caches and all. Its speed-up is the workload's "
                  "ceiling; a method's share of it is, round by round, the halves' time over "
                  "the method's.", "",
                  "| method | env | median s | speed-up vs serial pandas (median of rounds) "
                  "| share of the round's ceiling (median) "
                  "| share of pandas in two halves (median) | every round (s) |",
                  "|---|---|---|---|---|---|---|"]
        for r in mine:
            if r["state"] != "ready":
                why = {"slow": "cold call longer than the budget: no rounds",
                       "wrong": "wrong result", "error": "error (see its log)"}
                lines.append(f"| {r['method']} | {r['env']} | — | — | — | — | "
                             f"{why.get(r['state'], r['state'])} |")
                continue
            speedup = f"{r['speedup']:.2f}×" if r["speedup"] else "—"
            share = f"{r['of_ceiling']:.0%}" if r["of_ceiling"] else "—"
            halves = f"{r['of_halves']:.0%}" if r.get("of_halves") else "—"
            lines.append(f"| {r['method']} | {r['env']} | {r['median_s']:.3g} | {speedup} | "
                         f"{share} | {halves} | "
                         + ", ".join(f"{t:.3g}" for t in r["times"]) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="W1,W3")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--budget", type=float, default=30.0)
    parser.add_argument("--size", type=int, default=None,
                        help="input size for every workload run (default: its full size)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks-interleaved.md")
    args = parser.parse_args(argv)
    pythons = {env: interpreter(env, None) for env in ENVS}
    started = time.perf_counter()
    machine = machine_info()
    meta = {"argv": " ".join(sys.argv[1:] if argv is None else argv),
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "cpu": machine.get("cpu"),
            "cpus": os.cpu_count(), "load": os.getloadavg()[0],
            "envs": {env: env_info(python) or {} for env, python in pythons.items()}}
    rows: list[dict] = []
    for key in args.only.split(","):
        rows += run_workload(WORKLOADS[key], args.rounds, args.budget, pythons, args.size)
    meta["minutes"] = (time.perf_counter() - started) / 60
    args.out.write_text(render(rows, args.rounds, meta))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
