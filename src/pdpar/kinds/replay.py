"""Finishing a call with pandas' own method: pandas builds the result from the results the
chunks recorded, and runs the function itself only on the units no chunk ran.

:func:`replay` calls pandas' method on the whole input with a stand-in in place of the user's
function. The stand-in returns the recorded results in the order pandas asks for them; after
the last one it becomes the user's function (:func:`pdpar._pandas.switching_standin`), so that
pandas runs the units left at its own speed. pandas then decides the result's shape, dtypes and
index from every result at once, exactly as it does without pdpar, and no unit runs twice.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .. import _pandas
from ..work import Unfinished

__all__ = ["replay"]


_END = object()


class _Switch:
    """The end of the recorded results: the stand-in becomes the function itself (counted,
    when a progress sink follows the call)."""

    __slots__ = ("standin", "func", "args", "switched")

    def __init__(self, func: Callable[..., Any], args: tuple = ()) -> None:
        self.standin: functools.partial | None = None
        self.func = func
        self.args = args
        self.switched = False


def _recorded_then_switch(results: list[Any], switch: _Switch) -> Iterator[Any]:
    yield from results[:-1]
    assert switch.standin is not None
    _pandas.switch_standin(switch.standin, switch.func, switch.args)
    switch.switched = True
    yield results[-1]


class _Ticker:
    """Counts the calls pandas makes to the function, for the progress sink, in steps."""

    __slots__ = ("progress", "step", "count", "reported")

    def __init__(self, progress: Any, remaining: int) -> None:
        self.progress = progress
        self.step = max(1, remaining // 100)
        self.count = 0
        self.reported = 0

    def tick(self) -> None:
        self.count += 1
        if self.count - self.reported >= self.step:
            self.progress.update(self.count - self.reported)
            self.reported = self.count


def _counted(func: Callable[..., Any], ticker: _Ticker, *args: Any, **kwargs: Any) -> Any:
    result = func(*args, **kwargs)
    ticker.tick()
    return result


def _next_of(iterator: Iterator[Any], *_args: Any, **_kwargs: Any) -> Any:
    return next(iterator)


def replay(call: Callable[[Callable[..., Any]], Any], results: Sequence[Any],
           then: Callable[..., Any] | None = None, more_arguments: bool = False,
           unfinished: Unfinished | None = None) -> Any:
    """``call(standin)``: pandas' own method on the whole input, where ``standin``, in place of
    the user's function, returns the recorded results in call order.

    pandas itself then builds the result (shape, dtypes, index, validation) while the user's
    function, already run once per unit in the chunks, is not run again. An end marker after
    the results proves that pandas asked for exactly as many results as the chunks computed.
    The stand-in is ``functools.partial(next, results)``: it runs in C, so replaying costs
    little more than pandas' own loop.

    With ``then``, the results are those of the first units only, and pandas finishes the
    call: after the last recorded result the stand-in becomes ``then`` itself (a partial's
    state is replaced in place), so the remaining units run at pandas' own speed. The
    stand-in carries an attribute so that pandas, which wraps functions in a partial, keeps
    it as it is rather than flattening it into a copy that would not change.
    ``more_arguments`` says that pandas passes the function more than the unit (``args`` or
    keyword arguments), which the recorded results' stand-in must accept. With ``unfinished``
    carrying a progress sink, the calls pandas makes to ``then`` advance it, and it is
    completed and closed when the call ends.
    """
    progress = unfinished.progress if unfinished is not None else None
    if progress is None:
        return _replay(call, results, then, more_arguments)
    remaining = unfinished.remaining if unfinished is not None else 0
    ticker = _Ticker(progress, remaining)
    try:
        assert then is not None
        out = _replay(call, results, then, more_arguments, ticker)
        if remaining > ticker.reported:
            progress.update(remaining - ticker.reported)  # units pandas skipped too
        return out
    finally:
        progress.close()


def _replay(call: Callable[[Callable[..., Any]], Any], results: Sequence[Any],
            then: Callable[..., Any] | None, more_arguments: bool,
            ticker: _Ticker | None = None) -> Any:
    if then is None:
        remaining = iter([*results, _END])
        out = call(functools.partial(_next_of if more_arguments else next, remaining))
        if next(remaining, None) is not _END:
            raise RuntimeError("pdpar internal error: pandas asked for another number of "
                               "results than the chunks computed")
        return out
    args: tuple[Any, ...] = ()
    if ticker is not None:
        then, args = _counted, (then, ticker)
    if not results:
        return call(functools.partial(then, *args) if args else then)
    switch = _Switch(then, args)
    recorded = _recorded_then_switch(list(results), switch)
    first = _next_of if more_arguments else next  # next(recorded, unit) never needs the unit
    standin = switch.standin = _pandas.switching_standin(first, (recorded,))
    out = call(standin)
    if not switch.switched:
        raise RuntimeError("pdpar internal error: pandas asked for fewer results than the "
                           "chunks computed")
    return out
