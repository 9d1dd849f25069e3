"""The ``progress`` option: advances from the caller as chunks are collected, never changes
results."""

import io

import pandas as pd
import pytest
from tqdm import tqdm


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


@pytest.mark.parametrize("backend", ["serial", "threads", "processes"])
def test_tqdm_class_progress_reaches_one_hundred_percent(backend):
    _StringTqdm.stream = io.StringIO()
    s = pd.Series(range(40))
    got = s.par(backend=backend, chunksize=7, progress=_StringTqdm).map(lambda x: x * 2)
    pd.testing.assert_series_equal(got, s.map(lambda x: x * 2))
    assert "100%" in _StringTqdm.stream.getvalue()
    assert "40/40" in _StringTqdm.stream.getvalue()


def test_progress_true_writes_a_bar_to_stderr(capsys):
    pd.Series(range(10)).par(backend="threads", chunksize=3, progress=True).map(abs)
    assert "10/10" in capsys.readouterr().err
