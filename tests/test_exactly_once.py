"""Each row, element and group is processed exactly once, on every backend."""

import os
import uuid

import numpy as np
import pandas as pd
import pytest


def _claim(folder, label):
    # O_EXCL makes a second call for the same label fail, in any process
    fd = os.open(os.path.join(folder, str(label)), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    os.close(fd)


def claim_row(row, folder):
    _claim(folder, row.name)
    return row["x"] * 2


def claim_element(x, folder):
    _claim(folder, x)
    return -x


def claim_group(group, folder):
    _claim(folder, group.name)
    return group["x"].sum()


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / uuid.uuid4().hex
    path.mkdir()
    return str(path)


@pytest.mark.parametrize("chunksize", [1, 7, None])
def test_rows_run_once_each(backend, folder, chunksize):
    df = pd.DataFrame({"x": np.arange(50)})
    got = df.par(backend=backend, chunksize=chunksize).apply(claim_row, axis=1, folder=folder)
    assert sorted(int(name) for name in os.listdir(folder)) == list(range(50))
    pd.testing.assert_series_equal(got, df.apply(lambda r: r["x"] * 2, axis=1))


def test_elements_run_once_each(backend, folder):
    s = pd.Series(np.arange(40))
    got = s.par(backend=backend, chunksize=3).apply(claim_element, folder=folder)
    assert sorted(int(name) for name in os.listdir(folder)) == list(range(40))
    pd.testing.assert_series_equal(got, -s)


def test_groups_run_once_each(backend, folder):
    df = pd.DataFrame({"k": np.arange(60) % 13, "x": np.arange(60)})
    got = df.par(backend=backend, chunksize=2).groupby("k").apply(claim_group, folder=folder)
    assert sorted(int(name) for name in os.listdir(folder)) == list(range(13))
    pd.testing.assert_series_equal(got, df.groupby("k").apply(lambda g: g["x"].sum()))


def test_elements_of_a_frame_run_once_each(backend, folder):
    df = pd.DataFrame({"a": np.arange(0, 20), "b": np.arange(100, 120)})
    got = df.par(backend=backend, chunksize=6).map(claim_element, folder=folder)
    assert sorted(int(name) for name in os.listdir(folder)) == sorted(df.to_numpy().ravel())
    pd.testing.assert_frame_equal(got, -df)
