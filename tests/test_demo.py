"""``python -m pdpar demo`` runs its three workloads and checks their results."""

import io

from pdpar.__main__ import format_report, main, run_demo


def test_demo_workloads_agree_with_pandas_at_a_small_scale():
    out = io.StringIO()
    report = run_demo(rows=2_000, groups=50, files=40, out=out)
    assert [r["equal"] for r in report] == [True, True, True]
    assert all(r["pandas_s"] > 0 and r["pdpar_s"] > 0 for r in report)
    table = format_report(report)
    assert "row function" in table and "groupby apply" in table and "I/O-bound" in table


def test_demo_command_line(capsys):
    assert main(["demo", "--rows", "1000", "--groups", "20", "--files", "10"]) == 0
    assert "speed-up" in capsys.readouterr().out
