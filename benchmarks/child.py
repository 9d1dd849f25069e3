"""Run one method on one workload size in this (fresh) process, and write a JSON record.

Started by ``run.py`` as ``python -m benchmarks.child ...`` in the method's environment, with the
repository root as the working directory. The first call is the cold one (it starts any pool,
compiles any JIT); the warm calls follow, up to ``--reps`` of them while they fit in ``--budget``
seconds (none when the cold call alone took longer). Every result is compared with the serial
pandas result of the same environment, which the reference method ("pandas") stores in
``--refs`` before the others run.

In ``--memory`` mode the process makes its data, prints ``@@READY``, waits for a line on stdin,
makes one call, prints ``@@DONE`` and only then checks the result, so the parent's sampler sees
the call alone.

In ``--serve`` mode (``interleaved.py``) the process makes its cold call, prints ``@@READY`` (or
``@@SLOW`` when that call took longer than ``--budget``, and stops), then makes one warm call
per line it reads on stdin and answers each with ``@@TIME <seconds>``, until stdin closes; a
result that differs from the reference stops it.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import json
import pickle
import platform
import sys
import traceback
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from .methods import METHODS, REFERENCE
from .workloads import WORKLOADS, assert_same, timed


def _version(package: str | None) -> str | None:
    if package is None:
        return None
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


def _check(result: Any, expected: Any | None) -> str | None:
    """None if ``result`` equals the reference, else a one-line reason."""
    if expected is None:
        return None
    try:
        assert_same(result, expected)
    except AssertionError as exc:
        reason = " ".join(str(exc).split())[:240]
    else:
        return None
    try:
        assert_same(result, expected, rtol=1e-9)
    except AssertionError:
        return reason
    return "floats differ in the last digits (equal to 1e-9 relative); " + reason


def _last_plan() -> Any:
    import pdpar

    return getattr(pdpar, "last_plan", lambda: None)()


def measure(args: argparse.Namespace, record: dict[str, Any]) -> None:
    workload = WORKLOADS[args.workload]
    method = METHODS[args.method]
    op = workload.op
    reference = Path(args.refs) / f"{args.env}-{args.workload}-{args.size}.pkl"
    is_reference = method.name == REFERENCE
    expected = None
    if not is_reference and method.checks:
        with open(reference, "rb") as handle:
            expected = pickle.load(handle)

    method.prepare()
    with workload.make_data(args.size) as data:
        gc.collect()
        if args.memory:
            print("@@READY", flush=True)
            sys.stdin.readline()
        result, cold = timed(lambda: method.run(op, data))
        if args.memory:
            print("@@DONE", flush=True)
        record["cold"] = cold
        if is_reference:
            with open(reference, "wb") as handle:
                pickle.dump(result, handle, protocol=pickle.HIGHEST_PROTOCOL)
        wrong = _check(result, expected)
        del result
        if args.serve:
            _serve(args, method, op, data, expected, cold, wrong, record)
            return
        warm: list[float] = []
        spent = 0.0
        while not args.memory and not wrong and len(warm) < args.reps:
            # A slow method gets fewer warm calls; one slower than the budget gets none.
            if spent + (min(warm) if warm else cold) > args.budget:
                break
            result, seconds = timed(lambda: method.run(op, data))
            warm.append(seconds)
            spent += seconds
            wrong = _check(result, expected)
            del result
        record["warm"] = warm
    plan = _last_plan() if method.role == "pdpar" else None
    if plan is not None:  # what pdpar ran on the last call, in one line
        record["plan"] = str(plan)
    record["status"] = "wrong" if wrong else "ok"
    record["detail"] = wrong or ""


def _serve(args: argparse.Namespace, method: Any, op: Any, data: Any, expected: Any,
           cold: float, wrong: str | None, record: dict[str, Any]) -> None:
    """One warm call per line on stdin, answered on stdout (``--serve``)."""
    record["warm"] = warm = []
    if wrong or cold > args.budget:
        record["status"], record["detail"] = ("wrong", wrong) if wrong else ("ok", "")
        print("@@SLOW" if not wrong else "@@WRONG", flush=True)
        return
    print("@@READY", flush=True)
    for _ in sys.stdin:
        result, seconds = timed(lambda: method.run(op, data))
        wrong = _check(result, expected)
        del result
        if wrong:
            record["status"], record["detail"] = "wrong", wrong
            print("@@WRONG", flush=True)
            return
        warm.append(seconds)
        print(f"@@TIME {seconds!r}", flush=True)
    record["status"], record["detail"] = "ok", ""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workload", required=True)
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--method", required=True)
    parser.add_argument("--env", required=True)
    parser.add_argument("--refs", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--serve", action="store_true")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")

    method = METHODS[args.method]
    record: dict[str, Any] = {
        "python": platform.python_version(),
        "pandas": pd.__version__,
        "version": _version(method.package),
        "cold": None,
        "warm": [],
    }
    try:
        measure(args, record)
    except method.not_available as exc:
        record.update(status="n/a", detail=_one_line(exc))
    except Exception as exc:
        record.update(status="error", detail=_one_line(exc))
        traceback.print_exc()
    Path(args.out).write_text(json.dumps(record))


if __name__ == "__main__":
    main()
