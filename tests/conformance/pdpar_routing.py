"""A pytest plugin that runs pandas' own tests with pandas' methods routed through pdpar.

Load it with ``-p pdpar_routing`` (this directory on ``sys.path``). It does nothing unless asked:

``--pdpar-route=threads|processes|serial|dask`` (or ``PDPAR_CONFORMANCE_ROUTE``)
    Replace ``DataFrame.apply``, ``DataFrame.map``, ``Series.apply``, ``Series.map``, the
    ``apply``, ``transform``, ``agg``, ``aggregate`` and ``filter`` of ``DataFrameGroupBy`` and
    ``SeriesGroupBy``, ``Resampler.apply``, ``agg`` and ``aggregate``, and the ``apply`` of
    rolling and expanding windows (``Rolling``, ``Expanding``, ``RollingGroupby``,
    ``ExpandingGroupby``) for the whole session with versions that call pdpar with that backend
    (pdpar itself hands pandas the calls with nothing to run in parallel: strings, lists and
    dicts of functions, numba). "dask" starts a local cluster (2 worker processes, loopback
    addresses) for the session.
``--pdpar-chunksize=N`` (or ``PDPAR_CONFORMANCE_CHUNKSIZE``, default 1)
    The chunk size of every routed call; small, so that every call is really split.
``--pdpar-n-jobs=N`` (or ``PDPAR_CONFORMANCE_N_JOBS``, default -1)
    Workers per routed call.
``--pdpar-lenient-stacklevel``
    For diagnosis only: stop pandas' ``tm.assert_produces_warning`` from checking which line a
    warning is attributed to, so that a wrong attribution does not hide a test's later checks.
``--pdpar-outcomes=PATH``
    Write every test's outcome (and the failure text of those that failed) to ``PATH`` as JSON.
    Works with or without routing, so a plain run records the baseline the same way.

pandas implements some public methods on top of others (``DataFrame.map`` calls
``self.apply``), and pdpar calls pandas inside its chunk tasks and combine steps. A routed method
used while pdpar is already running (:func:`pdpar._reentry.inside_pdpar`) is therefore the
original pandas method, so pdpar never calls itself.

Routed methods are descriptors (:class:`RoutedMethod`) rather than wrapper functions, so that no
frame of this plugin sits between a test and pdpar: pandas' tests check the line each warning is
attributed to, and a wrapper frame would be blamed for (or would hide) pdpar's attribution.
"""

from __future__ import annotations

import collections
import functools
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

ROUTE_ENV = "PDPAR_CONFORMANCE_ROUTE"
CHUNKSIZE_ENV = "PDPAR_CONFORMANCE_CHUNKSIZE"
N_JOBS_ENV = "PDPAR_CONFORMANCE_N_JOBS"
ROUTE_BACKENDS = ("threads", "processes", "serial", "dask")

#: Calls counted while routing: ``routed <method>`` (sent to pdpar), ``passed through <method>``
#: (called inside pdpar, so sent to pandas), ``chunked calls`` and ``chunks`` (pdpar calls that
#: ran in chunks, counted where pdpar hands chunks to its backends).
CALLS: collections.Counter[str] = collections.Counter()
_calls_lock = threading.Lock()


def _count(name: str, n: int = 1) -> None:
    with _calls_lock:
        CALLS[name] += n


#: (class, attribute name, the class's own attribute before routing or _ABSENT)
_installed: list[tuple[Any, str, Any]] = []
_ABSENT = object()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pdpar", "pandas' tests routed through pdpar")
    group.addoption("--pdpar-route", choices=ROUTE_BACKENDS, default=None,
                    help=f"route pandas' apply/map/groupby-apply through pdpar with this "
                         f"backend (default: ${ROUTE_ENV}, else no routing)")
    group.addoption("--pdpar-chunksize", type=int, default=None,
                    help=f"chunk size of routed calls (default: ${CHUNKSIZE_ENV}, else 1)")
    group.addoption("--pdpar-n-jobs", type=int, default=None,
                    help=f"n_jobs of routed calls (default: ${N_JOBS_ENV}, else -1)")
    group.addoption("--pdpar-lenient-stacklevel", action="store_true", default=False,
                    help="diagnosis: do not check where expected warnings are attributed")
    group.addoption("--pdpar-outcomes", default=None, metavar="PATH",
                    help="write each test's outcome to PATH as JSON")


