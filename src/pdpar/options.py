"""The options of a pdpar call, and ``config``, the context manager that sets their defaults.

An :class:`Options` value is frozen and validated when it is made, so a bad value fails at the
call that wrote it, with a message naming the option and what it accepts. Defaults live in a
:mod:`contextvars` variable: ``with pdpar.config(backend="threads"):`` changes them for the
current thread or task only, and restores them on exit.
"""

from __future__ import annotations

import contextvars
import dataclasses
import difflib
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

__all__ = ["Options", "config", "current_options", "BUILTIN_BACKENDS", "OWN_BACKENDS",
           "did_you_mean"]

#: Backends pdpar runs itself on this machine.
BUILTIN_BACKENDS = ("auto", "serial", "threads", "processes")

#: Every backend name pdpar knows without asking joblib: its own, and its cluster backends.
#: Any other name must be a joblib backend, registered (``joblib.register_parallel_backend``)
#: before it is named.
OWN_BACKENDS = (*BUILTIN_BACKENDS, "dask", "ray")


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'processes'?)`` for the choice closest to ``word``, or ``""``: a
    choice ``word`` begins, or one spelled alike."""
    choices = list(choices)
    starting = [c for c in choices if c.lower().startswith(word.lower())]
    close = starting if len(starting) == 1 else difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _joblib_backends() -> list[str]:
    """The names of joblib's registered backends (and those it registers on first use)."""
    from joblib import parallel

    names = {*parallel.BACKENDS, *getattr(parallel, "EXTERNAL_BACKENDS", {})}
    return sorted(names - set(OWN_BACKENDS))

JitMode = Literal[False, True, "auto"]
RowsMode = Literal["auto", "series"]


def _check_n_jobs(value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"n_jobs must be an int (-1 for all usable CPUs), got {value!r}")
    if value == 0:
        raise ValueError(
            "n_jobs must be a positive int or a negative int (-1 = all usable CPUs), got 0"
        )


def _check_backend(value: object) -> None:
    if not isinstance(value, str):
        raise TypeError(
            f"backend must be a str: one of {', '.join(map(repr, BUILTIN_BACKENDS))} "
            f"or a joblib backend name, got {value!r}"
        )
    if not value:
        raise ValueError(
            f"backend must be one of {', '.join(map(repr, BUILTIN_BACKENDS))} "
            "or a joblib backend name, got ''"
        )
    if value in OWN_BACKENDS:
        return
    registered = _joblib_backends()  # joblib is imported only for a name not pdpar's own
    if value not in registered and value not in OWN_BACKENDS:
        raise ValueError(
            f"unknown backend {value!r}{did_you_mean(value, [*OWN_BACKENDS, *registered])}: "
            f"backend must be one of {', '.join(map(repr, OWN_BACKENDS))}, or a registered "
            f"joblib backend ({', '.join(map(repr, registered))}; register others with "
            "joblib.register_parallel_backend before naming them)"
        )


