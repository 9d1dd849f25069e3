"""Run pandas' own tests on plain pandas and routed through pdpar, and compare the outcomes.

    python tests/conformance/run_conformance.py                  # plain, threads, processes
    python tests/conformance/run_conformance.py --python /path/to/venv/bin/python
    python tests/conformance/run_conformance.py --backends threads --chunksize 2
    python tests/conformance/run_conformance.py --pdpar-src /tmp/snapshot/src  # a fixed pdpar
    python tests/conformance/run_conformance.py -- -k map --pdpar-lenient-stacklevel

Each run is a separate ``pytest`` process over the pandas test modules in :data:`PANDAS_TESTS`
(those the installed pandas ships), with pandas' own conftest.py fixtures and pandas' pytest
settings (``pandas_pytest.ini``: strict xfails, warnings as errors). A routed run loads the
``pdpar_routing`` plugin, which sends ``DataFrame.apply``, ``DataFrame.map``, ``Series.apply``,
``Series.map``, groupby's ``apply``, ``transform``, ``agg`` and ``filter`` and resample's
``apply`` and ``agg`` through pdpar with the given backend and chunk size.

The report lists, for each backend, the tests that pass on plain pandas but not when routed.
Those in ``PROCESS_EXCEPTIONS`` (test_conformance.py: tests that observe the function's side
effects in the caller's memory, which a worker process cannot have) are listed as expected.
Outcomes go to ``<out>/<pandas version>/<run>.json`` and a summary to ``summary.md`` there.
Arguments after ``--`` go to every pytest run (``-k``, or the plugin's diagnostic
``--pdpar-lenient-stacklevel``, which stops a warning's attribution from hiding later checks).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
INI = HERE / "pandas_pytest.ini"
DEFAULT_OUT = HERE / "results"

#: pandas' test modules that exercise the routed methods. Modules a pandas version does not
#: ship (``test_apply_mutate`` is gone in pandas 3) are left out of that version's runs.
PANDAS_TESTS = (
    "pandas.tests.apply",
    "pandas.tests.series.methods.test_map",
    "pandas.tests.frame.methods.test_map",
    "pandas.tests.groupby.test_apply",
    "pandas.tests.groupby.test_apply_mutate",
    "pandas.tests.window.test_apply",
    "pandas.tests.window.test_expanding",
    "pandas.tests.window.test_groupby",
    "pandas.tests.window.test_timeseries_window",
    "pandas.tests.window.test_base_indexer",
    "pandas.tests.window.test_rolling",
    "pandas.tests.window.test_rolling_functions",
    "pandas.tests.groupby.transform",
    "pandas.tests.groupby.aggregate",
    "pandas.tests.groupby.test_filters",
    "pandas.tests.resample",
)

#: The modules the test suite runs (tests/conformance/test_conformance.py, marked slow): all
#: those of apply, map and groupby apply, and for the other entry points the modules that call
#: them most directly.
#: All of :data:`PANDAS_TESTS` take 10 to 15 minutes a run on two cores; this script runs them.
SUITE_TESTS = PANDAS_TESTS[:5] + (
    "pandas.tests.window.test_apply",
    "pandas.tests.window.test_groupby",
    "pandas.tests.groupby.test_filters",
    "pandas.tests.groupby.aggregate.test_other",
    "pandas.tests.resample.test_resample_api",
)

OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")

#: Longest a single pandas test may take before pytest-timeout stops it (a hung pool).
PER_TEST_TIMEOUT = 180


@dataclass
class Target:
    """The Python whose pandas is tested, and what it ships."""

    python: str
    pandas_version: str
    site_packages: str
    modules: list[str]
    #: the directory pdpar is imported from
    pdpar_dir: str
    #: a directory to import pdpar from instead of the installed one (a snapshot of ``src``)
    pdpar_src: str | None = None


@dataclass
class Run:
    """One pytest run's outcomes."""

    label: str
    route: dict[str, Any] | None
    pdpar: dict[str, str]
    seconds: float
    returncode: int
    counts: dict[str, int]
    tests: dict[str, dict[str, Any]] = field(repr=False)
    collect_errors: list[dict[str, str]] = field(default_factory=list, repr=False)
    #: routed, passed-through and chunked call counts (see pdpar_routing.CALLS)
    calls: dict[str, int] = field(default_factory=dict)
    output_tail: str = field(default="", repr=False)

    def outcome(self, key: str) -> str:
        entry = self.tests.get(key)
        return entry["outcome"] if entry else "missing"


def describe_target(python: str, modules: Sequence[str] = PANDAS_TESTS,
                    pdpar_src: str | None = None) -> Target:
    """Ask ``python`` for its pandas version and which of ``modules`` it ships."""
    code = (
        "import importlib.util, json, os, sys, pandas, pdpar\n"
        "mods = [m for m in json.loads(sys.argv[1]) if importlib.util.find_spec(m)]\n"
        "root = os.path.dirname(os.path.dirname(pandas.__file__))\n"
        "where = os.path.dirname(os.path.abspath(pdpar.__file__))\n"
        "print(json.dumps([pandas.__version__, root, mods, where]))\n"
    )
    env = _environment(pdpar_src)
    out = subprocess.run([python, "-c", code, json.dumps(list(modules))], check=True,
                         capture_output=True, text=True, env=env).stdout
    version, root, found, where = json.loads(out.strip().splitlines()[-1])
    return Target(python, version, root, found, where, pdpar_src)