def _setting(config: pytest.Config, option: str, env: str, default: Any, kind: type) -> Any:
    value = config.getoption(option)
    if value is None:
        raw = os.environ.get(env, "").strip()
        value = kind(raw) if raw else default
    return value


# --------------------------------------------------------------------------------------------
# routing


def route_settings(config: pytest.Config) -> dict[str, Any] | None:
    """The pdpar options of routed calls, or None when routing is off."""
    backend = _setting(config, "pdpar_route", ROUTE_ENV, None, str)
    if not backend:
        return None
    if backend not in ROUTE_BACKENDS:
        raise pytest.UsageError(f"${ROUTE_ENV} must be one of {ROUTE_BACKENDS}, got {backend!r}")
    return {
        "backend": backend,
        "chunksize": _setting(config, "pdpar_chunksize", CHUNKSIZE_ENV, 1, int),
        "n_jobs": _setting(config, "pdpar_n_jobs", N_JOBS_ENV, -1, int),
    }


def _patch(cls: Any, name: str, replacement: Any) -> None:
    _installed.append((cls, name, cls.__dict__.get(name, _ABSENT)))
    setattr(cls, name, replacement)


class RoutedMethod:
    """A pandas method routed through pdpar, installed on the class as a descriptor.

    ``obj.method`` evaluates to pdpar's bound method (``obj.par(...).method`` or, for a groupby,
    ``ParGroupBy(obj, ...).apply``, for a window ``ParWindow(obj, ...).apply``), so calling it
    puts no frame of this plugin between the caller and pdpar: warnings attributed to "the
    caller" land on the test's line exactly as they would in a program that calls pdpar
    itself. Inside a pdpar call it evaluates to the
    original pandas method. Looked up on the class, it is a plain function doing the same.
    """

    def __init__(self, original: Any, label: str, route: Any) -> None:
        from pdpar._reentry import inside_pdpar

        self._original = original
        self._label = label
        self._route = route
        self._inside_pdpar = inside_pdpar
        functools.update_wrapper(self, original)  # type: ignore[arg-type]

        @functools.wraps(original)
        def unbound(obj: Any, *args: Any, **kwargs: Any) -> Any:
            return self.__get__(obj, type(obj))(*args, **kwargs)

        self._unbound = unbound

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        if obj is None:
            return self._unbound
        if self._inside_pdpar():
            _count(f"passed through {self._label}")
            return self._original.__get__(obj, objtype)
        _count(f"routed {self._label}")
        return self._route(obj)


#: The groupby methods routed besides ``apply``; pdpar runs them in chunks when given a
#: function, and hands strings, lists, dicts and numba to pandas as they are.
GROUPBY_METHODS = ("transform", "agg", "aggregate", "filter")
#: The resampler's methods that take a function.
RESAMPLER_METHODS = ("apply", "agg", "aggregate")