def _check_positive_or_none(name: str, value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a positive int or None (automatic), got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive int or None (automatic), got {value!r}")


def _check_progress(value: object) -> None:
    if isinstance(value, bool) or callable(value):
        return
    raise TypeError(
        "progress must be False, True, a tqdm class, or a callable taking (done, total), "
        f"got {value!r}"
    )


def _check_broadcast(value: object) -> None:
    if value is None:
        return
    if not isinstance(value, Mapping):
        raise TypeError(
            "broadcast must be None or a dict of keyword arguments for the function, "
            f"got {type(value).__name__}"
        )
    bad = [key for key in value if not (isinstance(key, str) and key.isidentifier())]
    if bad:
        raise ValueError(f"broadcast keys must be keyword-argument names, got {bad!r}")


def _check_jit(value: object) -> None:
    if value is True or value is False or value == "auto":
        return
    raise ValueError(f"jit must be False, True or 'auto', got {value!r}")


def _check_rows(value: object) -> None:
    if isinstance(value, str) and value in ("auto", "series"):
        return
    raise ValueError(f"rows must be 'auto' or 'series', got {value!r}")


@dataclasses.dataclass(frozen=True)
class Options:
    """How a call runs. Every field is checked when the value is made.

    Attributes:
        n_jobs: Number of workers; -1 means every usable CPU (affinity and cgroup quota
            aware, overridden by the ``PDPAR_N_JOBS`` environment variable), -2 all but one,
            and so on.
        backend: ``"auto"``, ``"serial"``, ``"threads"``, ``"processes"``, ``"dask"``,
            ``"ray"``, or the name of a registered joblib backend (checked here: an unknown
            name raises ValueError suggesting the closest). A named backend is always used;
            only ``"auto"`` may decide to run serially.
        chunksize: Rows (or columns, elements, groups) per chunk; None chooses automatically.
        max_inflight: Most chunks submitted but not yet collected; None chooses
            automatically.
        progress: False, True (a ``tqdm.auto`` bar on stderr), a tqdm class, or a callable
            that receives ``(done, total)``.
        jit: False, True (compile with numba or raise :class:`pdpar.JitError`), or
            ``"auto"``.
        broadcast: None, or a dict of large read-only objects (a model, a lookup table)
            passed to the function as keyword arguments. Worker processes receive them once
            per call, not once per chunk.
        rows: ``"auto"``: ``df.apply(func, axis=1)`` hands the function a light row instead
            of a Series when its code proves that it only reads fields of the row
            (``row["a"]``, ``row.a``, ``row.name``, ``row.get("a")``, ``"a" in row``), with
            the values and types pandas' row would give; ``"series"``: always the Series
            pandas builds.
    """

    n_jobs: int = -1
    backend: str = "auto"
    chunksize: int | None = None
    max_inflight: int | None = None
    progress: bool | Callable[..., Any] = False
    jit: JitMode = False
    broadcast: Mapping[str, Any] | None = None
    rows: RowsMode = "auto"

    def __post_init__(self) -> None:
        _check_n_jobs(self.n_jobs)
        _check_backend(self.backend)
        _check_positive_or_none("chunksize", self.chunksize)
        _check_positive_or_none("max_inflight", self.max_inflight)
        _check_progress(self.progress)
        _check_jit(self.jit)
        _check_broadcast(self.broadcast)
        _check_rows(self.rows)

    def replace(self, **changes: Any) -> Options:
        """A copy with ``changes`` applied; unknown names raise TypeError naming them."""
        names = [f.name for f in dataclasses.fields(self)]
        unknown = sorted(set(changes) - set(names))
        if unknown:
            hints = "".join(did_you_mean(name, names) for name in unknown)
            raise TypeError(
                f"unknown pdpar option(s): {', '.join(unknown)}{hints}; valid options: "
                f"{', '.join(names)}"
            )
        return dataclasses.replace(self, **changes)


_defaults: contextvars.ContextVar[Options] = contextvars.ContextVar(
    "pdpar_defaults", default=Options()  # noqa: B039 (Options is frozen)
)


def current_options() -> Options:
    """The defaults in force here: ``Options()`` changed by every enclosing ``config``."""
    return _defaults.get()


class config:
    """Set pdpar's default options inside a ``with`` block.

    >>> import pdpar
    >>> with pdpar.config(backend="threads", n_jobs=4):
    ...     pdpar.current_options().backend
    'threads'

    The options are checked at once, so ``pdpar.config(n_jobs=0)`` raises before any block runs.
    Blocks nest; each restores what the enclosing one set.
    """

    def __init__(self, **options: Any) -> None:
        self._options = current_options().replace(**options)
        self._token: contextvars.Token[Options] | None = None

    def __enter__(self) -> Options:
        self._token = _defaults.set(self._options)
        return self._options

    def __exit__(self, *exc_info: object) -> None:
        assert self._token is not None
        _defaults.reset(self._token)
        self._token = None
