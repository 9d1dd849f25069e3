"""Real feature-engineering functions (benchmarks/corpus.py) timed against serial pandas.

    python benchmarks/realworld.py [--only a,b] [--rounds 3] [--busy N] [--scale X]
                                   [--out PATH] [--json PATH] [--list]

For each case of the corpus, every method (serial pandas; pdpar auto, processes and threads, each
with n_jobs=2) runs in a process of its own, started afresh: it builds the case's data, makes its
cold call (the first call in a fresh interpreter, before any pool has started) and waits. Then the
rounds call each method once in turn (the order rotating from round to round), so that the
machine's drift from one minute to the next falls on every method alike. A method's warm time is
the best of its rounds; its speed-up is the median over rounds of serial pandas' time in the round
divided by its own. Before each round a loop pinned to each CPU in turn gives the round's two-core
ceiling (benchmarks/ceiling.py). Every result, cold and warm, is compared exactly with serial
pandas' (pandas.testing, check_exact: values, dtypes, index and names), and pdpar auto's plan
(``pdpar.last_plan()``) is recorded after each of its calls.

``--busy N`` keeps N pure-Python spinning processes (pinned nowhere) running from before the first
measurement to after the last. The load average and the ceilings are recorded at the start and
the end. The report goes to ``--out`` (Markdown), the raw numbers to ``--json`` (rewritten after
every case).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import pickle
import platform
import queue
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

from benchmarks import ceiling  # noqa: E402
from benchmarks.corpus import CASES, Case, Instance  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
N_JOBS = 2
#: name -> options of ``obj.par(...)``; None is serial pandas, the reference.
METHODS: dict[str, dict[str, Any] | None] = {
    "pandas": None,
    "pdpar auto": {"backend": "auto", "n_jobs": N_JOBS},
    "pdpar processes": {"backend": "processes", "n_jobs": N_JOBS},
    "pdpar threads": {"backend": "threads", "n_jobs": N_JOBS},
}
REFERENCE = "pandas"
AUTO = "pdpar auto"
SLOWER = 0.95  # the report lists the cases where auto's speed-up is below this

# A pure-Python loop that ends when the process that started it is gone.
SPIN = ("import os\nparent = os.getppid()\nwhile os.getppid() == parent:\n"
        "    for _ in range(200_000):\n        pass\n")


# --- the child: one method of one case, in a fresh process ---------------------------------

def _assert_same(result: Any, expected: Any) -> None:
    import pandas as pd

    if isinstance(expected, pd.DataFrame):
        pd.testing.assert_frame_equal(result, expected, check_exact=True)
    else:
        pd.testing.assert_series_equal(result, expected, check_exact=True)


def _difference(result: Any, expected: Any) -> str | None:
    """None if ``result`` is exactly ``expected``, else a one-line reason."""
    try:
        _assert_same(result, expected)
    except AssertionError as exc:
        return " ".join(str(exc).split())[:300]
    return None


def _plan() -> dict[str, Any] | None:
    import pdpar

    plan = pdpar.last_plan()
    if plan is None:
        return None
    return {"plan": str(plan), "explain": plan.explain(),
            "backend": "pandas" if plan.plain else plan.backend}


def _call(instance: Instance, par: dict[str, Any] | None) -> tuple[Any, float, float]:
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    result = instance.run(par)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def serve(args: argparse.Namespace) -> None:
    """Build the data and answer ``@@BUILT``; at the first line read on stdin make the cold
    call and answer ``@@READY``; then one warm call per line, each answered ``@@TIME
    <seconds>``; write the record when stdin closes. A result that differs from the reference
    is answered ``@@WRONG`` and ends the process, an exception ``@@ERROR``."""
    warnings.simplefilter("ignore")
    case, par = CASES[args.case], METHODS[args.method]
    reference = Path(args.refs) / f"{case.key}.pkl"
    record: dict[str, Any] = {"method": args.method, "status": "ok", "detail": "",
                              "cold": None, "cold_cpu": None, "warm": [], "warm_cpu": [],
                              "plans": []}
    try:
        if par is not None:
            import pdpar  # noqa: F401  (registers the accessor; not timed)
        instance = case.build(args.scale)
        record["data"] = instance.describe()
        print("@@BUILT", flush=True)
        if not sys.stdin.readline():
            record.update(status="not run", detail="no cold call: serial pandas failed")
            return
        result, record["cold"], record["cold_cpu"] = _call(instance, par)
        if par is not None:
            record["plans"].append(_plan())
        if par is None:
            with open(reference, "wb") as handle:
                pickle.dump(result, handle, protocol=pickle.HIGHEST_PROTOCOL)
            expected = result
        else:
            with open(reference, "rb") as handle:
                expected = pickle.load(handle)
        wrong = _difference(result, expected)
        del result
        if wrong:
            record.update(status="wrong", detail=f"cold call: {wrong}")
            print("@@WRONG", flush=True)
            return
        print("@@READY", flush=True)
        for _ in sys.stdin:
            result, seconds, cpu = _call(instance, par)
            if par is not None:
                record["plans"].append(_plan())
            wrong = _difference(result, expected)
            del result
            if wrong:
                record.update(status="wrong", detail=f"warm call: {wrong}")
                print("@@WRONG", flush=True)
                return
            record["warm"].append(seconds)
            record["warm_cpu"].append(cpu)
            print(f"@@TIME {seconds!r}", flush=True)
    except Exception as exc:
        traceback.print_exc()
        text = str(exc).strip().splitlines()
        record.update(status="error",
                      detail=f"{type(exc).__name__}: {text[0] if text else ''}"[:300])
        print("@@ERROR", flush=True)
    finally:
        Path(args.record).write_text(json.dumps(record))


# --- the parent: children, rounds, busy processes ------------------------------------------

class Child:
    """One method of one case in its own process (``--serve``)."""

    def __init__(self, case: Case, name: str, scale: float, scratch: Path, logs: Path,
                 timeout: float) -> None:
        self.name, self.timeout, self.state = name, timeout, "starting"
        label = f"{case.key}-{name.replace(' ', '_')}"
        self.record_path = scratch / f"{label}.json"
        self.log = open(logs / f"realworld-{label}.log", "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.realworld", "--serve", "--case", case.key,
             "--method", name, "--scale", repr(scale), "--refs", str(scratch),
             "--record", str(self.record_path)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
            text=True, start_new_session=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"})
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("@@"):
                self.lines.put(line.strip())
        self.lines.put("")  # the child's stdout closed

    def _answer(self) -> str:
        try:
            return self.lines.get(timeout=self.timeout)
        except queue.Empty:
            self.kill()
            return "@@TIMEOUT"

    def built(self) -> str:
        """Wait for the data to be built: "built", "error" or "timeout"."""
        line = self._answer()
        self.state = line[2:].lower() if line.startswith("@@") else "error"
        return self.state

    def cold(self) -> str:
        """Make the cold call: "ready", "wrong", "error" or "timeout"."""
        if self.state == "built":
            self.call()
        return self.state

    def call(self) -> float | None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write("go\n")
            self.process.stdin.flush()
        except OSError:
            self.state = "error"
            return None
        line = self._answer()
        if not line.startswith("@@TIME "):
            self.state = line[2:].lower() if line.startswith("@@") else "error"
            return None
        self.state = "ready"
        return float(line.split()[1])

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # the child and any worker it started
        except (ProcessLookupError, PermissionError):
            pass

    def close(self) -> dict[str, Any]:
        """End the child (stdin closes: it writes its record) and return the record."""
        if self.process.stdin is not None:
            try:
                self.process.stdin.close()
            except OSError:
                pass
        try:
            self.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.kill()
            self.process.wait()
        self.log.close()
        try:
            record = json.loads(self.record_path.read_text())
        except (OSError, ValueError):
            record = {"method": self.name, "status": "error", "cold": None, "warm": [],
                      "plans": [], "detail": f"no record (exit {self.process.returncode}, "
                      f"state {self.state}); see {Path(self.log.name).relative_to(ROOT)}"}
        if self.state == "timeout":
            record.update(status="error", detail=f"a call took longer than {self.timeout:.0f} s")
        return record


def start_busy(count: int) -> list[subprocess.Popen]:
    """``count`` processes spinning a pure-Python loop, pinned nowhere."""
    return [subprocess.Popen([sys.executable, "-S", "-c", SPIN], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(count)]


def stop_busy(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def machine_state() -> dict[str, Any]:
    """Load average, two processes against one, and the pinned loops' two-core ceiling, now."""
    speeds = ceiling.core_speeds()
    return {"load_average": list(os.getloadavg()), **ceiling.measure(),
            "core_seconds": [round(s, 4) for s in speeds],
            "two_core_ceiling": round(ceiling.two_core_ceiling(speeds), 2)}


