"""``pdpar.engine``: pdpar through pandas' own method names, with pandas' execution-engine
protocol (pandas >= 3.0).

>>> import pandas as pd
>>> import pdpar
>>> df = pd.DataFrame({"a": [1, 2, 3], "b": [4.0, 5.0, 6.0]})
>>> df.apply(lambda row: row.a * row.b, axis=1, engine=pdpar.engine).tolist()
[4.0, 10.0, 18.0]
>>> df["a"].map(lambda x: x + 1, engine=pdpar.engine(backend="threads", n_jobs=2)).tolist()
[2, 3, 4]

pandas hands the call to ``engine.__pandas_udf__``, a subclass of
``pandas.api.executors.BaseExecutionEngine``, and passes the engine object itself back as
``decorator``: that is where the options of ``pdpar.engine(n_jobs=..., backend=...)`` travel
(pandas drops ``engine_kwargs``). Each call goes through the ``par`` accessors, so it returns
what the same call without an engine returns. Options not given fall back to
:func:`pdpar.config`'s defaults when the call runs.

In pandas 3.1, only ``DataFrame.apply`` and ``Series.map`` call an engine; ``result_type`` must
be None (pandas raises otherwise) and pandas answers empty frames itself. With ``raw=True``
pandas passes the frame's array and wraps the array the engine returns.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pandas.api.executors import BaseExecutionEngine

from .options import current_options

__all__ = ["Engine", "engine"]


def _overrides(decorator: Any) -> dict[str, Any]:
    return dict(decorator.overrides) if isinstance(decorator, Engine) else {}


class ParExecutionEngine(BaseExecutionEngine):
    """What pandas calls: each method runs the call through the ``par`` accessors."""

    @staticmethod
    def map(data: pd.Series | pd.DataFrame | np.ndarray, func: Any, args: tuple,
            kwargs: dict[str, Any], decorator: Any, skip_na: bool) -> Any:
        """``data.map(func, na_action=..., **kwargs)`` in parallel (``Series.map``)."""
        if args:
            raise TypeError(f"pdpar.engine: map takes no positional arguments, got {args!r}")
        na_action = "ignore" if skip_na else None
        options = _overrides(decorator)
        if isinstance(data, np.ndarray):
            mapped = pd.Series(data).par(**options).map(func, na_action=na_action, **kwargs)
            return mapped.to_numpy()
        return data.par(**options).map(func, na_action=na_action, **kwargs)

    @staticmethod
    def apply(data: pd.Series | pd.DataFrame | np.ndarray, func: Any, args: tuple,
              kwargs: dict[str, Any], decorator: Any, axis: Any) -> Any:
        """``data.apply(func, axis=axis, args=args, **kwargs)`` in parallel; for an array
        (``raw=True``), the array ``np.apply_along_axis`` would give."""
        options = _overrides(decorator)
        if isinstance(data, np.ndarray):
            frame = pd.DataFrame(data)
            applied = frame.par(**options).apply(func, axis=axis, raw=True, args=args, **kwargs)
            return applied.to_numpy()
        if isinstance(data, pd.Series):
            return data.par(**options).apply(func, args=args, **kwargs)
        return data.par(**options).apply(func, axis=axis, args=args, **kwargs)


class Engine:
    """pdpar as a pandas execution engine: ``df.apply(fn, engine=pdpar.engine)``.

    Call it to set options: ``pdpar.engine(n_jobs=4, backend="threads")`` is an engine with
    those options (checked at once, like ``df.par(...)``).
    """

    __pandas_udf__ = ParExecutionEngine

    def __init__(self, **options: Any) -> None:
        current_options().replace(**options)  # check now, where the caller wrote them
        self.overrides = dict(options)

    def __call__(self, **options: Any) -> Engine:
        """An engine with these options added to this one's."""
        return Engine(**{**self.overrides, **options})

    def __repr__(self) -> str:
        given = ", ".join(f"{k}={v!r}" for k, v in self.overrides.items())
        return f"pdpar.engine({given})"


#: The engine with pdpar's default options (those of :func:`pdpar.config` where it runs).
engine = Engine()
