"""The workloads pdpar is measured on, one definition per key (W1, W2, ...).

``python -m pdpar bench`` (:mod:`pdpar.bench`) and ``benchmarks/`` both run these, so a key
means one workload everywhere: the same function, the same data from the same seed, sizes in
the same unit (:attr:`Workload.sizes`). A workload is one pandas operation (an ``op``) over
generated data, run on a pandas object or on its ``par`` accessor; ``benchmarks/methods.py``
knows how other libraries run it. Timing, checking and reporting are here too (:func:`timed`,
:func:`assert_same`, :func:`format_seconds`, from :mod:`pdpar.timing`). This module and
:mod:`pdpar.timing` import only the standard library, numpy and pandas, never pdpar:
``benchmarks/`` loads them by their paths, also where pdpar is not installed.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .timing import assert_same, format_seconds, timed

__all__ = ["SEED", "WORKLOADS", "Workload", "RowApply", "ElementMap", "GroupApply",
           "GroupTransform", "WindowApply", "Op", "plain", "timed", "assert_same",
           "format_seconds"]

SEED = 20240611


# --- the user functions -------------------------------------------------------------------

def row_score(row: pd.Series) -> float:
    """W1: a few microseconds of branching Python over named fields of a mixed-dtype row."""
    a = row["a"]
    b = row.b
    c = row["c"]
    total = 1.0 if row.tag == "x" else -1.0
    for k in range(1, 9):
        if (a + k) % 3 == 0:
            total += b / k
        else:
            total -= math.sqrt(abs(c) + k)
    return total


def group_stats(group: pd.DataFrame) -> pd.Series:
    """W3: a handful of statistics of one group, as a Series (one result row per group)."""
    x = group["x"]
    y = group["y"]
    return pd.Series({
        "x_mean": x.mean(),
        "x_std": x.std(),
        "y_range": y.max() - y.min(),
        "count": float(len(group)),
    })


def file_size(path: str) -> int:
    """W4a: read a whole small file and return its length."""
    with open(path, "rb") as handle:
        return len(handle.read())


def wait_2ms(value: int) -> int:
    """W4b: 2 ms of waiting (a stand-in for a network call) per element."""
    time.sleep(0.002)
    return value


def group_zscore(group: pd.DataFrame) -> pd.DataFrame:
    """W8: each column of a group standardised, a few whole-group steps of Python."""
    return (group - group.mean()) / group.std()


def raw_row(r: np.ndarray) -> float:
    """W5: numeric arithmetic on a raw row (an ndarray); numba can compile it."""
    return r[0] * r[1] - r[2] / (1 + abs(r[3]))


def raw_row_vectorized(df: pd.DataFrame) -> pd.Series:
    """W5 by hand in numpy: the same arithmetic on whole columns, the same float results."""
    a = df.to_numpy()
    return pd.Series(a[:, 0] * a[:, 1] - a[:, 2] / (1 + np.abs(a[:, 3])), index=df.index)


def named_row(row: pd.Series) -> float:
    """W5b: W5's arithmetic on named fields (``row["c0"]``, ``row.c1``)."""
    return row["c0"] * row.c1 - row["c2"] / (1 + abs(row.c3))


def group_spread(group: pd.DataFrame) -> float:
    """W5c: a numeric function of a group's columns: the largest x*y less the smallest y."""
    return (group["x"] * group.y).max() - group["y"].min()


def group_spread_vectorized(df: pd.DataFrame) -> pd.Series:
    """W5c by hand in pandas: the same values from whole-column groupby reductions."""
    out = (df["x"] * df["y"]).groupby(df["g"]).max() - df.groupby("g")["y"].min()
    return out.rename(None)


def wide_row(r: np.ndarray) -> float:
    """W6: a short numeric reduction over a wide raw row."""
    return float(r[:16].sum() * r[16] - r[17:24].max())


def window_trend(w: Any) -> float:
    """W7 and W9: a window's change against its range, from a Series window or, with
    ``raw=True``, an ndarray (numba compiles it)."""
    v = np.asarray(w)
    return (v[-1] - v[0]) / (v.max() - v.min() + 1.0)


# --- the operations -----------------------------------------------------------------------

@dataclass(frozen=True)
class RowApply:
    """``df.apply(fn, axis=1, raw=raw)``; ``vectorized(df)`` gives the same result, if known."""

    fn: Callable[..., Any]
    raw: bool = False
    vectorized: Callable[[pd.DataFrame], pd.Series] | None = None
    kind: str = "row_apply"

    def pandas(self, df: pd.DataFrame) -> Any:
        return df.apply(self.fn, axis=1, raw=self.raw)


@dataclass(frozen=True)
class ElementMap:
    """``s.map(fn)``."""

    fn: Callable[..., Any]
    kind: str = "element_map"

    def pandas(self, s: pd.Series) -> Any:
        return s.map(self.fn)


@dataclass(frozen=True)
class GroupApply:
    """``df.groupby(key).apply(fn, include_groups=False)``."""

    key: str
    fn: Callable[..., Any]
    vectorized: Callable[[pd.DataFrame], pd.Series] | None = None
    kind: str = "group_apply"

    def pandas(self, df: pd.DataFrame) -> Any:
        return df.groupby(self.key).apply(self.fn, include_groups=False)


