"""Deciding how a call runs. Nothing else in pdpar decides serial or parallel, threads or
processes, how many workers, or where chunks begin and end.

- :mod:`.model`: what a plan is (:class:`Plan`, :class:`Measurement`) and its explanation;
- :mod:`.costs`: the costs and thresholds decisions are computed from, as one value;
- :mod:`.policy`: the decisions (the automatic backend, workers, whether to compile);
- :mod:`.bounds`: where chunks begin and end;
- :mod:`.state`: the last plan of this thread, and plan-only calls.
"""

from .model import Measurement, Plan, Sample, Travel, format_seconds, measured, singular
from .state import Planned, call_notes, decided, jit_declined, last_plan, planning, rows_chosen

__all__ = ["Plan", "Measurement", "Sample", "Travel", "measured", "format_seconds", "singular",
           "Planned", "call_notes", "decided", "jit_declined", "last_plan", "planning",
           "rows_chosen"]
