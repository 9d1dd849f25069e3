"""How each library runs each kind of op (row apply, element map, groupby apply, rolling
window apply).

A method is one way of running an op: serial pandas, a hand-written recipe, a pdpar
configuration or a peer library. Each names the environment it runs in ("pdpar": the newest
pandas with pdpar installed, or "peers": pandas 3.0.x with the peer libraries), imports its
library only in :meth:`Method.prepare` (so this module imports in either environment), and
implements one function per op kind it supports. Every parallel method uses 2 workers (the
machine's core count) unless its name says otherwise.
"""

from __future__ import annotations

import multiprocessing
from typing import Any

import numpy as np
import pandas as pd

from .workloads import ElementMap, GroupApply, GroupTransform, Op, RowApply, WindowApply

N_WORKERS = 2
KINDS = {"row_apply": "row apply", "element_map": "element map", "group_apply": "groupby apply",
         "window_apply": "rolling window apply", "group_transform": "groupby transform"}


class Method:
    """One way to run an op; subclasses override the op kinds they support."""

    env = "pdpar"
    role = "peer"  # "baseline", "pdpar" or "peer": peers are what pdpar is compared against
    checks = True  # False: the method gives no result to compare with pandas' (a ceiling)
    package: str | None = None  # distribution whose version the report shows
    not_available: tuple[type[BaseException], ...] = ()  # raised when the feature is missing

    def __init__(self, name: str) -> None:
        self.name = name

    def supports(self, op: Op) -> str | None:
        """None if this method can run ``op``, else the reason it cannot."""
        if getattr(type(self), op.kind) is getattr(Method, op.kind):
            return f"{self.name} has no {KINDS[op.kind]}"
        return None

    def prepare(self) -> None:
        """Import and initialise the library (not timed)."""

    def run(self, op: Op, data: Any) -> Any:
        return getattr(self, op.kind)(op, data)

    def row_apply(self, op: RowApply, df: pd.DataFrame) -> Any:
        raise NotImplementedError

    def element_map(self, op: ElementMap, s: pd.Series) -> Any:
        raise NotImplementedError

    def group_apply(self, op: GroupApply, df: pd.DataFrame) -> Any:
        raise NotImplementedError

    def window_apply(self, op: WindowApply, data: Any) -> Any:
        raise NotImplementedError

    def group_transform(self, op: GroupTransform, df: pd.DataFrame) -> Any:
        raise NotImplementedError


class SerialPandas(Method):
    """The reference: the op exactly as the workload writes it, run in every environment."""

    env = "any"
    role = "baseline"
    package = "pandas"

    def run(self, op: Op, data: Any) -> Any:
        return op.pandas(data)

    def supports(self, op: Op) -> str | None:
        return None


class PandasNumba(Method):
    """``df.apply(fn, axis=1, raw=True, engine="numba")`` (and ``rolling(...).apply``):
    pandas compiles fn with numba."""

    role = "baseline"
    package = "numba"

    def supports(self, op: Op) -> str | None:
        if isinstance(op, RowApply) or (isinstance(op, WindowApply) and op.raw):
            return None
        return "pandas' numba engine does not run this kind of call"

    def prepare(self) -> None:
        from numba.core.errors import TypingError

        self.not_available = (TypingError,)  # a function numba cannot compile

    def row_apply(self, op: RowApply, df: pd.DataFrame) -> Any:
        return df.apply(op.fn, axis=1, raw=op.raw, engine="numba")

    def window_apply(self, op: WindowApply, data: Any) -> Any:
        obj = data if op.key is None else data.groupby(op.key)["x"]
        return obj.rolling(op.window).apply(op.fn, raw=True, engine="numba")