def run_case(case: Case, args: argparse.Namespace, scratch: Path, logs: Path) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix=f"{case.key}-", dir=scratch))
    started: list[Child] = []
    ceilings: list[float] = []
    times: dict[str, list[float | None]] = {name: [] for name in METHODS}
    try:
        # Every method's process imports and builds its data at once; then the cold calls,
        # one at a time, the reference first: the others check against its result.
        for name in METHODS:
            started.append(Child(case, name, args.scale, folder, logs, args.timeout))
        for child in started:
            child.built()
        for child in started:
            if child.name != REFERENCE and started[0].state != "ready":
                break  # nothing to check against
            print(f"  {case.key} {child.name:16s} cold call: {child.cold()}", flush=True)
        children = [child for child in started if child.state == "ready"]
        for r in range(args.rounds if children else 0):
            ceilings.append(ceiling.two_core_ceiling(ceiling.core_speeds()))
            for child in children[r % len(children):] + children[:r % len(children)]:
                times[child.name].append(child.call() if child.state == "ready" else None)
            print(f"  round {r + 1} (ceiling {ceilings[-1]:.2f}x): " + ", ".join(
                f"{n} {t[-1]:.3g}" for n, t in times.items() if t and t[-1] is not None),
                flush=True)
    finally:
        records = {child.name: child.close() for child in started}
        shutil.rmtree(folder, ignore_errors=True)
    return summarise(case, args.scale, records, times, ceilings)


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def summarise(case: Case, scale: float, records: dict[str, dict[str, Any]],
              times: dict[str, list[float | None]], ceilings: list[float]) -> dict[str, Any]:
    serial = times[REFERENCE]
    methods = {}
    for name in METHODS:
        record = records.get(name) or {"status": "not run", "detail": "serial pandas failed",
                                       "cold": None, "warm": [], "plans": []}
        mine = times[name]
        pairs = [(s, t) for s, t in zip(serial, mine) if s is not None and t is not None]
        complete = record["status"] == "ok" and len(pairs) == len(ceilings) and pairs
        speedups = [s / t for s, t in pairs] if complete else []
        serial_cold = (records.get(REFERENCE) or {}).get("cold")
        methods[name] = {
            **record,
            "best": min(record["warm"]) if record["warm"] else None,
            "speedups": speedups,
            "speedup": _median(speedups),
            "of_ceiling": _median([s / c for s, c in zip(speedups, ceilings)]),
            "cold_speedup": serial_cold / record["cold"]
            if serial_cold and record.get("cold") and record["status"] == "ok" else None,
        }
    data = next((r.get("data") for r in records.values() if r.get("data")), None)
    return {"case": case.key, "title": case.title, "entry": case.entry, "call": case.call,
            "scale": scale, "long": case.long, "units": case.size(scale), "unit": case.unit,
            "data": data, "ceilings": ceilings, "methods": methods}


