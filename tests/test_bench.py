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
    done = _run_module("-m", "pdpar", "bench", "--scale", "small", "--plot", str(png))
    assert done.returncode == 0, done.stderr
    out = done.stdout
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
    assert 'pip install "pdpar[plot]"' in done.stderr
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