def install(options: dict[str, Any]) -> None:
    """Route pandas' methods that take a function through pdpar with ``options``."""
    import pandas as pd
    from pandas.core.groupby.generic import DataFrameGroupBy, SeriesGroupBy
    from pandas.core.resample import Resampler
    from pandas.core.window import expanding, rolling

    import pdpar  # noqa: F401  (registers the accessors)
    from pdpar import _pandas
    from pdpar.accessor import ParGroupBy, ParResampler, ParWindow

    opts = dict(options)

    def accessor_method(name: str) -> Any:
        return lambda obj: getattr(obj.par(**opts), name)

    def groupby_apply(gb: Any) -> Any:
        return ParGroupBy(gb, opts).apply

    # pdpar captured the real frame and series methods at import; the groupby ones are
    # captured here, before routing
    for cls, name, original in [
        (pd.DataFrame, "apply", _pandas.DataFrame_apply),
        (pd.DataFrame, "map", _pandas.DataFrame_map),
        (pd.Series, "apply", _pandas.Series_apply),
        (pd.Series, "map", _pandas.Series_map),
    ]:
        _patch(cls, name, RoutedMethod(original, f"{cls.__name__}.{name}",
                                       accessor_method(name)))
    def groupby_method(name: str) -> Any:
        return lambda gb: getattr(ParGroupBy(gb, opts), name)

    def resampler_method(name: str) -> Any:
        return lambda r: getattr(ParResampler(r, opts), name)

    for gb_cls in (DataFrameGroupBy, SeriesGroupBy):
        _patch(gb_cls, "apply", RoutedMethod(gb_cls.apply, f"{gb_cls.__name__}.apply",
                                             groupby_apply))
        for name in GROUPBY_METHODS:
            _patch(gb_cls, name, RoutedMethod(getattr(gb_cls, name),
                                              f"{gb_cls.__name__}.{name}",
                                              groupby_method(name)))
    for name in RESAMPLER_METHODS:
        _patch(Resampler, name, RoutedMethod(getattr(Resampler, name), f"Resampler.{name}",
                                             resampler_method(name)))

    def window_apply(window: Any) -> Any:
        return ParWindow(window, opts).apply

    # the grouped windows' names differ between pandas 2 and 3 (RollingGroupby, RollingGroupBy)
    window_classes = [rolling.Rolling, expanding.Expanding,
                      *(getattr(module, name) for module, name in (
                          (rolling, "RollingGroupBy"), (rolling, "RollingGroupby"),
                          (expanding, "ExpandingGroupBy"), (expanding, "ExpandingGroupby"))
                        if hasattr(module, name))]
    originals = [(cls, cls.apply) for cls in window_classes]  # before any is routed
    for cls, original in originals:
        _patch(cls, "apply", RoutedMethod(original, f"{cls.__name__}.apply", window_apply))
    _count_chunks()


def _count_chunks() -> None:
    """Count the calls that pdpar really ran in chunks on a backend, after measuring (where
    :func:`pdpar.execute.execute` hands chunks to the backends)."""
    import pdpar.execute

    run_chunks = pdpar.execute.run_chunks  # an AttributeError says that the place has moved

    @functools.wraps(run_chunks)
    def counted(task: Any, chunks: Any, *args: Any, **kwargs: Any) -> Any:
        _count("chunked calls")

        def each() -> Any:  # chunks are made as they are submitted
            for chunk in chunks:
                _count("chunks")
                yield chunk

        return run_chunks(task, each(), *args, **kwargs)

    _patch(pdpar.execute, "run_chunks", counted)


def skip_stacklevel_checks() -> None:
    """Make pandas' warning assertions accept a warning attributed to any line."""
    from pandas._testing import _warnings

    _patch(_warnings, "_assert_raised_with_correct_stacklevel", lambda actual_warning: None)


def uninstall() -> None:
    while _installed:
        cls, name, previous = _installed.pop()
        if previous is _ABSENT:
            delattr(cls, name)
        else:
            setattr(cls, name, previous)


# --------------------------------------------------------------------------------------------
# outcomes


def outcome_key(item: pytest.Item) -> str:
    """A test's name that does not depend on where pytest was started:
    ``pandas/tests/apply/test_frame_apply.py::test_apply[...]``."""
    path = Path(str(item.path))
    parts = path.parts
    if "pandas" in parts:
        start = len(parts) - 1 - parts[::-1].index("pandas")
        path_text = "/".join(parts[start:])
    else:
        path_text = path.as_posix()
    return f"{path_text}::{item.nodeid.split('::', 1)[1]}" if "::" in item.nodeid \
        else path_text


