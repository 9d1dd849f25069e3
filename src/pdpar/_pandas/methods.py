"""The pandas methods pdpar calls, captured at import, and small facts about pandas."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pandas._libs import lib

__all__ = ["PANDAS_3", "DataFrame_apply", "DataFrame_map", "DataFrame_groupby", "Series_apply",
           "Series_map", "Series_groupby", "all_strings", "given"]

PANDAS_3 = int(pd.__version__.split(".", 1)[0]) >= 3

DataFrame_apply = pd.DataFrame.apply
DataFrame_map = pd.DataFrame.map
DataFrame_groupby = pd.DataFrame.groupby
Series_apply = pd.Series.apply
Series_map = pd.Series.map
Series_groupby = pd.Series.groupby


def all_strings(values: np.ndarray) -> bool:
    """True if every element of the 1-D object array ``values`` is a ``str`` (no None, NaN)."""
    return bool(lib.is_string_array(values, skipna=False))


def given(value: Any) -> bool:
    """False for pandas' marker of an argument left at its default."""
    return value is not None and value is not pd.api.extensions.no_default
