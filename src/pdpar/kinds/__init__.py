"""One module per kind of call. Each knows how to split its input into chunks, the pure task
that runs on one chunk (it returns fresh objects and never writes into its input), and how to
combine the chunk results into exactly what pandas returns for the whole input.

- :mod:`.frame`: ``DataFrame.apply`` over rows (axis=1) or columns (axis=0)
- :mod:`.elements`: ``Series.map``, ``Series.apply`` and ``DataFrame.map``
- :mod:`.groups`: ``groupby(...).apply``

No kind knows how chunks are executed: they hand tasks to :func:`execute`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..backends import run_chunks
from ..options import Options
from ..planner import Plan
from ..progress import make_progress

__all__ = ["execute", "Replayer", "replay", "call_with"]


def call_with(func: Callable[..., Any], args: tuple, kwargs: dict[str, Any], x: Any) -> Any:
    """``func(x, *args, **kwargs)``: how pandas passes extra arguments to a function.

    Used through ``functools.partial(call_with, func, args, kwargs)``, which pickles by value.
    """
    return func(x, *args, **kwargs)


def execute(task: Callable[..., Any], payloads: Sequence[tuple], plan: Plan, options: Options,
            unit: str) -> list[Any]:
    """Run ``task`` on every payload as ``plan`` says; the results, in chunk order."""
    sizes = [stop - start for start, stop in plan.bounds]
    progress = make_progress(options.progress, sum(sizes), unit) if options.progress else None
    return list(run_chunks(task, payloads, backend=plan.backend, n_jobs=plan.n_jobs,
                           max_inflight=options.max_inflight, progress=progress, sizes=sizes))


class Replayer:
    """A stand-in for the user's function that returns already computed results in call order.

    Combining by replay runs pandas' own method on the whole input with a Replayer in place of
    the function, so pandas itself assembles the result (shape, dtypes, index, validation)
    while the user's function, already run once per unit in the chunks, is not run again.
    """

    __slots__ = ("_next", "_expected", "_results")

    def __init__(self, results: Sequence[Any]) -> None:
        self._results = results
        self._expected = len(results)
        self._next = iter(results).__next__

    def __call__(self, *_args: Any, **_kwargs: Any) -> Any:
        try:
            return self._next()
        except StopIteration:
            raise RuntimeError(
                "pdpar internal error: pandas asked for more results than the chunks computed"
            ) from None

    def check_consumed(self) -> None:
        """Raise if pandas asked for fewer results than the chunks computed."""
        try:
            self._next()
        except StopIteration:
            return
        raise RuntimeError(
            "pdpar internal error: pandas asked for fewer results than the chunks computed"
        )


def replay(method: Callable[..., Any], obj: Any, results: Sequence[Any], **kwargs: Any) -> Any:
    """``method(obj, <the recorded results in call order>, **kwargs)``: pandas' own method on
    the whole input, assembling the results the chunks computed."""
    replayer = Replayer(results)
    out = method(obj, replayer, **kwargs)
    replayer.check_consumed()
    return out
