"""``backend="serial"``: the chunks one after another in the calling thread."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from typing import Any

from .protocol import call_task

__all__ = ["run"]


def run(task: Callable[..., Any], chunks: Iterable[tuple], n_jobs: int, window: int,
        completed: Callable[[int], None]) -> Generator[Any, None, None]:
    """Outcomes of ``task(*args)`` for each chunk, computed here, in order."""
    for i, args in enumerate(chunks):
        outcome = call_task(task, args, False)
        completed(i)
        yield outcome