# --- the report ----------------------------------------------------------------------------

def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:.3g}"


def _x(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


def _backend(plans: list[dict[str, Any] | None]) -> str:
    """Auto's choice: that of the warm calls (all of them, if they differ), and the cold
    call's when it differs."""
    names = [p["backend"] if p else "?" for p in plans]
    if not names:
        return "—"
    warm = list(dict.fromkeys(names[1:])) or names[:1]
    text = " / ".join(warm)
    if names[0] not in warm:
        text += f" (cold: {names[0]})"
    return text


def _cell(method: dict[str, Any], with_speedup: bool = True) -> str:
    if method["status"] != "ok":
        return f"{method['status']}"
    text = _s(method["best"])
    return f"{text} ({_x(method['speedup'])})" if with_speedup else text


def summary_lines(cases: list[dict[str, Any]]) -> list[str]:
    """What the targets read: auto's worst speed-up, its median over the CPU-bound cases of
    1 s or more, the cases below 0.95x, and the same for the cold calls."""
    auto = [(c["case"], c["methods"][AUTO]) for c in cases]
    failed = [f"{k} ({m['status']})" for k, m in auto if m["status"] != "ok"
              or m["speedup"] is None]
    ok = [(k, m) for k, m in auto if m["status"] == "ok" and m["speedup"] is not None]
    lines = []
    if ok:
        key, worst = min(ok, key=lambda km: km[1]["speedup"])
        lines.append(f"- pdpar auto's worst speed-up (median of rounds): "
                     f"**{_x(worst['speedup'])}** ({key}).")
    long = [(k, m) for k, m in ok if next(c for c in cases if c["case"] == k)["long"]]
    if long:
        median = statistics.median(m["speedup"] for _, m in long)
        lines.append(f"- Median of pdpar auto's speed-ups over the CPU-bound cases of 1 s or "
                     f"more ({len(long)}: {', '.join(k for k, _ in long)}): **{_x(median)}**.")
    else:
        lines.append("- Median over the CPU-bound cases of 1 s or more: none was run.")
    below = [f"{k} {_x(m['speedup'])}" for k, m in ok if m["speedup"] < SLOWER]
    lines.append(f"- Cases where pdpar auto is below {SLOWER}×: "
                 + ("**" + ", ".join(below) + "**." if below else "none."))
    cold = [(k, m) for k, m in ok if m["cold_speedup"] is not None]
    if cold:
        key, worst = min(cold, key=lambda km: km[1]["cold_speedup"])
        slow = [f"{k} {_x(m['cold_speedup'])}" for k, m in cold if m["cold_speedup"] < SLOWER]
        lines.append(f"- Cold calls (serial pandas' first call ÷ auto's first call, each in a "
                     f"fresh process): worst {_x(worst['cold_speedup'])} ({key}); below "
                     f"{SLOWER}×: " + (", ".join(slow) if slow else "none") + ".")
    if failed:
        lines.append(f"- pdpar auto failed or gave a wrong result: **{', '.join(failed)}**.")
    serial = [(c["case"], c["long"], c["methods"][REFERENCE]["best"]) for c in cases
              if c["scale"] == 1]
    shorter = [k for k, marked, best in serial if marked and best is not None and best < 1.0]
    longer = [k for k, marked, best in serial if not marked and best is not None and best >= 1.0]
    if shorter:
        lines.append("- Marked ≥1 s but serial pandas took less here: " + ", ".join(shorter)
                     + ".")
    if longer:
        lines.append("- Not marked ≥1 s but serial pandas took 1 s or more here: "
                     + ", ".join(longer) + ".")
    return lines


def _state_line(label: str, state: dict[str, Any] | None) -> str:
    if not state:
        return f"- {label}: not measured."
    load = ", ".join(f"{v:.2f}" for v in state["load_average"])
    steal = state.get("steal_share")
    return (f"- {label}: load average {load} (1, 5, 15 min); two processes did "
            f"{state['two_process_speedup_median']:.2f}× the work of one (median of "
            f"{state['trials']}, best {state['two_process_speedup']:.2f}"
            + (f", host steal {steal:.1%}" if steal is not None else "")
            + f"); pinned loops {state['core_seconds']} s, two-core ceiling "
            f"{state['two_core_ceiling']:.2f}×.")


def render(results: dict[str, Any]) -> str:
    meta, cases = results["meta"], results["cases"]
    busy = meta["busy"]
    lines = [
        "# Real-world feature engineering: pdpar against serial pandas", "",
        f"Generated by `{meta['command']}` on {meta['date']}"
        + (f", in {meta['minutes']:.1f} minutes" if meta.get("minutes") else "")
        + f"; scale {meta['scale']:g}, {meta['rounds']} round{'s' if meta['rounds'] > 1 else ''}.",
        "",
        f"- Machine: {meta['cpu']}; `os.cpu_count()` = {meta['cpu_count']}, usable CPUs "
        f"{meta['usable_cpus']}; {meta['system']}.",
        f"- Python {meta['python']}, pandas {meta['pandas']}, numpy {meta['numpy']}, pdpar "
        f"{meta['pdpar']} (commit {meta['commit']}).",
        (f"- **{busy} busy process{'es' if busy > 1 else ''}** (pure-Python loops, pinned "
         "nowhere) ran from before the first measurement to after the last." if busy else
         "- No busy processes were started (`--busy 0`)."),
        "- Load average before anything started: "
        + ", ".join(f"{v:.2f}" for v in meta["load_before"]) + ".",
        _state_line("At the start", meta.get("start")),
        _state_line("At the end", meta.get("end")),
        "",
        "Each method runs in its own fresh process per case: the cold call is its first call "
        "(pdpar's pools not started), then one warm call per round, the methods taking turns. "
        "**warm s** is the best of the rounds; a speed-up is the median over rounds of serial "
        "pandas' time in the round ÷ the method's (above 1: faster than pandas). Every result "
        "equals serial pandas' exactly (`check_exact`), or the cell says `wrong`. All methods "
        f"use n_jobs={N_JOBS}. The last column is the median of the rounds' two-core ceilings "
        "(1 + the slower CPU's speed ÷ the faster one's, from a loop pinned to each before the "
        "round). ≥1 s marks the CPU-bound cases sized for 1 s or more of serial pandas at "
        "scale 1 on a 2-CPU machine (every case is CPU-bound: none waits on I/O).", "",
        "| case | entry point | data | ≥1 s | serial s | auto cold s | auto warm s "
        "| auto speed-up (serial ÷ auto) | processes s (speed-up) | threads s (speed-up) "
        "| auto's backend | ceiling |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in cases:
        m = c["methods"]
        auto = m[AUTO]
        lines.append(
            f"| {c['case']} | `{c['call']}` | {c['data'] or c['units']} | "
            f"{'✓' if c['long'] else ''} | {_cell(m[REFERENCE], False)} | "
            f"{_s(auto.get('cold')) if auto['status'] == 'ok' else auto['status']} | "
            f"{_cell(auto, False)} | {_x(auto['speedup'])} | {_cell(m['pdpar processes'])} | "
            f"{_cell(m['pdpar threads'])} | {_backend(auto.get('plans') or [])} | "
            f"{_x(_median(c['ceilings']))} |")
    lines += ["", "## Summary", "", *summary_lines(cases)]
    problems = [(c["case"], name, m) for c in cases for name, m in c["methods"].items()
                if m["status"] != "ok"]
    if problems:
        lines += ["", "## Failures", ""]
        lines += [f"- {key}, {name}: {m['status']}: {m.get('detail', '')}"
                  for key, name, m in problems]
    lines += ["", "## The cases", "", "| case | what the function does | unit |", "|---|---|---|"]
    lines += [f"| {c['case']} | {c['title']} | {c['units']:,} {c['unit']} |" for c in cases]
    lines += ["", "## pdpar auto's plans", "",
              "`pdpar.last_plan().explain()` after the cold call and after the last warm call."]
    for c in cases:
        plans = c["methods"][AUTO].get("plans") or []
        if not plans:
            continue
        lines += ["", f"### {c['case']}", "", "```text", "cold call:"]
        lines += [plans[0]["explain"] if plans[0] else "(no plan)"]
        if len(plans) > 1:
            lines += ["", "last warm call:", plans[-1]["explain"] if plans[-1] else "(no plan)"]
        lines += ["```"]
    return "\n".join(lines) + "\n"


# --- the command ---------------------------------------------------------------------------

def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for name in ("pandas", "numpy", "pdpar"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "not installed"
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="comma-separated case keys (default: every case)")
    parser.add_argument("--rounds", type=int, default=3, help="warm rounds (default 3)")
    parser.add_argument("--busy", type=int, default=0,
                        help="busy processes spinning during the whole measurement")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiplies every case's size (default 1)")
    parser.add_argument("--out", type=Path, default=RESULTS / "realworld.md")
    parser.add_argument("--json", type=Path, default=RESULTS / "realworld.json")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="seconds any one call may take before its process is killed")
    parser.add_argument("--list", action="store_true", help="list the cases and stop")
    # a method of a case in its own process (started by this script)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--method", help=argparse.SUPPRESS)
    parser.add_argument("--refs", help=argparse.SUPPRESS)
    parser.add_argument("--record", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be 1 or more")
    if args.scale <= 0:
        parser.error("--scale must be positive")
    unknown = set((args.only or "").split(",")) - set(CASES) - {""}
    if unknown:
        parser.error(f"unknown case(s) {', '.join(sorted(unknown))}; the cases are "
                     + ", ".join(CASES))
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.serve:
        serve(args)
        return
    keys = [key for key in (args.only or "").split(",") if key] or list(CASES)
    if args.list:
        for key in keys:
            case = CASES[key]
            print(f"{key:18s} {case.entry:16s} {case.size(args.scale):>9,} {case.unit:9s} "
                  f"{'long ' if case.long else '     '}{case.title}")
        return
    from benchmarks.run import git_state, machine_info

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` runs
    started = time.perf_counter()
    machine = machine_info()
    command = "python benchmarks/realworld.py " + shlex.join(
        sys.argv[1:] if argv is None else argv)
    versions = _versions()
    meta: dict[str, Any] = {
        "command": command.strip(), "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "scale": args.scale, "rounds": args.rounds, "busy": args.busy,
        "cpu": machine.get("cpu"), "cpu_count": machine.get("cpu_count"),
        "usable_cpus": machine.get("usable_cpus"), "system": machine.get("system"),
        "commit": git_state(), **versions, "load_before": list(os.getloadavg()),
        "busy_pids": [],
    }
    results: dict[str, Any] = {"meta": meta, "cases": []}
    logs = RESULTS / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="realworld-"))

    def save() -> None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1))

    busy = start_busy(args.busy)
    meta["busy_pids"] = [p.pid for p in busy]
    try:
        if busy:
            print(f"{len(busy)} busy processes started: {meta['busy_pids']}", flush=True)
        meta["start"] = machine_state()
        print(_state_line("start", meta["start"]), flush=True)
        for key in keys:
            print(f"{key}: {CASES[key].title}", flush=True)
            results["cases"].append(run_case(CASES[key], args, scratch, logs))
            save()
        meta["end"] = machine_state()
        print(_state_line("end", meta["end"]), flush=True)
    finally:
        stop_busy(busy)
        shutil.rmtree(scratch, ignore_errors=True)
        meta["minutes"] = (time.perf_counter() - started) / 60
        save()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(results))
    print("\n".join(summary_lines(results["cases"])))
    print(f"wrote {args.out} and {args.json}")


if __name__ == "__main__":
    main()
