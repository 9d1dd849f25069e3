"""``resample(...).apply`` and ``.agg`` with a Python function: the bins are groups.

pandas aggregates a resample with a function as a groupby over the bins
(:func:`pdpar._pandas.groupops.resample_groupby`): the function on each bin's column (or the
bin of a Series), or, when that raises the errors pandas answers so, ``apply`` over the bins.
Both are pdpar's kinds over whole groups (:class:`.groupops.GroupsAgg`,
:class:`.groups.GroupsApply`), and pandas' own wrapping of the resample's result follows.
Strings, lists and dicts of functions go to pandas as they are.
"""

from __future__ import annotations

import functools
from typing import Any

from .._pandas import groupops as ops
from ..options import Options
from .base import Call, call_with, run
from .groupops import GroupsAgg, not_a_python_function
from .groups import NOT_GIVEN, GroupsApply

__all__ = ["aggregate_resample"]


class _AsItIs(Call):
    """A resample's aggregation that pandas runs as it is, for ``reason``."""

    unit = "groups"

    def __init__(self, r: Any, reason: str, func: Any, args: tuple,
                 kwargs: dict[str, Any]) -> None:
        self.r = r
        self.reason = reason
        self.call = (func, args, kwargs)
        self.n_units = 0

    def declines(self) -> str | None:
        return self.reason

    def plain(self) -> Any:
        func, args, kwargs = self.call
        return self.r.aggregate(func, *args, **kwargs)


def _declines(r: Any, func: Any, args: tuple, kwargs: dict[str, Any]) -> str | None:
    reason = not_a_python_function(func)
    if reason:
        return reason
    if ops.agg_replaces_func(func, bool(args or kwargs)):
        return "pandas runs this function as a built-in aggregation"
    if not ops.resample_handles_callables(r):
        return "pandas resamples this index another way"
    return None


def aggregate_resample(r: Any, func: Any, args: tuple, kwargs: dict[str, Any],
                       options: Options) -> Any:
    """``r.aggregate(func, *args, **kwargs)`` (``apply`` is the same), the bins in parallel."""
    reason = _declines(r, func, args, kwargs)
    if reason is not None:
        return run(_AsItIs(r, reason, func, args, kwargs), options)
    grouped = ops.resample_groupby(r)
    # pandas aggregates with the function's arguments bound into a function of the bin
    how = functools.partial(call_with, func, args, kwargs)
    try:
        result = run(GroupsAgg(grouped, how, (), {}, None, None), options)
    except Exception as err:
        if not ops.falls_back_to_apply(err):
            raise
        include_groups = ops.resample_include_groups(r).get("include_groups", NOT_GIVEN)
        result = run(GroupsApply(grouped, func, args, kwargs, include_groups), options)
    return ops.wrap_resample_result(r, result)
