"""The one place where pdpar touches pandas' private API, and the real pandas methods.

pandas decides a result's shape, dtypes and index only after it has seen every per-row or
per-group result. pdpar computes those results in chunks and then hands the whole ordered
collection to the same pandas code that would have assembled it, so the result is pandas' own.
The pieces of pandas used for that are private, so they are reached only through this module,
which is tested on every supported pandas version (2.2 and 3.x).

Its modules, whose names are all reachable from here: :mod:`.methods` (the captured methods
and the pandas version), :mod:`.apply` (``DataFrame.apply``, ``DataFrame.map``, ``Series.map``
and ``Series.apply``), :mod:`.rows` (the values pandas' row Series hold, column by column),
:mod:`.groupby`, :mod:`.results` (what both assemble: Series results with shared indexes),
:mod:`.standin` (the stand-in for the user's function when pandas finishes a call) and
:mod:`.windows` (rolling and expanding windows).

The real methods are captured at import: pdpar calls these, never the attributes on the
classes, so a program (or pdpar's conformance tests) that reroutes ``DataFrame.apply`` through
pdpar cannot make pdpar call itself.
"""

from __future__ import annotations

from .apply import (
    elements_as_mapped,
    frame_apply_op,
    frame_elements_as_mapped,
    interleaved_dtype,
    raw_result,
    wrap_broadcast_results,
    wrap_compiled_rows,
    wrap_frame_map,
    wrap_frame_results,
    wrap_mapped,
    wrap_raw_results,
)
from .groupby import (
    GroupSplit,
    group_data,
    group_mutation_allowed,
    group_slice,
    groupby_apply_emits_inclusion_warning,
    groupby_include_groups_message,
    groupby_replaces_func,
    groups_columns,
    is_indexed_like,
    split_groups,
    wrap_group_results,
)
from .methods import (
    PANDAS_3,
    DataFrame_apply,
    DataFrame_groupby,
    DataFrame_map,
    Series_apply,
    Series_groupby,
    Series_map,
    all_strings,
    given,
)
from .results import (
    StackedRows,
    link_identical_indexes,
    stack_series_results,
)
from .rows import (
    columns_reason,
    reads_attribute,
    row_columns,
    row_dtype,
    row_names,
)
from .standin import (
    switch_standin,
    switching_standin,
)
from .windows import (
    Window_apply,
    Window_apply_signature,
    WindowInput,
    apply_windows,
    assemble_windows,
    called_windows,
    is_grouped_window,
    is_window,
    window_count,
    window_input,
)

__all__ = [
    "PANDAS_3",
    "DataFrame_apply",
    "DataFrame_map",
    "DataFrame_groupby",
    "Series_apply",
    "Series_map",
    "Series_groupby",
    "all_strings",
    "given",
    "frame_apply_op",
    "wrap_frame_results",
    "wrap_broadcast_results",
    "elements_as_mapped",
    "frame_elements_as_mapped",
    "raw_result",
    "wrap_raw_results",
    "interleaved_dtype",
    "wrap_compiled_rows",
    "wrap_mapped",
    "wrap_frame_map",
    "GroupSplit",
    "group_data",
    "split_groups",
    "group_slice",
    "is_indexed_like",
    "wrap_group_results",
    "groupby_replaces_func",
    "groups_columns",
    "group_mutation_allowed",
    "groupby_apply_emits_inclusion_warning",
    "groupby_include_groups_message",
    "link_identical_indexes",
    "StackedRows",
    "stack_series_results",
    "switching_standin",
    "switch_standin",
    "WindowInput",
    "Window_apply",
    "Window_apply_signature",
    "apply_windows",
    "assemble_windows",
    "called_windows",
    "window_count",
    "is_grouped_window",
    "is_window",
    "window_input",
    "row_dtype",
    "columns_reason",
    "row_columns",
    "row_names",
    "reads_attribute",
]
