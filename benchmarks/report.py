"""Render the results JSON of ``run.py`` as the Markdown of docs/benchmarks.md.

Every ratio compares two rows of the same workload and size. "vs serial" divides serial pandas'
warm time (of the same pandas version) by the row's; "pdpar / best peer" divides a pdpar row's
warm time by the fastest correct peer's. W6 compares peak memory instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .workloads import format_seconds

PEER_PACKAGES = ("pandarallel", "mapply", "parallel-pandas", "swifter", "dask")

NOTES = """\
How to read the tables:

- **warm s**: the best of up to {reps} calls made after the first one, in the same process
  (fewer when they would take more than {budget:.0f} s in all; the count is in brackets). A
  method whose first call took longer than that gets no warm call ("cold only"), and its ratios
  use the cold time.
- **cold s**: the first call in a fresh process: it includes starting a worker pool and any JIT
  compilation, but not imports or making the data.
- **vs serial**: serial pandas' warm time divided by the row's warm time, serial pandas being
  the one on the same pandas version (above 1 is faster than pandas).
- **pdpar / best peer**: pdpar's warm time divided by the fastest peer's (pandarallel, mapply,
  parallel-pandas, swifter, dask) that returned the right result; below 1 means pdpar is faster.
- **check**: every result of every call is compared with serial pandas' result of the same
  environment by `assert_series_equal`/`assert_frame_equal(check_exact=True)`; "wrong result"
  means they differ, "error" that the call raised, "n/a" that the method cannot run this workload.
- Every parallel method uses 2 workers unless its name says otherwise. Peers run on pandas 3.0.x
  because pandarallel, mapply and parallel-pandas do not import on pandas 3.1.
