"""Every figure of the documentation comes from a named run whose results are in the
repository: the pages that show them are what the runs' results files render to."""

import json
import pathlib
import re
import sys

import pytest

from pdpar import bench

ROOT = pathlib.Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import report  # noqa: E402

DOCS = ROOT / "docs"


@pytest.mark.parametrize("page, results", [
    ("benchmarks.md", "latest.json"),
    ("benchmarks-w1-w4.md", "w1-w4.json"),
    ("benchmarks-w5.md", "w5.json"),
])
def test_each_benchmarks_page_is_what_its_results_file_renders_to(page, results):
    data = json.loads((ROOT / "benchmarks" / "results" / results).read_text())
    data["meta"].setdefault("results_file", f"benchmarks/results/{results}")
    rendered = report.render(data)
    # a superseded page has a title and a warning of its own above the rendered text
    body = rendered.split("\n", 1)[1]
    assert body in (DOCS / page).read_text()
    assert f"`benchmarks/results/{results}`" in rendered


def test_the_windows_interleaved_page_is_its_results_file():
    page = (DOCS / "benchmarks-windows.md").read_text()
    assert page == (ROOT / "benchmarks" / "results" / "interleaved-windows.md").read_text()


def test_the_bench_page_shows_the_tables_of_the_results_file_it_names():
    text = (DOCS / "bench.md").read_text()
    named = set(re.findall(r"benchmarks/results/bench-[\w.-]+\.json", text))
    assert len(named) == 1
    run = bench.load_run(ROOT / named.pop())
    assert bench.format_markdown(run.results, run.workloads) in text
    assert run.meta["date"] in text and run.meta["command"] in text


def test_the_readme_speed_table_is_the_full_runs():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Speed, measured", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| W")]
    assert len(rows) == 4
    full_run = (DOCS / "benchmarks.md").read_text()
    figures = "\n".join(row.split("|", 2)[2] for row in rows)  # after the workload's name
    for value, unit in re.findall(r"(\d+(?:\.\d+)?) (s|ms)\b", figures):
        seconds = float(value) * (1e-3 if unit == "ms" else 1.0)
        shown = report.seconds(seconds)  # a warm time may carry its count: "9.03 (2)"
        assert f"| {shown} |" in full_run or f"| {shown} (" in full_run, f"{value} {unit}"


def test_peer_ratios_keep_their_digits_and_a_missing_peer_says_so():
    assert report.peer_ratio(0.004376) == "0.0044"
    assert report.peer_ratio(1.159) == "1.16"
    assert report.peer_ratio(None) == "—"
    rows = [{"role": "pdpar", "method": "pdpar jit", "status": "ok"}]
    assert report.no_peer(rows) == "no peer runs it"
    rows.append({"role": "peer", "method": "mapply", "status": "error"})
    assert report.no_peer(rows) == "no peer returned pandas' result"


def test_the_two_process_figure_is_not_called_a_ceiling():
    line = report.two_processes_line("end", {"two_process_speedup": 2.52,
                                             "two_process_speedup_median": 1.5,
                                             "steal_share": 0.0})
    assert "1.50x the work of one" in line and "2.52x" in line
    assert "speed changing" in line and "ceiling" not in line.replace("ceiling.py", "")
