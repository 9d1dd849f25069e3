"""Run the benchmark suite and write docs/benchmarks.md.

    python benchmarks/run.py [--quick] [--only W1,W3] [--out docs/benchmarks.md]

Each (workload, size, method) runs in a fresh process of the method's environment (see
benchmarks/setup.sh), started by this script; W6 runs under the memory sampler of
:mod:`benchmarks.memory`. Results go to a JSON file after every run, then to the Markdown report
rendered by :mod:`benchmarks.report`. ``--render-only`` re-renders the report from the JSON.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

from benchmarks import ceiling, report  # noqa: E402
from benchmarks.methods import METHODS, REFERENCE  # noqa: E402
from benchmarks.workloads import WORKLOADS, Workload  # noqa: E402

BENCH = ROOT / "benchmarks"
RESULTS = BENCH / "results"
ENVS = ("pdpar", "peers")
ENV_VARIABLES = {"pdpar": "PDPAR_PYTHON", "peers": "PEERS_PYTHON"}
SETTINGS = {  # warm calls, seconds of warm calls after which no more start, child time limit
    "quick": {"reps": 3, "budget": 15.0, "timeout": 240.0},
    "full": {"reps": 3, "budget": 30.0, "timeout": 600.0},
}
ENV_INFO = """
import importlib.metadata as md, json, platform, sys
names = ["pandas", "numpy", "pdpar", "joblib", "numba", "pandarallel", "mapply",
         "parallel-pandas", "swifter", "dask"]
versions = {}
for name in names:
    try:
        versions[name] = md.version(name)
    except md.PackageNotFoundError:
        pass
print(json.dumps({"python": platform.python_version(), "packages": versions}))
"""


def interpreter(env: str, given: str | None) -> str:
    """The Python of ``env``: the option, else its environment variable, else the venv made by
    setup.sh; for pdpar, else this interpreter."""
    if given:
        return given
    if os.environ.get(ENV_VARIABLES[env]):
        return os.environ[ENV_VARIABLES[env]]
    venv = BENCH / ".venvs" / env / "bin" / "python"
    if venv.exists() or env == "peers":
        return str(venv)
    return sys.executable


def env_info(python: str) -> dict[str, Any] | None:
    try:
        out = subprocess.run([python, "-c", ENV_INFO], capture_output=True, text=True,
                             check=True, timeout=120).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return json.loads(out)


def git_state() -> str:
    """The checked-out commit, and whether src/ has uncommitted changes (read only)."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                                capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=ROOT,
                               text=True, capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + (" with uncommitted changes in src/" if dirty else "")


def machine_info() -> dict[str, Any]:
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        memory = None
    return {"cpu": model, "cpu_count": os.cpu_count(), "usable_cpus": usable,
            "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
            "memory_gib": round(memory / 2**30, 1) if memory else None,
            "system": f"{platform.system()} {platform.release()}"}