- Timings on this machine vary by about ±30% between runs: differences smaller than that are noise.
"""

MEMORY_NOTES = """\
Each method runs once, in a fresh process, under a sampler that every 50 ms adds up the PSS of the
process and all its descendants, and the bytes of files created in /dev/shm and in the run's
temporary folder (so data sent through shared memory or files is counted); shared memory that a
process maps and that also sits in a file counts once. **peak MB** is the highest total during
the call, **at start MB** the total just before it (the data, already built), **PSS MB** and
**files MB** the peaks of the two parts, **vs serial** the peak divided by serial pandas' peak
(same pandas version), **pdpar / best peer** pdpar's peak divided by the lowest peer's, and
**call s** the call's seconds (a cold call: pool start-up included).
"""


def seconds(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def ratio(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 0.1:
        return f"{value:.2g}×"
    return f"{value:.2f}×" if value < 10 else f"{value:.1f}×"


def peer_ratio(value: float | None, missing: str = "—") -> str:
    """pdpar's time (or peak) over the best peer's: two decimals, or two significant digits
    below 0.1 (a compiled call 0.0044 times a peer's time is not "0.00"); ``missing`` when no
    peer ran the workload correctly."""
    if value is None:
        return missing
    return f"{value:.2g}" if value < 0.1 else f"{value:.2f}"


def no_peer(rows: list[dict[str, Any]]) -> str:
    """Why a table has no best peer: none runs the workload, or none returned pandas' result."""
    if not any(r["role"] == "peer" for r in rows):
        return "no peer runs it"
    return "no peer returned pandas' result"


def best_warm(record: dict[str, Any]) -> float | None:
    """The time the ratios use: the best warm call, else (cold only) the cold call."""
    if record["status"] != "ok":
        return None
    if record.get("measure") == "memory" or not record["warm"]:
        return record.get("cold")
    return min(record["warm"])


def label(record: dict[str, Any]) -> str:
    name = record["method"]
    version = record.get("version")
    if name == "pandas":
        return "pandas (serial)"
    if name == "joblib":
        return f"joblib recipe {version}" if version else "joblib recipe"
    if version and record["role"] == "peer":
        return name.replace(record_package(record), f"{record_package(record)} {version}", 1)
    return name


def record_package(record: dict[str, Any]) -> str:
    return next((p for p in PEER_PACKAGES if record["method"].startswith(p)), record["method"])


def check(record: dict[str, Any]) -> str:
    status, detail = record["status"], record.get("detail", "")
    if status == "ok":
        return "ok"
    text = {"wrong": "wrong result", "error": "error", "n/a": "n/a"}.get(status, status)
    detail = detail.replace("|", "/").replace("\n", " ")[:160]
    # brackets in an assertion message ("[left]: [None]") read as Markdown links
    detail = detail.replace("[", "\\[").replace("]", "\\]")
    return f"{text}: {detail}" if detail else text


def serial_of(rows: list[dict[str, Any]], record: dict[str, Any]) -> dict[str, Any] | None:
    return next((r for r in rows if r["method"] == "pandas" and r["env"] == record["env"]), None)


def best_peer(rows: list[dict[str, Any]], key: Any = best_warm) -> dict[str, Any] | None:
    peers = [r for r in rows if r["role"] == "peer" and key(r) is not None]
    return min(peers, key=key) if peers else None


def _divide(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def table(header: list[str], body: Iterable[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines)


def timing_table(rows: list[dict[str, Any]], reps: int) -> str:
    peer = best_peer(rows)
    body = []
    for r in rows:
        warm = best_warm(r)
        serial = serial_of(rows, r)
        count = len(r["warm"])
        if warm is not None and not count:
            warm_text = "cold only"
        else:
            warm_text = seconds(warm) + (f" ({count})" if warm is not None and count < reps else "")
        vs_peer = _divide(warm, best_warm(peer)) if peer else None
        body.append([
            label(r), r.get("pandas") or "—", warm_text,
            seconds(r.get("cold")) if r["status"] == "ok" else "—",
            ratio(_divide(best_warm(serial), warm) if serial else None),
            peer_ratio(vs_peer) if r["role"] == "pdpar" else "",
            check(r),
        ])
    text = table(["method", "pandas", "warm s", "cold s", "vs serial", "pdpar / best peer",
                  "check"], body)
    if peer:
        text += f"\n\nBest peer: {label(peer)}, {seconds(best_warm(peer))} s warm."
    else:
        text += f"\n\nBest peer: none ({no_peer(rows)})."
    return text


def _peak(record: dict[str, Any]) -> float | None:
    return record["memory"]["peak_mb"] if record.get("memory") else None


def memory_table(rows: list[dict[str, Any]]) -> str:
    peer = best_peer(rows, key=_peak)
    body = []
    for r in rows:
        mem = r.get("memory")
        serial = serial_of(rows, r)
        peak = _peak(r)
        vs_peer = _divide(peak, _peak(peer)) if peer else None
        body.append([
            label(r), r.get("pandas") or "—",
            f"{mem['peak_mb']:,.0f}" if mem else "—",
            f"{mem['start_mb']:,.0f}" if mem else "—",
            f"{mem['pss_mb']:,.0f}" if mem else "—",
            f"{mem['files_mb']:,.0f}" if mem else "—",
            ratio(_divide(peak, _peak(serial)) if serial else None),
            peer_ratio(vs_peer) if r["role"] == "pdpar" else "",
            seconds(r.get("cold")) if r["status"] == "ok" else "—",
            check(r),
        ])
    text = table(["method", "pandas", "peak MB", "at start MB", "PSS MB", "files MB",
                  "vs serial", "pdpar / best peer", "call s", "check"], body)
    if peer:
        text += f"\n\nLowest peak among the peers: {label(peer)}, {_peak(peer):,.0f} MB."
    return text


def curve_table(rows: list[dict[str, Any]], sizes: list[int]) -> str:
    """Speed-up vs serial pandas for each method (rows) and size (columns)."""
    methods: list[tuple[str, str]] = []
    for r in rows:
        if (r["method"], r["env"]) not in methods:
            methods.append((r["method"], r["env"]))
    body = []
    for method, env in methods:
        cells = []
        name, version = method, "?"
        for size in sizes:
            here = [r for r in rows if r["size"] == size]
            r = next((r for r in here if r["method"] == method and r["env"] == env), None)
            if r is None:
                cells.append("")
                continue
            name, version = label(r), r.get("pandas") or "?"
            serial = serial_of(here, r)
            speedup = _divide(best_warm(serial), best_warm(r)) if serial else None
            cells.append(ratio(speedup) if speedup else r["status"])
        body.append([name, version, *cells])
    return table(["method", "pandas", *(f"{s:,}" for s in sizes)], body)


def _show(record: dict[str, Any] | None, memory: bool, missing: str = "—") -> str:
    if record is None:
        return missing
    if memory:
        return f"{label(record)}: {_peak(record):,.0f} MB"
    return f"{label(record)}: {seconds(best_warm(record))} s"


def summary(data: dict[str, Any]) -> str:
    """One line per workload at its largest size: serial, best pdpar, best peer."""
    body = []
    for key in data["meta"]["workloads"]:
        rows = [r for r in data["results"] if r["workload"] == key]
        if not rows:
            continue
        size = max(r["size"] for r in rows)
        rows = [r for r in rows if r["size"] == size]
        memory = rows[0].get("measure") == "memory"
        value = _peak if memory else best_warm
        serial = next((r for r in rows if r["method"] == "pandas" and r["env"] == "pdpar"), None)
        pdpar = [r for r in rows if r["role"] == "pdpar" and value(r) is not None]
        best = min(pdpar, key=value) if pdpar else None
        peer = best_peer(rows, key=value)
        vs_peer = _divide(value(best), value(peer)) if best and peer else None
        body.append([
            key, f"{size:,} {data['meta']['units'].get(key, '')}", _show(serial, memory),
            _show(best, memory), _show(peer, memory, f"— ({no_peer(rows)})"),
            peer_ratio(vs_peer),
        ])
    return table(["workload", "size", "serial pandas", "best pdpar", "best peer",
                  "pdpar / best peer"], body)


def header(data: dict[str, Any]) -> str:
    meta = data["meta"]
    machine = meta["machine"]
    results_file = meta.get("results_file")
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `{meta['command']}` ({meta['mode']} run) on {meta['date']}, in "
        f"{meta.get('minutes', '?')} minutes"
        + (f"; its results file is `{results_file}`" if results_file else "")
        + ". Re-run that command to regenerate this page; "
        "benchmarks/README.md says what each workload is and how it is measured.",
        "",
        f"- Machine: {machine['cpu']}; `os.cpu_count()` = {machine['cpu_count']}, usable CPUs "
        f"(affinity) = {machine['usable_cpus']}; {machine['memory_gib']} GiB memory; "
        f"{machine['system']}.",
        "- Workloads: " + (meta["workloads_source"] if meta.get("workloads_source") else
                           f"as `benchmarks/workloads.py` defined them at commit "
                           f"{meta.get('pdpar_commit', '?')}, before they moved to "
                           "`pdpar.workloads`") + ".",
    ]
    for moment, found in meta.get("ceiling", {}).items():
        lines.append(two_processes_line(moment, found))
    if machine.get("load_average") is not None:
        lines.append(f"- Load average (1 min) when the run started: {machine['load_average']:.2f}"
                     " (above 0, other programs were sharing the cores).")
    for env, info in meta["envs"].items():
        if not info:
            lines.append(f"- {env} environment: not available.")
            continue
        packages = ", ".join(f"{k} {v}" for k, v in info["packages"].items())
        extra = f" (commit {meta['pdpar_commit']})" if env == "pdpar" else ""
        lines.append(f"- {env} environment: Python {info['python']}, {packages}{extra}.")
    return "\n".join(lines)


def two_processes_line(moment: str, found: dict[str, Any]) -> str:
    """What ``ceiling.measure()`` found: how much two CPU-bound processes side by side did
    against one alone, timed just before them, over a few trials.

    The median is the figure: a trial divides two noisy timings, and the best of them is
    biased upwards; above 2.00 it shows only that the machine ran the lone process slower
    than each of the pair (its speed changed between the two timings). It describes the
    machine at that moment, and bounds nothing measured at another.
    """
    best, median = found["two_process_speedup"], found["two_process_speedup_median"]
    steal = found.get("steal_share")
    text = (f"- Two processes against one ({moment} of the run): two CPU-bound Python processes "
            f"side by side did {median:.2f}x the work of one alone, the median of "
            f"{found.get('trials', 3)} trials (2.00 would be two whole cores); the best trial "
            f"gave {best:.2f}x")
    if best > 2.0:
        text += (", which only shows the machine's speed changing between timing one process "
                 "and timing two")
    if steal is not None:
        text += f"; the host stole {steal:.1%} of the CPU time meanwhile"
    return text + ". `benchmarks/ceiling.py` measures it."


def overhead_table(rows: list[dict[str, Any]]) -> str:
    """benchmarks/overhead.py: the fixed cost of a warm call with processes on a small frame.

    Results files from before overhead.py timed pandas and pdpar in alternation (their rows have
    no ``ceiling``) took the best of 15 calls of each, and are described so.
    """
    if not all("ceiling" in r for r in rows):
        lines = ["## Warm-call overhead", "",
                 "`benchmarks/overhead.py`: `df.apply(f, axis=1)` on a small frame, pandas "
                 "against pdpar with `backend=\"processes\"` after a first call started the "
                 "pool, best of 15. Overhead is pdpar's time minus serial pandas' time divided "
                 "by the workers.", "",
                 "| function | rows | pandas | pdpar processes (warm) | overhead |",
                 "|---|---|---|---|---|"]
        lines += [f"| {r['function']} | {r['rows']:,} | {format_seconds(r['pandas_s'])} | "
                  f"{format_seconds(r['pdpar_processes_s'])} | "
                  f"{format_seconds(r['overhead_s'])} |" for r in rows]
        return "\n".join(lines)
    lines = ["## Warm-call overhead", "",
             "`benchmarks/overhead.py`: `df.apply(f, axis=1)` on a small frame, pandas and pdpar "
             "with `backend=\"processes\"` (after a first call started the pool) timed in "
             "alternation, medians of the pairs. Overhead is pdpar's time minus serial pandas' "
             "time divided by the workers; the last column divides by the two-core ceiling of "
             "the moment instead (1 + the slower CPU's speed over the faster one's, from a loop "
             "pinned to each CPU before each pair).", "",
             "| function | rows | pandas | pdpar processes (warm) | overhead | ceiling "
             "| overhead at the ceiling |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['function']} | {r['rows']:,} | {format_seconds(r['pandas_s'])} | "
                     f"{format_seconds(r['pdpar_processes_s'])} | "
                     f"{format_seconds(r['overhead_s'])} | {r['ceiling']:.2f} | "
                     f"{format_seconds(r['overhead_at_ceiling_s'])} |")
    return "\n".join(lines)


def render(data: dict[str, Any]) -> str:
    settings = data["meta"]["settings"]
    parts = [header(data), "", "## Summary", "",
             "Largest size of each workload; pdpar and serial pandas on the newest pandas.", "",
             summary(data), "", NOTES.format(**settings)]
    if data["meta"].get("overhead"):
        parts += ["", overhead_table(data["meta"]["overhead"]), ""]
    for key, title in data["meta"]["workloads"].items():
        rows = [r for r in data["results"] if r["workload"] == key]
        if not rows:
            continue
        parts += [f"## {key}: {title}", ""]
        sizes = sorted({r["size"] for r in rows})
        unit = data["meta"]["units"].get(key, "")
        if rows[0].get("measure") == "memory":
            parts += [MEMORY_NOTES]
        if len(sizes) > 1:
            parts += ["Speed-up vs serial pandas (warm), by size:", "",
                      curve_table(rows, sizes), ""]
        for size in sizes:
            here = [r for r in rows if r["size"] == size]
            parts += [f"### {size:,} {unit}", ""]
            if here[0].get("measure") == "memory":
                parts += [memory_table(here), ""]
            else:
                parts += [timing_table(here, settings["reps"]), ""]
            chosen = [r["plan"] for r in here if r["method"] == "pdpar auto" and r.get("plan")]
            if chosen:
                parts += [f"pdpar auto ran: `{chosen[0]}`", ""]
    return "\n".join(parts).rstrip() + "\n"


def progress_line(record: dict[str, Any]) -> str:
    """One line per finished run, for the terminal."""
    text = f"{record['workload']:>4} {record['size']:>10,} {record['env']:>5} " \
           f"{record['method']:<30}"
    if record["status"] != "ok":
        return f"{text} {check(record)}"
    if record.get("memory"):
        return f"{text} peak {record['memory']['peak_mb']:,.0f} MB, " \
               f"call {seconds(record['cold'])} s"
    warm = f"warm {seconds(min(record['warm']))} s" if record["warm"] else "cold only"
    return f"{text} {warm}, cold {seconds(record['cold'])} s"