class OutcomeRecorder:
    """Collects each test's outcome: passed, failed, error, skipped, xfailed or xpassed."""

    def __init__(self, path: str, route: dict[str, Any] | None) -> None:
        self.path = path
        self.route = route
        self.keys: dict[str, str] = {}
        self.outcomes: dict[str, dict[str, Any]] = {}
        self.collect_errors: list[dict[str, str]] = []
        self.lenient_stacklevel = False
        self.started = time.monotonic()

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            self.keys[item.nodeid] = outcome_key(item)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collect_errors.append({"node": report.nodeid, "text": report.longreprtext})

    def _set(self, report: pytest.TestReport, outcome: str) -> None:
        key = self.keys.get(report.nodeid, report.nodeid)
        entry: dict[str, Any] = {"outcome": outcome}
        if outcome in ("failed", "error", "xpassed"):
            entry["when"] = report.when
            crash = getattr(report.longrepr, "reprcrash", None)
            entry["message"] = crash.message if crash is not None else str(report.longrepr)
            entry["text"] = report.longreprtext[-12000:]
        self.outcomes[key] = entry

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        xfail = hasattr(report, "wasxfail")
        if report.when == "call":
            if report.passed:
                self._set(report, "xpassed" if xfail else "passed")
            elif report.skipped:
                self._set(report, "xfailed" if xfail else "skipped")
            else:
                self._set(report, "failed")
        elif report.when == "setup":
            if report.skipped:
                self._set(report, "xfailed" if xfail else "skipped")
            elif report.failed:
                self._set(report, "error")
        elif report.when == "teardown" and report.failed:
            self._set(report, "error")

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        import pandas as pd

        counts: dict[str, int] = {}
        for entry in self.outcomes.values():
            counts[entry["outcome"]] = counts.get(entry["outcome"], 0) + 1
        import pdpar

        data = {
            "pandas": pd.__version__,
            "pdpar": {"version": pdpar.__version__,
                      "path": os.path.dirname(os.path.abspath(pdpar.__file__))},
            "python": sys.version.split()[0],
            "route": self.route,
            "lenient_stacklevel": bool(self.lenient_stacklevel),
            "seconds": round(time.monotonic() - self.started, 1),
            "exitstatus": int(exitstatus),
            "counts": counts,
            "calls": dict(sorted(CALLS.items())),
            "collect_errors": self.collect_errors,
            "tests": self.outcomes,
        }
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, sort_keys=True)


# --------------------------------------------------------------------------------------------
# hooks


#: The local dask cluster and client of a run routed to "dask".
_dask: list[Any] = []


def start_dask_cluster() -> None:
    """A local dask cluster for the session (2 worker processes, loopback addresses only, no
    dashboard), with its client as the default one."""
    import distributed

    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
    _dask.extend([cluster, distributed.Client(cluster, set_as_default=True)])


def stop_dask_cluster() -> None:
    while _dask:
        _dask.pop().close()


def pytest_configure(config: pytest.Config) -> None:
    route = route_settings(config)
    if route is not None:
        if route["backend"] == "dask":
            start_dask_cluster()
        install(route)
    if config.getoption("pdpar_lenient_stacklevel"):
        skip_stacklevel_checks()
    config.pluginmanager.register(_Header(route), "pdpar-routing-header")
    outcomes = config.getoption("pdpar_outcomes")
    if outcomes:
        recorder = OutcomeRecorder(outcomes, route)
        recorder.lenient_stacklevel = config.getoption("pdpar_lenient_stacklevel")
        config.pluginmanager.register(recorder, "pdpar-outcomes")


def pytest_unconfigure(config: pytest.Config) -> None:
    uninstall()
    stop_dask_cluster()


class _Header:
    def __init__(self, route: dict[str, Any] | None) -> None:
        self.route = route

    def pytest_report_header(self) -> str:
        if self.route is None:
            return "pdpar routing: off (plain pandas)"
        settings = ", ".join(f"{k}={v!r}" for k, v in self.route.items())
        return (f"pdpar routing: DataFrame/Series apply+map, groupby apply/transform/agg/filter, "
                f"resample apply/agg and window apply via pdpar ({settings})")
