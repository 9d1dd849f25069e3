"""The ``par`` accessors on DataFrame and Series.

They are thin: each method binds its arguments to the signature of the pandas method it mirrors
(so a bad call raises the TypeError pandas would), resolves the options, and hands the call to
its kind. ``df.par(n_jobs=2, backend="threads")`` returns an accessor with those options.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import types
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd

from . import _pandas, broadcast, kinds
from ._reentry import entered
from ._warnings import attributed_to_caller
from .accessor_plan import PlanOf
from .accessor_windows import ParWindow
from .options import Options, current_options
from .plan import call_notes

__all__ = ["DataFramePar", "SeriesPar", "ParGroupBy", "ParWindow", "ParResampler", "PlanOf"]


@contextlib.contextmanager
def _broadcasting(options: Options) -> Iterator[Callable[[Any], Any] | None]:
    """With ``broadcast=``: a wrapper that passes the objects to the function; they stay
    shared with worker processes until the call ends."""
    with broadcast.wrapping(options.broadcast) as wrap:
        yield wrap


def _with_function(arguments: dict[str, Any], args: tuple, kwargs: dict[str, Any],
                   wrap: Callable[[Any], Any]) -> tuple[tuple, dict[str, Any]]:
    """``args`` and ``kwargs`` with the function (``func``, or Series.map's ``arg``) wrapped."""
    name = "func" if "func" in arguments else "arg"
    if name in kwargs:
        return args, {**kwargs, name: wrap(kwargs[name])}
    return (wrap(args[0]), *args[1:]), kwargs


_OPTION_NAMES = frozenset(f.name for f in dataclasses.fields(Options))


def _accepts(func: Any, name: str) -> bool:
    """Whether ``func`` takes a keyword argument ``name`` (True when that cannot be told)."""
    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return not isinstance(func, types.BuiltinFunctionType)
    return any(p.kind is p.VAR_KEYWORD or (p.name == name and p.kind is not p.POSITIONAL_ONLY)
               for p in parameters)


def _check_keywords(func: Any, keywords: dict[str, Any], obj: Any, method: str) -> None:
    """A TypeError when a keyword argument meant for the function is a pdpar option the
    function does not take: options go to ``par(...)``, not to the method."""
    if not callable(func) or isinstance(func, str):
        return  # pandas resolves named and listed functions itself
    for name in keywords:
        if name in _OPTION_NAMES and not _accepts(func, name):
            raise TypeError(
                f"{name}={keywords[name]!r} was given to {method}(), which passes keyword "
                f"arguments on to the function, and the function takes no {name!r}: pdpar's "
                f"options go in par(...), as in {'df' if isinstance(obj, pd.DataFrame) else 's'}"
                f".par({name}={keywords[name]!r}).{method}(...)")


def _binder(method: Callable[..., Any]) -> Callable[..., dict[str, Any]]:
    signature = inspect.signature(method)

    def bind(obj: Any, args: tuple, kwargs: dict[str, Any]) -> dict[str, Any]:
        try:
            bound = signature.bind(obj, *args, **kwargs)
        except TypeError:
            method(obj, *args, **kwargs)  # fails as it parses its arguments: pandas' own words
            raise
        bound.apply_defaults()
        return dict(bound.arguments)

    return bind


class _Par:
    """What both accessors share: the pandas object and the options given to ``par(...)``."""

    def __init__(self, obj: Any, overrides: dict[str, Any] | None = None) -> None:
        self._obj = obj
        self._overrides = overrides or {}

    def __call__(self, **options: Any) -> Any:
        """An accessor with these options (n_jobs, backend, chunksize, max_inflight,
        progress, jit, broadcast, rows) over the defaults from :func:`pdpar.config`."""
        overrides = {**self._overrides, **options}
        current_options().replace(**overrides)  # check now, where the caller wrote them
        return type(self)(self._obj, overrides)

    @property
    def options(self) -> Options:
        """The options a call through this accessor uses."""
        return current_options().replace(**self._overrides)

    def _run(self, entry: Callable[..., Any], bind: Callable[..., dict[str, Any]],
             args: tuple, kwargs: dict[str, Any]) -> Any:
        options = self.options
        arguments = bind(self._obj, args, kwargs)
        function = arguments.get("func", arguments.get("arg"))
        _check_keywords(function, arguments.get("kwargs") or {}, self._obj,
                        entry.__name__.split("_")[0])
        with entered(), call_notes(), attributed_to_caller(), _broadcasting(options) as wrap:
            if wrap is not None:
                args, kwargs = _with_function(arguments, args, kwargs, wrap)
                arguments = bind(self._obj, args, kwargs)
            return entry(self._obj, arguments, args, kwargs, options)

    @property
    def plan(self) -> PlanOf:
        """What ``apply`` (``plan(...)``) or ``map`` (``plan.map(...)``) would run, and why."""
        return PlanOf(self)

    def apply(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def map(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def resample(self, *args: Any, **kwargs: Any) -> ParResampler:
        """Like ``obj.resample(...)`` (same arguments); its ``apply`` and ``agg`` run the
        bins in parallel."""
        return ParResampler(self._obj.resample(*args, **kwargs), self._overrides)

    def groupby(self, *args: Any, **kwargs: Any) -> ParGroupBy:
        """Like ``obj.groupby(...)`` (same arguments); its ``apply`` runs in parallel."""
        groupby = _pandas.DataFrame_groupby if isinstance(self._obj, pd.DataFrame) \
            else _pandas.Series_groupby
        return ParGroupBy(groupby(self._obj, *args, **kwargs), self._overrides)

    def rolling(self, *args: Any, **kwargs: Any) -> ParWindow:
        """Like ``obj.rolling(...)`` (same arguments); its ``apply`` runs windows in parallel."""
        return ParWindow(self._obj.rolling(*args, **kwargs), self._overrides)

    def expanding(self, *args: Any, **kwargs: Any) -> ParWindow:
        """Like ``obj.expanding(...)`` (same arguments); its ``apply`` runs windows in
        parallel."""
        return ParWindow(self._obj.expanding(*args, **kwargs), self._overrides)


_bind_frame_apply = _binder(_pandas.DataFrame_apply)
_bind_frame_map = _binder(_pandas.DataFrame_map)
_bind_series_apply = _binder(_pandas.Series_apply)
_bind_series_map = _binder(_pandas.Series_map)


@pd.api.extensions.register_dataframe_accessor("par")
class DataFramePar(_Par):
    """``df.par``: DataFrame methods that run on every core and return what pandas returns."""

    def apply(self, *args: Any, **kwargs: Any) -> pd.DataFrame | pd.Series:
        """``df.apply(...)``, same arguments and result, rows or columns in parallel."""
        return self._run(kinds.apply_frame, _bind_frame_apply, args, kwargs)

    def map(self, *args: Any, **kwargs: Any) -> pd.DataFrame:
        """``df.map(...)``, same arguments and result, elements in parallel."""
        return self._run(kinds.map_frame, _bind_frame_map, args, kwargs)

    def groupby_apply(self, by: Any, func: Callable[..., Any], *args: Any,
                      **kwargs: Any) -> pd.DataFrame | pd.Series:
        """Shorthand for ``df.par.groupby(by).apply(func, *args, **kwargs)``."""
        return self.groupby(by).apply(func, *args, **kwargs)


@pd.api.extensions.register_series_accessor("par")
class SeriesPar(_Par):
    """``s.par``: Series methods that run on every core and return what pandas returns."""

    def apply(self, *args: Any, **kwargs: Any) -> pd.Series | pd.DataFrame:
        """``s.apply(...)``, same arguments and result, elements in parallel."""
        return self._run(kinds.apply_series, _bind_series_apply, args, kwargs)

    def map(self, *args: Any, **kwargs: Any) -> pd.Series:
        """``s.map(...)``, same arguments and result; callables run in parallel."""
        return self._run(kinds.map_series, _bind_series_map, args, kwargs)


class ParGroupBy:
    """A pandas groupby whose ``apply`` runs groups in parallel; other attributes are pandas'."""

    def __init__(self, groupby: Any, overrides: dict[str, Any]) -> None:
        self._groupby = groupby
        self._overrides = overrides

    def __getitem__(self, key: Any) -> ParGroupBy:
        """Select columns, as ``df.groupby(...)[key]`` does."""
        return ParGroupBy(self._groupby[key], self._overrides)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._groupby, name)

    def __repr__(self) -> str:
        return f"<pdpar {self._groupby!r}>"

    def transform(self, func: Any = None, *args: Any, engine: Any = None,
                  engine_kwargs: Any = None, **kwargs: Any) -> pd.DataFrame | pd.Series:
        """``groupby(...).transform(func, ...)``, groups in parallel."""
        return _call_function(kinds.transform_groups, self._groupby, self._overrides, func,
                              args, kwargs, engine, engine_kwargs)

    def aggregate(self, func: Any = None, *args: Any, engine: Any = None,
                  engine_kwargs: Any = None, **kwargs: Any) -> pd.DataFrame | pd.Series:
        """``groupby(...).agg(func, ...)``, groups in parallel."""
        return _call_function(kinds.aggregate_groups, self._groupby, self._overrides, func,
                              args, kwargs, engine, engine_kwargs)

    agg = aggregate

    def filter(self, func: Any, dropna: bool = True, *args: Any,
               **kwargs: Any) -> pd.DataFrame | pd.Series:
        """``groupby(...).filter(func, dropna, ...)``, groups in parallel."""
        return _call_function(kinds.filter_groups, self._groupby, self._overrides, func,
                              dropna, args, kwargs)

    @property
    def plan(self) -> PlanOf:
        """What ``apply`` (``plan(...)``), ``transform``, ``agg`` or ``filter``
        (``plan.transform(...)``, ...) would run, and why, without running it."""
        return PlanOf(self)

    def rolling(self, *args: Any, **kwargs: Any) -> ParWindow:
        """Like ``groupby(...).rolling(...)``; its ``apply`` runs whole groups in parallel."""
        return ParWindow(self._groupby.rolling(*args, **kwargs), self._overrides)

    def expanding(self, *args: Any, **kwargs: Any) -> ParWindow:
        """Like ``groupby(...).expanding(...)``; its ``apply`` runs whole groups in parallel."""
        return ParWindow(self._groupby.expanding(*args, **kwargs), self._overrides)

    def apply(self, func: Any, *args: Any, **kwargs: Any) -> pd.DataFrame | pd.Series:
        """``groupby(...).apply(func, *args, **kwargs)``, groups in parallel."""
        options = current_options().replace(**self._overrides)
        _check_keywords(func, kwargs, self._groupby.obj, "groupby(...).apply")
        include_groups = kwargs.pop("include_groups", kinds.NOT_GIVEN)
        with entered(), call_notes(), attributed_to_caller(), _broadcasting(options) as wrap:
            if wrap is not None:
                func = wrap(func)
            return kinds.apply_groups(self._groupby, func, args, kwargs, include_groups,
                                       options)


class ParResampler:
    """A pandas resampler whose ``apply`` and ``agg`` run the bins in parallel; other
    attributes are pandas'."""

    def __init__(self, resampler: Any, overrides: dict[str, Any]) -> None:
        self._resampler = resampler
        self._overrides = overrides

    def __getitem__(self, key: Any) -> ParResampler | ParGroupBy:
        """Select columns, as ``df.resample(...)[key]`` does (pandas gives a groupby over the
        bins)."""
        selected = self._resampler[key]
        if isinstance(selected, pd.api.typing.Resampler):
            return ParResampler(selected, self._overrides)
        return ParGroupBy(selected, self._overrides)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._resampler, name)

    def __repr__(self) -> str:
        return f"<pdpar {self._resampler!r}>"

    def aggregate(self, func: Any = None, *args: Any, **kwargs: Any) -> pd.DataFrame | pd.Series:
        """``resample(...).agg(func, *args, **kwargs)``, bins in parallel."""
        return _call_function(kinds.aggregate_resample, self._resampler, self._overrides,
                              func, args, kwargs)

    agg = apply = aggregate

    @property
    def plan(self) -> PlanOf:
        """What ``apply`` or ``agg`` (``plan(...)``) would run, and why, without running it."""
        return PlanOf(self)


def _call_function(entry: Callable[..., Any], obj: Any, overrides: dict[str, Any], func: Any,
                   *rest: Any) -> Any:
    """``entry(obj, func, *rest, options)`` as a call of pdpar: its plan, its warnings
    attributed to the caller, ``func`` given its ``broadcast=`` objects."""
    options = current_options().replace(**overrides)
    with entered(), call_notes(), attributed_to_caller(), _broadcasting(options) as wrap:
        if wrap is not None:
            func = wrap(func)
        return entry(obj, func, *rest, options)


def _mirror_signature(method: Callable[..., Any], original: Callable[..., Any]) -> None:
    """Show pandas' own signature for ``method`` in help() and IDEs."""
    signature = inspect.signature(original)
    method.__signature__ = signature  # type: ignore[attr-defined]


_mirror_signature(DataFramePar.apply, _pandas.DataFrame_apply)
_mirror_signature(DataFramePar.map, _pandas.DataFrame_map)
_mirror_signature(SeriesPar.apply, _pandas.Series_apply)
_mirror_signature(SeriesPar.map, _pandas.Series_map)