@dataclass(frozen=True)
class WindowApply:
    """``s.rolling(window).apply(fn, raw=raw)``; per group of ``key`` of a frame's ``x``."""
    window: int
    fn: Callable[..., Any]
    raw: bool = False
    key: str | None = None
    kind: str = "window_apply"

    def pandas(self, data: Any) -> Any:
        obj = data if self.key is None else data.groupby(self.key)["x"]
        return obj.rolling(self.window).apply(self.fn, raw=self.raw)


@dataclass(frozen=True)
class GroupTransform(GroupApply):
    """``df.groupby(key).transform(fn)``."""
    kind: str = "group_transform"

    def pandas(self, df: pd.DataFrame) -> Any:
        return df.groupby(self.key).transform(self.fn)


Op = RowApply | ElementMap | GroupApply | WindowApply


# --- the data -----------------------------------------------------------------------------

def mixed_frame(rows: int) -> pd.DataFrame:
    """W1: int, float and string columns, so each row is an object-dtype Series."""
    rng = np.random.default_rng(SEED)
    return pd.DataFrame({
        "a": rng.integers(0, 1_000, rows),
        "b": rng.standard_normal(rows),
        "c": rng.standard_normal(rows) * 10,
        "tag": rng.choice(np.array(["x", "y", "z"], dtype=object), rows),
    })


def int_series(elements: int) -> pd.Series:
    """W2 and W4b: integers below 1,000."""
    return pd.Series(np.random.default_rng(SEED).integers(0, 1_000, elements), name="x")


