"""``python -m pdpar bench``: every workload against serial pandas, a table, and a plot."""

import os
import subprocess
import sys

import pytest

from pdpar import bench
from pdpar.workloads import ElementMap, Workload, int_series, plain

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _run_module(*args, timeout=180):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          timeout=timeout)


def test_bench_small_prints_the_table_and_draws_a_png(tmp_path):
    image = pytest.importorskip("matplotlib.image")
    png = tmp_path / "speedup.png"
    saved = tmp_path / "results.json"
    done = _run_module("-m", "pdpar", "bench", "--scale", "small", "--plot", str(png),
                       "--json", str(saved))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    # the machine's state is measured before the run, and saved with its results
    assert "at the start:" in done.stderr
    run = bench.load_run(saved)
    assert run.scale == "small" and run.meta["command"].startswith("python -m pdpar bench")
    assert {"load_average", "core_seconds", "ceiling"} <= set(run.meta["state_start"])
    assert "others" in run.meta["during"] and "state_end" in run.meta
    # the saved run prints the same table, and draws the plot, without running anything
    again = _run_module("-m", "pdpar", "bench", "--from", str(saved), "--plot",
                        str(tmp_path / "again.png"), timeout=60)
    assert again.returncode == 0, again.stderr
    table = bench.format_table(run.results, run.scale, run.workloads, run.meta)
    assert again.stdout.startswith(table) and table in out
    assert image.imread(tmp_path / "again.png").shape == image.imread(png).shape
    assert f"{os.cpu_count()} CPUs on the machine" in out
    for workload in bench.WORKLOADS:
        assert f"{workload.key}  {workload.title}" in out
        for size in workload.sizes["small"]:
            assert f"{size:,}" in out
    header = next(line for line in out.splitlines() if line.strip().startswith("rows"))
    assert header.split() == ["rows", "pandas", "threads", "processes", "jit", "auto",
                              "auto", "ran"]
    assert "every result equals pandas'" in out
    # jit is measured where pdpar can compile, and otherwise n/a with pdpar's reason
    assert "JitError" in out or "n/a" not in out
    assert png.read_bytes()[:8] == PNG_SIGNATURE
    pixels = image.imread(png)
    assert pixels.shape[0] > 300 and pixels.shape[1] > 600


def test_plot_without_matplotlib_says_how_to_install_it_before_running_anything(tmp_path):
    png = tmp_path / "speedup.png"
    code = ("import sys; sys.modules['matplotlib'] = None\n"
            "from pdpar.__main__ import main\n"
            f"sys.exit(main(['bench', '--plot', {str(png)!r}]))")
    done = _run_module("-c", code, timeout=60)
    assert done.returncode == 2
    assert 'pip install -e ".[plot]"' in done.stderr
    assert done.stdout == "" and not png.exists()


def test_a_result_that_differs_from_pandas_is_reported_and_fails_the_run():
    # each process answers with its own id: serial pandas and threads agree, processes do not
    pid = Workload("WX", "process id: s.map(pid)", ElementMap(lambda x: os.getpid()),
                   plain(int_series), "elements", {"small": (64,)})
    results = bench.run_bench("small", [pid], log=None)
    by_method = {r.method: r for r in results}
    assert by_method["threads"].differs == ""
    assert by_method["processes"].differs != ""
    table = bench.format_table(results, "small", [pid])
    assert "DIFFERS" in table and "results that differ from pandas'" in table


def test_a_saved_run_gives_its_table_as_text_and_markdown_and_its_plot(tmp_path):
    pytest.importorskip("matplotlib")
    shown = [bench.Shown("WX", "light map: s.map(f)", "elements"),
             bench.Shown("WY", "row function: df.apply(f, axis=1)", "rows")]
    results = []
    for key in ("WX", "WY"):
        for size, base in ((1_000, 0.01), (10_000, 0.1)):
            results.append(bench.Result(key, size, "pandas", base, 1.0))
            for n, method in enumerate(bench.METHODS, 1):
                if key == "WY" and method == "jit":
                    results.append(bench.Result(key, size, method, unavailable="JitError: no"))
                    continue
                seconds = base / (n * size / 1_000)
                results.append(bench.Result(key, size, method, seconds, base / seconds,
                                            ran="processes", extra={"ran_each": ["processes"]}))
    meta = {"date": "2026-01-02T03:04:05+00:00", "command": "python -m pdpar bench",
            "machine": "a machine line", "repeats": 3}
    path = tmp_path / "run.json"
    bench.save_run(bench.Run("medium", results, shown, meta), path)
    run = bench.load_run(path)
    assert run.results == results and run.workloads == shown and run.meta == meta
    text = bench.format_table(run.results, run.scale, run.workloads, run.meta)
    assert text.splitlines()[0] == "a machine line" and "best of 3" in text
    assert "n/a jit: JitError: no" in text
    markdown = bench.format_markdown(run.results, run.workloads)
    assert "| elements | pandas | threads | processes | jit | auto | auto ran |" in markdown
    assert "| 10,000 | 100.0 ms | 10.0 ms (10.00x) |" in markdown and "| n/a |" in markdown
    png = tmp_path / "plot.png"
    bench.draw_speedups(run.results, png, run.scale, run.workloads, run.meta)
    assert png.read_bytes()[:8] == PNG_SIGNATURE


def test_machine_state_measures_the_load_and_each_cpu():
    state = bench.machine_state(sample=0.05)
    seconds = state["core_seconds"]
    if hasattr(os, "sched_setaffinity"):
        assert len(seconds) == len(os.sched_getaffinity(0)) and all(s > 0 for s in seconds)
        assert 1.0 <= state["ceiling"] <= len(seconds)
    assert bench.ceiling([0.07, 0.07]) == 2.0 and bench.ceiling([0.07, 0.14]) == 1.5
    assert "the work of one" in bench.state_line(state) or not seconds