def _kill_group(pgid: int) -> None:
    # The child is a session leader; this ends it and any worker it left behind.
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class Runner:
    """Starts the children, collects their records, and saves them after each one."""

    def __init__(self, args: argparse.Namespace, pythons: dict[str, str],
                 scratch: Path, data: dict[str, Any], json_path: Path) -> None:
        self.settings = SETTINGS["quick" if args.quick else "full"]
        self.pythons = pythons
        self.scratch = scratch
        self.refs = scratch / "refs"
        self.refs.mkdir()
        self.logs = RESULTS / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.data = data
        self.json_path = json_path

    def save(self) -> None:
        self.json_path.parent.mkdir(parents=True, exist_ok=True)
        self.json_path.write_text(json.dumps(self.data, indent=1))

    def run_workload(self, workload: Workload, sizes: tuple[int, ...]) -> None:
        for size in sizes:
            for env in ENVS:
                names = [n for n in workload.methods if METHODS[n].env == env]
                if not names:
                    continue
                reference_ok = True
                for name in [REFERENCE, *names]:
                    record = self.run_method(workload, size, name, env, reference_ok)
                    if name == REFERENCE:
                        reference_ok = record["status"] == "ok"
                    self.data["results"].append(record)
                    self.save()
                    print(report.progress_line(record), flush=True)

    def run_method(self, workload: Workload, size: int, name: str, env: str,
                   reference_ok: bool) -> dict[str, Any]:
        method = METHODS[name]
        record: dict[str, Any] = {
            "workload": workload.key, "size": size, "method": name, "env": env,
            "role": method.role, "measure": workload.measure,
            "status": "error", "detail": "", "cold": None, "warm": [], "pandas": None,
            "version": None,
        }
        reason = method.supports(workload.op)
        python = self.pythons[env]
        if reason:
            info = self.data["meta"]["envs"].get(env) or {}
            versions = info.get("packages", {})
            record.update(status="n/a", detail=reason, pandas=versions.get("pandas"),
                          version=versions.get(method.package or ""))
        elif not Path(python).exists():
            record["detail"] = f"no {env} environment at {python}: run benchmarks/setup.sh"
        elif not reference_ok:
            record["detail"] = "serial pandas failed in this environment, nothing to check against"
        else:
            record.update(self.start_child(workload, size, name, env))
        return record

    def start_child(self, workload: Workload, size: int, name: str, env: str) -> dict[str, Any]:
        memory = workload.measure == "memory"
        temp = Path(tempfile.mkdtemp(prefix="run-", dir=self.scratch))
        out = temp / "record.json"
        stem = f"{workload.key}-{size}-{env}-{name.replace(' ', '_')}"
        command = [
            self.pythons[env], "-m", "benchmarks.child", "--workload", workload.key,
            "--size", str(size), "--method", name, "--env", env, "--refs", str(self.refs),
            "--out", str(out), "--reps", str(self.settings["reps"]),
            "--budget", str(self.settings["budget"]),
        ] + (["--memory"] if memory else [])
        environment = {**os.environ, "TMPDIR": str(temp / "tmp"), "PYTHONWARNINGS": "ignore"}
        (temp / "tmp").mkdir()
        timeout = self.settings["timeout"]
        started = time.perf_counter()
        with open(self.logs / f"{stem}.log", "w") as log:
            sampler = None
            if memory:
                from benchmarks.memory import TreeSampler

                sampler = TreeSampler(str(temp / "tmp"))
            child = subprocess.Popen(
                command, cwd=ROOT, env=environment, start_new_session=True, stderr=log,
                stdout=subprocess.PIPE if memory else log,
                stdin=subprocess.PIPE if memory else subprocess.DEVNULL, text=True,
            )
            timer = threading.Timer(timeout, _kill_group, (child.pid,))
            timer.start()
            peaks = None
            try:
                if sampler is not None:
                    peaks = self._sample(child, sampler, log)
                child.wait()
            finally:
                timer.cancel()
                _kill_group(child.pid)
        elapsed = time.perf_counter() - started
        try:
            record = json.loads(out.read_text())
        except (OSError, ValueError):
            tail = (self.logs / f"{stem}.log").read_text()[-2000:].strip().splitlines()
            last = tail[-1] if tail else ""
            if elapsed >= timeout:
                detail = f"timed out after {timeout:.0f} s"
            else:
                detail = f"process died (exit {child.returncode}) {last}"[:300]
            record = {"status": "error", "detail": detail}
        record["elapsed"] = elapsed
        if peaks is not None and record.get("status") == "ok":
            record["memory"] = {
                "start_mb": peaks.start.total / 2**20, "peak_mb": peaks.total / 2**20,
                "pss_mb": peaks.pss / 2**20, "files_mb": peaks.files / 2**20,
                "processes": peaks.processes, "samples": peaks.samples,
            }
        shutil.rmtree(temp, ignore_errors=True)
        return record

    @staticmethod
    def _sample(child: subprocess.Popen, sampler: Any, log: Any) -> Any:
        """Follow the memory protocol of benchmarks.child; the peaks of the call, or None."""
        assert child.stdout is not None and child.stdin is not None
        sampler.start(child.pid)
        marked = False
        for line in child.stdout:
            if line.strip() == "@@READY":
                sampler.mark()
                marked = True
                child.stdin.write("go\n")
                child.stdin.flush()
            elif line.strip() == "@@DONE":
                break
            else:
                log.write(line)
        peaks = sampler.stop()
        for line in child.stdout:  # drain, so the child never blocks on a full pipe
            log.write(line)
        return peaks if marked else None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and fewer repetitions (a few minutes)")
    parser.add_argument("--only", help="comma-separated workloads, e.g. W1,W3 (W4 = W4a,W4b)")
    parser.add_argument("--out", type=Path,
                        help="Markdown report (default: docs/benchmarks.md for a full run, "
                             "benchmarks/results/quick.md for --quick)")
    parser.add_argument("--json", type=Path,
                        help="results file (default: benchmarks/results/latest.json, or "
                             "quick.json for --quick)")
    parser.add_argument("--pdpar-python", help="Python of the pdpar environment "
                        "(default: $PDPAR_PYTHON, else benchmarks/.venvs/pdpar)")
    parser.add_argument("--peers-python", help="Python of the peers' environment "
                        "(default: $PEERS_PYTHON, else benchmarks/.venvs/peers)")
    parser.add_argument("--render-only", action="store_true",
                        help="re-render the report from the results file, run nothing")
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "latest"
    args.json = args.json or RESULTS / f"{mode}.json"
    args.out = args.out or (RESULTS / "quick.md" if args.quick else ROOT / "docs/benchmarks.md")
    return args