def _environment(pdpar_src: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (pdpar_src, str(HERE), env.get("PYTHONPATH")) if p)
    for name in ("PDPAR_CONFORMANCE_ROUTE", "PDPAR_CONFORMANCE_CHUNKSIZE",
                 "PDPAR_CONFORMANCE_N_JOBS"):
        env.pop(name, None)  # the command line says what a run routes
    return env


def pdpar_revision(pdpar_dir: str) -> str:
    """The git commit of the checkout ``pdpar_dir`` lies in (``+dirty`` when its ``src`` has
    uncommitted changes), or ``unknown``."""
    try:
        head = subprocess.run(["git", "-C", pdpar_dir, "rev-parse", "--short", "HEAD"],
                              check=True, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", pdpar_dir, "status", "--porcelain", "--", "."],
                               check=True, capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def pytest_command(target: Target, outcomes: Path, route: str | None, chunksize: int,
                   n_jobs: int, extra: Sequence[str] = ()) -> list[str]:
    cmd = [
        target.python, "-m", "pytest", "-q", "-p", "no:cacheprovider",
        "-c", str(INI), "--rootdir", target.site_packages,
        "-o", f"timeout={PER_TEST_TIMEOUT}",
        "-p", "pdpar_routing", "--pdpar-outcomes", str(outcomes),
    ]
    if route is not None:
        cmd += ["--pdpar-route", route, "--pdpar-chunksize", str(chunksize),
                "--pdpar-n-jobs", str(n_jobs)]
    return [*cmd, *extra, "--pyargs", *target.modules]


def run_suite(target: Target, label: str, route: str | None, out_dir: Path, *,
              chunksize: int = 1, n_jobs: int = -1, extra: Sequence[str] = (),
              timeout: float = 3600, echo: bool = False) -> Run:
    """Run pandas' tests once (plain when ``route`` is None) and read back the outcomes."""
    out_dir.mkdir(parents=True, exist_ok=True)
    outcomes = out_dir / f"{label}.json"
    if outcomes.exists():
        outcomes.unlink()
    env = _environment(target.pdpar_src)
    cmd = pytest_command(target, outcomes, route, chunksize, n_jobs, extra)
    revision = pdpar_revision(target.pdpar_dir)
    started = time.monotonic()
    proc = subprocess.run(cmd, env=env, cwd=str(out_dir), capture_output=True, text=True,
                          timeout=timeout)
    seconds = time.monotonic() - started
    output = proc.stdout + proc.stderr
    if echo:
        print(output)
    (out_dir / f"{label}.log").write_text(output, encoding="utf-8")
    if not outcomes.exists():
        raise RuntimeError(f"pytest run {label!r} wrote no outcomes (exit {proc.returncode}):\n"
                           f"{' '.join(cmd)}\n{output[-5000:]}")
    data = json.loads(outcomes.read_text(encoding="utf-8"))
    pdpar = dict(data["pdpar"])
    after = pdpar_revision(target.pdpar_dir)
    pdpar["revision"] = revision if after == revision else \
        f"{revision} then {after} (changed during the run)"
    return Run(label=label, route=data["route"], pdpar=pdpar, seconds=round(seconds, 1),
               returncode=proc.returncode, counts=data["counts"], tests=data["tests"],
               collect_errors=data.get("collect_errors", []), calls=data.get("calls", {}),
               output_tail=output[-3000:])


# --------------------------------------------------------------------------------------------
# comparing runs


def matches(key: str, entries: Iterable[str]) -> str | None:
    """The entry naming test ``key``: the test itself, or all parametrizations of a test."""
    for entry in entries:
        if key == entry or key.startswith(entry + "["):
            return entry
    return None


def regressions(plain: Run, routed: Run) -> list[str]:
    """Tests that pass on plain pandas but do not pass when routed."""
    return sorted(k for k, v in plain.tests.items()
                  if v["outcome"] == "passed" and routed.outcome(k) != "passed")


def other_changes(plain: Run, routed: Run) -> list[tuple[str, str, str]]:
    """Other differences in outcome (e.g. a skip or xfail that became something else)."""
    keys = set(plain.tests) | set(routed.tests)
    return sorted((k, plain.outcome(k), routed.outcome(k)) for k in keys
                  if plain.outcome(k) != routed.outcome(k) and plain.outcome(k) != "passed")


def failure_line(run: Run, key: str) -> str:
    entry = run.tests.get(key)
    if entry is None:
        return "not run"
    message = entry.get("message") or entry["outcome"]
    first = " ".join(message.split("\n")[0].split())
    return f"{entry['outcome']}: {first[:220]}"


def load_process_exceptions() -> dict[str, str]:
    sys.path.insert(0, str(HERE))
    try:
        from test_conformance import PROCESS_EXCEPTIONS
    finally:
        sys.path.remove(str(HERE))
    return dict(PROCESS_EXCEPTIONS)


def counts_row(run: Run) -> str:
    cells = [str(run.counts.get(o, 0)) for o in OUTCOMES]
    route = "plain pandas" if run.route is None else \
        f"{run.route['backend']} (chunksize={run.route['chunksize']})"
    return f"| {route} | " + " | ".join(cells) + f" | {run.seconds:.0f} s |"


def summary_markdown(target: Target, plain: Run, routed: Sequence[Run],
                     exceptions: Mapping[str, str]) -> str:
    revisions = sorted({run.pdpar.get("revision", "") for run in (plain, *routed)})
    lines = [
        f"# pandas {target.pandas_version}: pandas' tests routed through pdpar",
        "",
        f"pdpar from `{plain.pdpar['path']}`"
        + (f" (revision {', '.join(revisions)})" if any(revisions) else ""),
        "",
        "Modules: " + ", ".join(f"`{m}`" for m in target.modules),
        "",
        "| run | " + " | ".join(OUTCOMES) + " | time |",
        "|---|" + "---:|" * (len(OUTCOMES) + 1),
        counts_row(plain),
        *(counts_row(run) for run in routed),
        "",
    ]
    for run in routed:
        routed_calls = sum(n for name, n in run.calls.items() if name.startswith("routed "))
        lines.append(f"- {run.label}: {routed_calls} calls routed to pdpar, "
                     f"{run.calls.get('chunked calls', 0)} of them ran in chunks "
                     f"({run.calls.get('chunks', 0)} chunks)")
    lines.append("")
    for run in routed:
        backend = run.route["backend"] if run.route else run.label
        allowed = exceptions if backend == "processes" else {}
        lost = regressions(plain, run)
        unexpected = [k for k in lost if matches(k, allowed) is None]
        expected = {k: entry for k in lost if (entry := matches(k, allowed)) is not None}
        lines += [f"## {backend}: pass on plain pandas, not when routed "
                  f"({len(unexpected)} unexpected, {len(expected)} expected)", ""]
        lines += [f"- `{k}` — {failure_line(run, k)}" for k in unexpected] or ["none", ""]
        if expected:
            lines += ["", "Expected (the test observes side effects in the caller's memory):", ""]
            lines += [f"- `{k}` — {allowed[entry]}" for k, entry in expected.items()]
        changes = other_changes(plain, run)
        if changes:
            lines += ["", "Other changes of outcome:", ""]
            lines += [f"- `{k}`: {a} → {b}" for k, a, b in changes]
        lines.append("")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter whose pandas (and pdpar) to test (default: this one)")
    parser.add_argument("--backends", default="threads,processes",
                        help="comma-separated routed backends (default: threads,processes)")
    parser.add_argument("--chunksize", type=int, default=1,
                        help="chunk size of routed calls (default: 1)")
    parser.add_argument("--n-jobs", type=int, default=-1, help="n_jobs of routed calls")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="directory for outcomes, logs and summary.md")
    parser.add_argument("--pdpar-src", default=None,
                        help="import pdpar from this directory (e.g. an exported snapshot of "
                             "src/) instead of the installed one")
    parser.add_argument("pytest_args", nargs="*",
                        help="extra pytest arguments for every run (e.g. -k expression)")
    ns = parser.parse_args(argv)

    target = describe_target(ns.python, pdpar_src=ns.pdpar_src)
    out_dir = ns.out / f"pandas-{target.pandas_version}"
    exceptions = load_process_exceptions()
    print(f"pandas {target.pandas_version} ({target.python}); modules: {target.modules}")

    started = time.monotonic()
    plain = run_suite(target, "plain", None, out_dir, extra=ns.pytest_args)
    print(f"plain: {plain.counts} in {plain.seconds:.0f} s")
    routed = []
    for backend in [b.strip() for b in ns.backends.split(",") if b.strip()]:
        run = run_suite(target, backend, backend, out_dir, chunksize=ns.chunksize,
                        n_jobs=ns.n_jobs, extra=ns.pytest_args)
        print(f"{backend}: {run.counts} in {run.seconds:.0f} s")
        routed.append(run)
    total = time.monotonic() - started

    summary = summary_markdown(target, plain, routed, exceptions)
    summary += f"\nTotal time: {total:.0f} s\n"
    if len({run.pdpar.get("revision") for run in (plain, *routed)}) > 1:
        summary += "\nWARNING: pdpar changed between the runs; compare with care.\n"
    (out_dir / "summary.md").write_text(summary, encoding="utf-8")
    print()
    print(summary)
    print(f"written to {out_dir}")

    unexpected = 0
    for run in routed:
        allowed = exceptions if run.route and run.route["backend"] == "processes" else {}
        unexpected += sum(matches(k, allowed) is None for k in regressions(plain, run))
    for run in (plain, *routed):
        if run.collect_errors:
            print(f"{run.label}: {len(run.collect_errors)} collection errors")
            unexpected += 1
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
