"""The ``progress`` option: advances from the caller as chunks are collected, never changes
results."""

import io
import os
import re
import subprocess
import sys
import textwrap

import pandas as pd
import pytest
from tqdm import tqdm

import pdpar


def test_callable_progress_receives_monotone_counts_ending_at_the_total(backend):
    seen = []
    df = pd.DataFrame({"x": range(23)})
    got = df.par(backend=backend, chunksize=5, progress=lambda done, total: seen.append(
        (done, total))).apply(lambda r: r["x"] + 1, axis=1)
    pd.testing.assert_series_equal(got, df.apply(lambda r: r["x"] + 1, axis=1))
    counts = [done for done, _ in seen]
    # chunks report as they complete, not necessarily in order
    assert counts == sorted(counts) and counts[-1] == 23 and len(counts) == 5
    assert sorted(b - a for a, b in zip([0, *counts], counts)) == [3, 5, 5, 5, 5]
    assert {total for _, total in seen} == {23}


def test_groupby_progress_counts_groups(backend):
    seen = []
    df = pd.DataFrame({"k": [1, 2, 3, 1, 2, 4], "x": range(6)})
    df.par(backend=backend, chunksize=2, progress=lambda d, t: seen.append((d, t))).groupby(
        "k").apply(len)
    assert seen[-1] == (4, 4)


class _StringTqdm(tqdm):
    stream = io.StringIO()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, file=self.stream, ascii=True, **kwargs)


def test_tqdm_class_progress_reaches_one_hundred_percent(backend):
    _StringTqdm.stream = io.StringIO()
    s = pd.Series(range(40))
    got = s.par(backend=backend, chunksize=7, progress=_StringTqdm).map(lambda x: x * 2)
    pd.testing.assert_series_equal(got, s.map(lambda x: x * 2))
    assert "100%" in _StringTqdm.stream.getvalue()
    assert "40/40" in _StringTqdm.stream.getvalue()


def test_progress_true_reaches_one_hundred_percent_on_stderr(backend, capsys):
    s = pd.Series(range(40))
    got = s.par(backend=backend, chunksize=7, progress=True).map(lambda x: x * 2)
    pd.testing.assert_series_equal(got, s.map(lambda x: x * 2))
    captured = capsys.readouterr()
    assert "100%" in captured.err and "40/40" in captured.err
    assert captured.out == ""


def test_progress_reaches_the_total_when_auto_hands_the_rest_to_pandas():
    seen = []
    s = pd.Series(range(5_000))
    s.par(backend="auto", progress=lambda done, total: seen.append((done, total))).map(
        lambda x: x + 1)
    assert seen[-1] == (5_000, 5_000)  # whatever auto chose on this machine's load
    counts = [done for done, _ in seen]
    assert counts == sorted(counts)


def test_progress_advances_and_completes_while_pandas_runs_the_rest():
    from pdpar.kinds.replay import replay
    from pdpar.progress import make_progress
    from pdpar.work import Unfinished

    s = pd.Series(range(1_000))
    seen = []
    sink = make_progress(lambda done, total: seen.append((done, total)), 1_000, "elements")
    sink.update(10)  # the units measured in the caller
    out = replay(lambda f: s.map(f), [x + 1 for x in range(10)], then=lambda x: x + 1,
                 unfinished=Unfinished([], sink, 990))
    pd.testing.assert_series_equal(out, s.map(lambda x: x + 1))
    counts = [done for done, _ in seen]
    assert seen[-1] == (1_000, 1_000) and counts == sorted(counts) and len(counts) > 50


def test_progress_reaches_the_total_when_pandas_finishes_rows_and_groups():
    df = pd.DataFrame({"g": [i % 50 for i in range(4_000)], "x": range(4_000)})
    for call in (lambda p: df.par(backend="auto", progress=p).apply(lambda r: r["x"], axis=1),
                 lambda p: df.par(backend="auto", progress=p).groupby("g").apply(
                     lambda g: g["x"].sum(), include_groups=False)):
        seen = []
        call(lambda done, total, seen=seen: seen.append((done, total)))
        if pdpar.last_plan().plain and pdpar.last_plan().probed:
            assert seen[-1][0] == seen[-1][1]


_SLOW_MAP = textwrap.dedent("""
    import time
    import pandas as pd
    import pdpar
    s = pd.Series(range(60))
    s.par(backend="threads", chunksize=5, progress=True).map(lambda x: time.sleep(0.01) or x)
""")


def test_progress_in_a_log_is_one_line_per_state_without_carriage_returns():
    # stderr is a pipe here, as in a log file or CI output
    done = subprocess.run([sys.executable, "-c", _SLOW_MAP], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "\r" not in done.stderr
    lines = done.stderr.splitlines()
    assert lines and all(re.match(r"\s*\d+%\|", line) for line in lines), lines
    assert len(lines) <= 4  # at most every 10 s, and the last state
    assert "100%" in lines[-1] and "60/60" in lines[-1]


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_progress_in_a_terminal_is_redrawn_in_place():
    import fcntl
    import struct
    import termios

    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    child = subprocess.Popen([sys.executable, "-c", _SLOW_MAP], stderr=follower,
                             stdout=subprocess.DEVNULL)
    os.close(follower)
    out = b""
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        out += data
    os.close(leader)
    assert child.wait(timeout=120) == 0
    text = out.decode()
    assert text.count("\r") >= 2  # the bar is redrawn over itself
    assert "100%" in text and "60/60" in text
