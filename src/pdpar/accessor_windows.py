"""``obj.par.rolling(...)``, ``obj.par.expanding(...)`` and their groupby forms: pandas'
window object, whose ``apply`` runs the windows in parallel (:mod:`pdpar.kinds.windows`)."""

from __future__ import annotations

import inspect
from typing import Any

import pandas as pd

from . import _pandas, broadcast, kinds
from ._reentry import entered
from ._warnings import attributed_to_caller
from .accessor_plan import PlanOf
from .options import current_options
from .plan import call_notes

__all__ = ["ParWindow"]

_SIGNATURE = inspect.signature(_pandas.Window_apply_signature)


class ParWindow:
    """A pandas rolling or expanding window whose ``apply`` runs windows in parallel; its
    other attributes (``mean()``, ``sum()``, ...) are pandas'."""

    def __init__(self, window: Any, overrides: dict[str, Any]) -> None:
        self._window = window
        self._overrides = overrides

    def __getattr__(self, name: str) -> Any:
        return getattr(self._window, name)

    def __getitem__(self, key: Any) -> ParWindow:
        """Select columns, as ``df.rolling(...)[key]`` does."""
        return ParWindow(self._window[key], self._overrides)

    def __iter__(self) -> Any:
        return iter(self._window)

    def __repr__(self) -> str:
        return f"<pdpar {self._window!r}>"

    @property
    def plan(self) -> PlanOf:
        """What ``apply`` (``plan(...)``, the same arguments) would run, and why, without
        running it."""
        return PlanOf(self)

    def apply(self, *args: Any, **kwargs: Any) -> pd.DataFrame | pd.Series:
        """``window.apply(func, raw=False, engine=None, engine_kwargs=None, args=None,
        kwargs=None)``: the same result, windows in parallel."""
        window = self._window
        if not _pandas.is_window(window):  # weighted windows (win_type) have no apply
            return window.apply(*args, **kwargs)
        options = current_options().replace(**self._overrides)
        arguments = _bind(window, args, kwargs)
        with entered(), call_notes(), attributed_to_caller(), \
                broadcast.wrapping(options.broadcast) as wrap:
            if wrap is not None:
                if "func" in kwargs:
                    kwargs = {**kwargs, "func": wrap(kwargs["func"])}
                else:
                    args = (wrap(args[0]), *args[1:])
                arguments = _bind(window, args, kwargs)
            return kinds.apply_window(window, arguments, args, kwargs, options)


def _bind(window: Any, args: tuple, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The arguments bound to pandas' signature; a bad call raises pandas' own TypeError."""
    try:
        bound = _SIGNATURE.bind(window, *args, **kwargs)
    except TypeError:
        _pandas.Window_apply(window, *args, **kwargs)
        raise
    bound.apply_defaults()
    return dict(bound.arguments)
