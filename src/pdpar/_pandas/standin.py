"""The stand-in for the user's function when pandas finishes a call (:mod:`pdpar.kinds.replay`)."""

from __future__ import annotations

import functools
from typing import Any

__all__ = ["switching_standin", "switch_standin"]


def switching_standin(func: Any, args: tuple) -> functools.partial:
    """``functools.partial(func, *args)``, which :func:`switch_standin` can make another
    function in place, even after pandas took it.

    pandas binds extra arguments (``args=``, keyword arguments) with
    ``functools.partial(f, *args, **kwargs)``, and CPython copies the target of a plain partial
    into the new one, so that changing it afterwards would not reach the copy pandas calls. A
    partial with an attribute is kept as it is. A partial is called at C speed, so a stand-in
    that only hands back recorded results costs little more than pandas' own loop.
    """
    standin = functools.partial(next, iter(()))
    standin.pdpar_replay = True  # type: ignore[attr-defined]
    switch_standin(standin, func, args)
    return standin


def switch_standin(standin: functools.partial, func: Any, args: tuple) -> None:
    """Make ``standin`` call ``func(*args, ...)`` from now on."""
    standin.__setstate__((func, args, None, standin.__dict__))  # type: ignore[attr-defined]