def grouped_frame(rows: int) -> pd.DataFrame:
    """W3: about 100 rows per group, groups in random order."""
    rng = np.random.default_rng(SEED)
    return pd.DataFrame({
        "g": rng.integers(0, max(rows // 100, 1), rows),
        "x": rng.standard_normal(rows),
        "y": rng.random(rows) * 100,
    })


def walk(rows: int) -> pd.Series:  # W7: a random walk
    return pd.Series(np.random.default_rng(SEED).standard_normal(rows).cumsum(), name="x")


def float_frame(rows: int, columns: int = 4) -> pd.DataFrame:
    """W5 and W6: all float64, one block."""
    values = np.random.default_rng(SEED).standard_normal((rows, columns))
    return pd.DataFrame(values, columns=[f"c{i}" for i in range(columns)])


@contextlib.contextmanager
def small_files(count: int) -> Iterator[pd.Series]:
    """W4a: ``count`` files of 1 to 16 KiB in a temporary folder, removed afterwards."""
    rng = np.random.default_rng(SEED)
    sizes = rng.integers(1_024, 16_384, count)
    with tempfile.TemporaryDirectory(prefix="pdpar-bench-files-") as folder:
        paths = [os.path.join(folder, f"f{i:05d}.bin") for i in range(count)]
        for path, size in zip(paths, sizes):
            with open(path, "wb") as handle:
                handle.write(rng.bytes(int(size)))
        yield pd.Series(paths, name="path")


def plain(build: Callable[[int], Any]) -> Callable[[int], contextlib.AbstractContextManager]:
    """A data builder as :attr:`Workload.make_data` wants it: with nothing to clean up."""
    return lambda size: contextlib.nullcontext(build(size))


# --- the workloads ------------------------------------------------------------------------

BASELINES = ("pandas", "joblib")
WINDOW_SIZES = {"quick": (100_000,), "full": (1_000_000,)}
PEERS = ("pandarallel", "mapply", "parallel-pandas", "swifter", "dask")


@dataclass(frozen=True)
class Workload:
    """One op over data of each size: ``make_data(size)`` is a context manager giving the data
    (removing any files after). ``sizes`` maps a scale to sizes in ``unit``: ``"quick"`` and
    ``"full"`` for ``benchmarks/run.py``, ``"small"``, ``"medium"``, ``"large"`` for ``python -m
    pdpar bench``. ``methods``: names of ``benchmarks/methods.py`` run on it; ``measure``:
    ``"time"``, or ``"memory"`` (one cold call per method, its peak memory sampled)."""

    key: str
    title: str
    op: Op
    make_data: Callable[[int], contextlib.AbstractContextManager]
    unit: str
    sizes: Mapping[str, tuple[int, ...]]
    methods: tuple[str, ...] = ()
    measure: str = "time"


WORKLOADS: dict[str, Workload] = {w.key: w for w in [
    Workload(
        "W1", "CPU-bound row function: df.apply(row_score, axis=1)",
        RowApply(row_score), plain(mixed_frame), "rows",
        {"quick": (20_000,), "full": (200_000,), "small": (1_000, 4_000, 16_000),
         "medium": (1_000, 3_000, 10_000, 30_000, 100_000),
         "large": (1_000, 10_000, 100_000, 300_000, 1_000_000)},
        BASELINES + ("pdpar auto", "pdpar processes", "pdpar 1 CPU", "pdpar series rows")
        + PEERS,
    ),
    Workload(
        "W2", "Light function, overhead curve: s.map(lambda x: x ** 2)",
        ElementMap(lambda x: x ** 2), plain(int_series), "elements",
        {"quick": (1_000, 10_000, 100_000, 1_000_000),
         "full": (1_000, 10_000, 100_000, 1_000_000, 10_000_000),
         "small": (1_000, 10_000, 100_000), "medium": (1_000, 10_000, 100_000, 1_000_000),
         "large": (1_000, 10_000, 100_000, 1_000_000, 10_000_000)},
        BASELINES + ("pdpar auto", "pdpar threads", "pdpar processes") + PEERS,
    ),
    Workload(
        "W3", "groupby apply: df.groupby('g').apply(group_stats), about 100 rows per group",
        GroupApply("g", group_stats), plain(grouped_frame), "rows",
        {"quick": (100_000,), "full": (1_000_000,), "small": (2_500, 10_000, 40_000),
         "medium": (3_000, 10_000, 30_000, 100_000, 300_000),
         "large": (10_000, 100_000, 300_000, 1_000_000, 3_000_000)},
        BASELINES + ("pdpar auto", "pdpar processes") + PEERS,
    ),
    Workload(
        "W4a", "I/O-bound: read 2,000 small files, s.map(file_size)",
        ElementMap(file_size), small_files, "files", {"quick": (2_000,), "full": (2_000,)},
        BASELINES + ("pdpar auto", "pdpar threads (32)") + PEERS
        + ("parallel-pandas threads (32)",),
    ),
    Workload(
        "W4b", "I/O-bound, 2 ms sleep per element: s.map(wait_2ms)",
        ElementMap(wait_2ms), plain(int_series), "elements",
        {"quick": (2_000,), "full": (2_000,), "small": (20, 80, 320),
         "medium": (10, 30, 100, 300, 1_000),
         "large": (10, 100, 1_000, 3_000, 10_000)},
        BASELINES + ("pdpar auto", "pdpar threads (32)") + PEERS
        + ("parallel-pandas threads (32)",),
    ),
    Workload(
        "W5", "Numeric raw row function: df.apply(raw_row, axis=1, raw=True), 4 float columns",
        RowApply(raw_row, raw=True, vectorized=raw_row_vectorized), plain(float_frame), "rows",
        {"quick": (100_000,), "full": (1_000_000,), "small": (1_000, 10_000, 100_000),
         "medium": (1_000, 10_000, 100_000, 1_000_000),
         "large": (1_000, 10_000, 100_000, 1_000_000, 3_000_000)},
        ("pandas", "pandas numba", "numpy vectorized", "joblib", "pdpar processes",
         "pdpar jit") + PEERS,
    ),
    Workload(
        "W5b", "Named-field row function: df.apply(named_row, axis=1), W5's arithmetic",
        RowApply(named_row, vectorized=raw_row_vectorized), plain(float_frame), "rows",
        {"quick": (100_000,), "full": (1_000_000,)},
        ("pandas", "pandas numba", "numpy vectorized", "pdpar auto", "pdpar 1 CPU",
         "pdpar series rows", "pdpar processes", "pdpar jit"),
    ),
    Workload(
        "W5c", "Numeric group function: groupby('g').apply(group_spread), 100 rows per group",
        GroupApply("g", group_spread, vectorized=group_spread_vectorized),
        plain(grouped_frame), "rows", {"quick": (100_000,), "full": (1_000_000,)},
        ("pandas", "pandas numba", "numpy vectorized", "pdpar processes", "pdpar jit"),
    ),
    Workload(
        "W8", "groupby transform: df.groupby('g').transform(group_zscore), 100 rows per group",
        GroupTransform("g", group_zscore), plain(grouped_frame), "rows",
        {"quick": (100_000,), "full": (1_000_000,)}, ("pandas", "pdpar auto", "pdpar processes"),
    ),
    Workload(
        "W6", "Peak memory: df.apply(wide_row, axis=1, raw=True), 190 float64 columns",
        RowApply(wide_row, raw=True), plain(lambda rows: float_frame(rows, 190)), "rows",
        {"quick": (100_000,), "full": (1_000_000,)},
        BASELINES + ("pdpar processes",) + PEERS, measure="memory",
    ),
    Workload("W7", "Rolling window function: s.rolling(50).apply(window_trend)",
             WindowApply(50, window_trend), plain(walk), "rows", WINDOW_SIZES,
             ("pandas", "pdpar auto", "pdpar processes") + PEERS),
    Workload("W7j", "Numeric rolling window function: W7 with raw=True",
             WindowApply(50, window_trend, raw=True), plain(walk), "rows", WINDOW_SIZES,
             ("pandas", "pandas numba", "pdpar auto", "pdpar processes", "pdpar jit")),
    Workload("W9", "groupby rolling: df.groupby('g')['x'].rolling(20).apply(window_trend)",
             WindowApply(20, window_trend, key="g"), plain(grouped_frame), "rows",
             WINDOW_SIZES, ("pandas", "pdpar auto", "pdpar processes") + PEERS),
]}
