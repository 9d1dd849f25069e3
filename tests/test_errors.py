"""A user's exception comes back with its own type and a note naming where it happened."""

from pathlib import Path

import pandas as pd
import pytest

import pdpar
from reliability import wait_for


class Boom(ValueError):
    pass


def fail_on_label_7(row):
    if row.name == 7:
        raise Boom("seven")
    return row["x"]


def fail_on_group_b(group):
    if group.name == "b":
        raise KeyError("no b")
    return len(group)


def fail_on_element(x):
    if x == 13:
        raise ZeroDivisionError("thirteen")
    return x


def test_row_exception_keeps_type_and_names_the_row(backend):
    df = pd.DataFrame({"x": range(20)})
    with pytest.raises(Boom, match="seven") as info:
        df.par(backend=backend, chunksize=3).apply(fail_on_label_7, axis=1)
    notes = "\n".join(info.value.__notes__)
    assert "row labelled 7" in notes and "chunk 3 of 7, rows 6 to 8" in notes


def test_group_exception_keeps_type_and_names_the_group(backend):
    df = pd.DataFrame({"k": list("abcab"), "x": range(5)})
    with pytest.raises(KeyError) as info:
        df.par(backend=backend, chunksize=1).groupby("k").apply(fail_on_group_b)
    assert "group labelled 'b'" in "\n".join(info.value.__notes__)


def test_element_exception_names_the_label(backend):
    s = pd.Series(range(20), index=[f"r{i}" for i in range(20)])
    with pytest.raises(ZeroDivisionError) as info:
        s.par(backend=backend, chunksize=4).map(fail_on_element)
    assert "element labelled 'r13'" in "\n".join(info.value.__notes__)


def test_frame_map_exception_names_column_and_row(backend):
    df = pd.DataFrame({"a": range(10), "b": range(10, 20)})
    with pytest.raises(ZeroDivisionError) as info:
        df.par(backend=backend, chunksize=4).map(fail_on_element)
    assert "column 'b' of the row labelled 3" in "\n".join(info.value.__notes__)


def test_process_exception_carries_the_worker_traceback():
    df = pd.DataFrame({"x": range(20)})
    with pytest.raises(Boom) as info:
        df.par(backend="processes", chunksize=5).apply(fail_on_label_7, axis=1)
    assert isinstance(info.value.__cause__, pdpar.RemoteTraceback)
    assert "fail_on_label_7" in str(info.value.__cause__)


def fail_after_a_later_row_failed(row, folder):
    # row 15 fails at once; row 2, in an earlier chunk, fails only once row 15 has failed
    if row.name == 15:
        Path(folder, "15 failed").touch()
        raise ValueError("later")
    if row.name == 2:
        if wait_for(Path(folder, "15 failed")):
            Path(folder, "2 saw it").touch()
        raise TypeError("first")
    return 0


@pytest.mark.parametrize("backend", ["threads", "processes", "dask"])
def test_the_first_failing_row_in_input_order_wins(backend, tmp_path, request):
    # a later chunk fails first in time; pandas, running the rows in order, raises row 2's error
    if backend == "dask":
        request.getfixturevalue("dask_client")
    df = pd.DataFrame({"x": range(20)})
    with pytest.raises(TypeError, match="first") as info:
        df.par(backend=backend, n_jobs=2, chunksize=2).apply(fail_after_a_later_row_failed,
                                                             axis=1, folder=str(tmp_path))
    assert (tmp_path / "2 saw it").exists()  # row 15 had failed before row 2 did
    assert "row labelled 2" in "\n".join(info.value.__notes__)


def test_the_next_call_works_after_an_error(backend):
    df = pd.DataFrame({"x": range(20)})
    with pytest.raises(Boom):
        df.par(backend=backend, chunksize=3).apply(fail_on_label_7, axis=1)
    got = df.par(backend=backend, chunksize=3).apply(lambda r: r["x"] * 2, axis=1)
    pd.testing.assert_series_equal(got, df.apply(lambda r: r["x"] * 2, axis=1))
