"""``python -m pdpar demo`` runs its three workloads and checks their results."""

import io

from pdpar.__main__ import format_report, judge, main, run_demo


def test_demo_workloads_agree_with_pandas_at_a_small_scale():
    out = io.StringIO()
    report = run_demo(rows=2_000, groups=50, files=40, out=out)
    assert [r["equal"] for r in report] == [True, True, True]
    assert all(r["pandas_s"] > 0 and r["pdpar_s"] > 0 for r in report)
    table = format_report(report)
    assert "row function" in table and "groupby apply" in table and "I/O-bound" in table


def test_demo_command_line(capsys):
    assert main(["demo", "--rows", "1000", "--groups", "20", "--files", "10"]) == 0
    out = capsys.readouterr().out
    assert "speed-up" in out
    # how busy the machine was, the most the CPUs allowed, and what that means for the numbers
    assert "before the demo:" in out and "at most" in out
    assert "the demo took" in out
    assert any(verdict in out for verdict in ("These numbers are disturbed", "was quiet",
                                               "One CPU is usable", "does not tell"))


def test_the_demo_says_when_its_numbers_are_disturbed_and_why():
    quiet = {"load_average": 0.1, "others": 0.01, "steal": 0.0,
             "core_seconds": [0.070, 0.071], "ceiling": 1.99}
    assert "was quiet" in judge(quiet, quiet, {"others": 0.02, "steal": 0.0})[0]
    busy = judge(quiet, quiet, {"others": 0.45, "steal": 0.0})[0]
    assert busy.startswith("These numbers are disturbed") and "45% of the CPUs" in busy
    uneven = dict(quiet, core_seconds=[0.070, 0.120], ceiling=1.58)
    slow = judge(uneven, quiet, {"others": 0.0, "steal": 0.0})[0]
    assert "at most 1.58x" in slow and "70 and 120 ms" in slow
    stolen = judge(quiet, quiet, {"others": 0.0, "steal": 0.2})[0]
    assert "20% of the CPUs' time" in stolen
    one = dict(quiet, core_seconds=[0.07], ceiling=1.0)
    assert "One CPU is usable" in judge(one, one, {"others": 0.0})[0]


def test_the_table_shows_the_most_each_workload_could_gain():
    report = [{"workload": "rows", "pandas_s": 2.0, "pdpar_s": 1.25, "speedup": 1.6,
               "equal": True, "cpu_bound": True},
              {"workload": "waits", "pandas_s": 2.0, "pdpar_s": 0.1, "speedup": 20.0,
               "equal": True, "cpu_bound": False}]
    lines = format_report(report, 1.9).splitlines()
    assert "at most" in lines[0]
    assert "1.90x" in lines[2] and "(waits)" in lines[3]