def selected_workloads(only: str | None) -> list[Workload]:
    if not only:
        return list(WORKLOADS.values())
    keys = [k.strip().upper() for k in only.split(",") if k.strip()]
    def names(w: Workload) -> set[str]:  # "W5b" is selected by "W5b" and by "W5"
        return {w.key.upper(), w.key.upper().rstrip("ABCDEFGH")}

    chosen = [w for w in WORKLOADS.values() if names(w) & set(keys)]
    unknown = [k for k in keys if not any(k in names(w) for w in WORKLOADS.values())]
    if unknown:
        raise SystemExit(f"unknown workload(s): {', '.join(unknown)}; "
                         f"known: {', '.join(WORKLOADS)}")
    return chosen


def warm_overhead(python: str | None) -> list[dict[str, Any]] | None:
    """benchmarks/overhead.py's measurement, in the pdpar environment."""
    if python is None:
        return None
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        done = subprocess.run([python, str(BENCH / "overhead.py"), "--json", out.name],
                              cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stderr[-2000:], file=sys.stderr)
            return None
        return json.loads(Path(out.name).read_text())


def _shown(path: Path) -> str:
    """A path as the report shows it: relative to the repository when it is inside it."""
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.render_only:
        data = json.loads(args.json.read_text())
        data["meta"].setdefault("results_file", _shown(args.json))
        args.out.write_text(report.render(data))
        print(f"wrote {args.out}")
        return
    workloads = selected_workloads(args.only)
    pythons = {"pdpar": interpreter("pdpar", args.pdpar_python),
               "peers": interpreter("peers", args.peers_python)}
    command = "python benchmarks/run.py" + "".join(
        f" {shlex.quote(a)}" for a in (sys.argv[1:] if argv is None else argv))
    data: dict[str, Any] = {
        "meta": {
            "command": command,
            "mode": "quick" if args.quick else "full",
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "machine": machine_info(),
            "pdpar_commit": git_state(),
            "envs": {env: env_info(python) for env, python in pythons.items()},
            "settings": SETTINGS["quick" if args.quick else "full"],
            "results_file": _shown(args.json),
            "workloads_source": "`pdpar.workloads` (src/pdpar/workloads.py)",
            "workloads": {w.key: w.title for w in workloads},
            "units": {w.key: w.unit for w in workloads},
        },
        "results": [],
    }
    started = time.perf_counter()
    data["meta"]["ceiling"] = {"start": ceiling.measure()}
    with tempfile.TemporaryDirectory(prefix="pdpar-bench-") as scratch:
        runner = Runner(args, pythons, Path(scratch), data, args.json)
        for workload in workloads:
            runner.run_workload(workload, workload.sizes["quick" if args.quick else "full"])
    data["meta"]["overhead"] = warm_overhead(pythons["pdpar"])
    data["meta"]["ceiling"]["end"] = ceiling.measure()
    data["meta"]["minutes"] = round((time.perf_counter() - started) / 60, 1)
    runner.save()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report.render(data))
    print(f"wrote {args.json} and {args.out} in {data['meta']['minutes']} min")


if __name__ == "__main__":
    main()
