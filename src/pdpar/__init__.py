"""pdpar: pandas' ``apply``, ``map`` and ``groupby(...).apply`` on every core.

>>> import pandas as pd
>>> import pdpar
>>> df = pd.DataFrame({"a": [1, 2, 3], "b": [4.0, 5.0, 6.0]})
>>> df.par(backend="threads").apply(lambda row: row.a * row.b, axis=1).tolist()
[4.0, 10.0, 18.0]

Importing pdpar registers the ``par`` accessor on DataFrame and Series. Every method takes the
arguments of the pandas method it mirrors and returns exactly what pandas returns.
"""

from __future__ import annotations

from typing import Any

from . import accessor as _accessor  # noqa: F401  (registers the accessors)
from ._pandas import PANDAS_3
from .errors import JitError, PdparError, PdparWarning, RemoteTraceback, WorkerCrashedError
from .options import Options, config, current_options
from .plan import Plan, last_plan
from .run import shutdown
from .run.cluster import Transfer, last_transfer

__version__ = "0.1.0"

if PANDAS_3:
    from .engine import Engine, engine

__all__ = [
    "config",
    "current_options",
    "Options",
    "Plan",
    "last_plan",
    "shutdown",
    "last_transfer",
    "Transfer",
    "PdparError",
    "JitError",
    "WorkerCrashedError",
    "PdparWarning",
    "RemoteTraceback",
    "__version__",
]
if PANDAS_3:
    __all__ += ["engine", "Engine"]


def __getattr__(name: str) -> Any:
    if name in ("engine", "Engine"):
        import pandas

        raise AttributeError(
            f"pdpar.{name} needs pandas 3.0 or newer (pandas' execution-engine protocol, "
            f"apply(..., engine=...)); this is pandas {pandas.__version__}. Use "
            "df.par.apply(...) and s.par.map(...) instead: they take the same arguments.")
    raise AttributeError(f"module 'pdpar' has no attribute {name!r}")