class NumpyVectorized(Method):
    """The same arithmetic written by hand on whole numpy columns."""

    role = "baseline"
    package = "numpy"

    def supports(self, op: Op) -> str | None:
        if isinstance(op, (RowApply, GroupApply)) and op.vectorized is not None:
            return None
        return "no hand-vectorized version of this function"

    def row_apply(self, op: RowApply, df: pd.DataFrame) -> Any:
        assert op.vectorized is not None
        return op.vectorized(df)

    def group_apply(self, op: GroupApply, df: pd.DataFrame) -> Any:
        assert op.vectorized is not None
        return op.vectorized(df)


def _split_positions(length: int, parts: int) -> list[np.ndarray]:
    # np.array_split(df, n) returns ndarrays on pandas 3, so split positions and use iloc.
    return np.array_split(np.arange(length), parts)


class JoblibRecipe(Method):
    """The hand-written recipe: split into one chunk per worker, joblib Parallel, pd.concat."""

    role = "baseline"
    package = "joblib"

    def prepare(self) -> None:
        import joblib  # noqa: F401

    def row_apply(self, op: RowApply, df: pd.DataFrame) -> Any:
        from joblib import Parallel, delayed

        chunks = [df.iloc[p] for p in _split_positions(len(df), N_WORKERS)]
        parts = Parallel(n_jobs=N_WORKERS)(
            delayed(lambda c: c.apply(op.fn, axis=1, raw=op.raw))(c) for c in chunks
        )
        return pd.concat(parts)

    def element_map(self, op: ElementMap, s: pd.Series) -> Any:
        from joblib import Parallel, delayed

        chunks = [s.iloc[p] for p in _split_positions(len(s), N_WORKERS)]
        parts = Parallel(n_jobs=N_WORKERS)(delayed(lambda c: c.map(op.fn))(c) for c in chunks)
        return pd.concat(parts)

    def group_apply(self, op: GroupApply, df: pd.DataFrame) -> Any:
        from joblib import Parallel, delayed

        # Whole groups per chunk: split the sorted keys, so the concatenation stays sorted.
        keys = np.array_split(np.sort(df[op.key].unique()), N_WORKERS)
        chunks = [df[df[op.key].isin(part)] for part in keys]
        parts = Parallel(n_jobs=N_WORKERS)(
            delayed(lambda c: c.groupby(op.key).apply(op.fn, include_groups=False))(c)
            for c in chunks
        )
        return pd.concat(parts)


def halves(op: Op, data: Any) -> list[Any]:
    """The input of ``op`` cut in two parts that serial pandas can run separately, each about
    half of the work: whole groups on each side of the median key; for a window, the second
    half starting ``window - 1`` rows early (its first windows then read what they would)."""
    key = getattr(op, "key", None)
    if key is not None:
        below = data[key] <= data[key].median()
        return [data[below], data[~below]]
    middle = len(data) // 2
    overlap = op.window - 1 if isinstance(op, WindowApply) else 0
    return [data.iloc[:middle], data.iloc[max(middle - overlap, 0):]]


def _serve_half(op: Op, part: Any, conn: Any) -> None:
    """A forked process of :class:`PandasHalves`: the op on its part at each message."""
    while conn.recv():
        op.pandas(part)
        conn.send(True)


class PandasHalves(Method):
    """The ceiling of the moment for this workload: serial pandas on each half of the input
    (:func:`halves`) in two processes at once, forked with their half (nothing sent,
    nothing assembled, no result kept). What two processes of this code can do on this
    machine now, shared caches and all, which a pure-Python loop does not show."""

    env = "pdpar"
    role = "ceiling"
    package = "pandas"
    checks = False

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.workers: list[tuple[Any, Any]] = []

    def supports(self, op: Op) -> str | None:
        return None

    def run(self, op: Op, data: Any) -> Any:
        if not self.workers:
            context = multiprocessing.get_context("fork")
            for part in halves(op, data):
                here, there = context.Pipe()
                process = context.Process(target=_serve_half, args=(op, part, there),
                                          daemon=True)
                process.start()
                self.workers.append((process, here))
        for _, pipe in self.workers:
            pipe.send(True)
        for _, pipe in self.workers:
            pipe.recv()
        return None


class Pdpar(Method):
    """``obj.par(**options)``; with ``jit=True``, a JitError (numba cannot compile the
    function) is reported as n/a."""

    role = "pdpar"
    package = "pdpar"

    def __init__(self, name: str, **options: Any) -> None:
        super().__init__(name)
        self.options = options

    def supports(self, op: Op) -> str | None:
        return super().supports(op)

    def prepare(self) -> None:
        import pdpar

        self.not_available = (pdpar.JitError,) if self.options.get("jit") else ()

    def row_apply(self, op: RowApply, df: pd.DataFrame) -> Any:
        return df.par(**self.options).apply(op.fn, axis=1, raw=op.raw)

    def element_map(self, op: ElementMap, s: pd.Series) -> Any:
        return s.par(**self.options).map(op.fn)

    def group_apply(self, op: GroupApply, df: pd.DataFrame) -> Any:
        return df.par(**self.options).groupby(op.key).apply(op.fn, include_groups=False)

    def window_apply(self, op: WindowApply, data: Any) -> Any:
        par = data.par(**self.options)
        obj = par if op.key is None else par.groupby(op.key)["x"]
        return obj.rolling(op.window).apply(op.fn, raw=op.raw)

    def group_transform(self, op: GroupTransform, df: pd.DataFrame) -> Any:
        return df.par(**self.options).groupby(op.key).transform(op.fn)


class Pandarallel(Method):
    env = "peers"
    package = "pandarallel"

    def prepare(self) -> None:
        from pandarallel import pandarallel

        pandarallel.initialize(nb_workers=N_WORKERS, progress_bar=False, verbose=0)

    def row_apply(self, op: RowApply, df: pd.DataFrame) -> Any:
        return df.parallel_apply(op.fn, axis=1, raw=op.raw)

    def element_map(self, op: ElementMap, s: pd.Series) -> Any:
        return s.parallel_map(op.fn)

    def group_apply(self, op: GroupApply, df: pd.DataFrame) -> Any:
        # pandarallel takes no include_groups; the function ignores the key column anyway.
        return df.groupby(op.key).parallel_apply(op.fn)

    def window_apply(self, op: WindowApply, data: Any) -> Any:
        obj = data if op.key is None else data.groupby(op.key)["x"]
        return obj.rolling(op.window).parallel_apply(op.fn, raw=op.raw)


class Mapply(Method):
    env = "peers"
    package = "mapply"

    def prepare(self) -> None:
        import mapply

        mapply.init(n_workers=N_WORKERS, progressbar=False)

    def row_apply(self, op: RowApply, df: pd.DataFrame) -> Any:
        return df.mapply(op.fn, axis=1, raw=op.raw)

    def element_map(self, op: ElementMap, s: pd.Series) -> Any:
        return s.mapply(op.fn)  # mapply has no map: Series.apply, the same for these functions

    def group_apply(self, op: GroupApply, df: pd.DataFrame) -> Any:
        return df.groupby(op.key).mapply(op.fn, include_groups=False)


class ParallelPandas(Method):
    """parallel-pandas with its process executor, or threads when ``threads`` is given."""

    env = "peers"
    package = "parallel-pandas"

    def __init__(self, name: str, threads: int | None = None) -> None:
        super().__init__(name)
        self.threads = threads

    def prepare(self) -> None:
        from parallel_pandas import ParallelPandas as Library

        Library.initialize(n_cpu=self.threads or N_WORKERS, disable_pr_bar=True)

    @property
    def executor(self) -> str:
        return "threads" if self.threads else "processes"

    def supports(self, op: Op) -> str | None:
        if self.threads and not isinstance(op, ElementMap):
            return "only run on the I/O-bound maps"
        return super().supports(op)

    def row_apply(self, op: RowApply, df: pd.DataFrame) -> Any:
        return df.p_apply(op.fn, axis=1, raw=op.raw, executor=self.executor)

    def element_map(self, op: ElementMap, s: pd.Series) -> Any:
        return s.p_map(op.fn, executor=self.executor)

    def group_apply(self, op: GroupApply, df: pd.DataFrame) -> Any:
        return df.groupby(op.key).p_apply(op.fn, executor=self.executor, include_groups=False)

    def window_apply(self, op: WindowApply, data: Any) -> Any:
        obj = data if op.key is None else data.groupby(op.key)["x"]
        return obj.rolling(op.window).p_apply(op.fn, raw=op.raw, executor=self.executor)


class Swifter(Method):
    env = "peers"
    package = "swifter"

    def prepare(self) -> None:
        import swifter  # noqa: F401  (registers the accessor)

    def supports(self, op: Op) -> str | None:
        if isinstance(op, GroupApply):
            return "swifter's groupby apply needs ray (not installed)"
        return super().supports(op)

    def row_apply(self, op: RowApply, df: pd.DataFrame) -> Any:
        return df.swifter.progress_bar(False).apply(op.fn, axis=1, raw=op.raw)

    def element_map(self, op: ElementMap, s: pd.Series) -> Any:
        return s.swifter.progress_bar(False).apply(op.fn)  # swifter has no Series map


class Dask(Method):
    """dask.dataframe with 2 partitions per worker, computed on the processes scheduler."""

    env = "peers"
    package = "dask"

    def prepare(self) -> None:
        import dask.dataframe  # noqa: F401

    @staticmethod
    def _meta(op: Op, data: Any) -> Any:
        # What a dask user writes by hand: an empty result of the right shape and dtypes.
        return op.pandas(data.iloc[:50]).iloc[:0]

    @staticmethod
    def _compute(collection: Any) -> Any:
        return collection.compute(scheduler="processes", num_workers=N_WORKERS)

    def row_apply(self, op: RowApply, df: pd.DataFrame) -> Any:
        import dask.dataframe as dd

        frame = dd.from_pandas(df, npartitions=2 * N_WORKERS)
        return self._compute(frame.apply(op.fn, axis=1, raw=op.raw, meta=self._meta(op, df)))

    def element_map(self, op: ElementMap, s: pd.Series) -> Any:
        import dask.dataframe as dd

        series = dd.from_pandas(s, npartitions=2 * N_WORKERS)
        return self._compute(series.map(op.fn, meta=self._meta(op, s)))

    def group_apply(self, op: GroupApply, df: pd.DataFrame) -> Any:
        import dask.dataframe as dd

        frame = dd.from_pandas(df, npartitions=2 * N_WORKERS)
        grouped = frame.groupby(op.key).apply(op.fn, include_groups=False,
                                              meta=self._meta(op, df))
        return self._compute(grouped).sort_index()  # dask's shuffle loses pandas' group order


METHODS: dict[str, Method] = {m.name: m for m in [
    SerialPandas("pandas"),
    PandasHalves("pandas in two halves at once"),
    PandasNumba("pandas numba"),
    NumpyVectorized("numpy vectorized"),
    JoblibRecipe("joblib"),
    Pdpar("pdpar auto"),
    Pdpar("pdpar processes", backend="processes"),
    Pdpar("pdpar threads", backend="threads"),
    Pdpar("pdpar threads (32)", backend="threads", n_jobs=32),
    Pdpar("pdpar jit", jit=True),
    Pdpar("pdpar 1 CPU", n_jobs=1),
    Pdpar("pdpar series rows", rows="series"),
    Pandarallel("pandarallel"),
    Mapply("mapply"),
    ParallelPandas("parallel-pandas"),
    ParallelPandas("parallel-pandas threads (32)", threads=32),
    Swifter("swifter"),
    Dask("dask"),
]}

#: The serial pandas reference of each environment.
REFERENCE = "pandas"
