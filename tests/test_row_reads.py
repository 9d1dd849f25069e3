"""The proof that a function of rows only reads fields of its row
(:func:`pdpar.kinds.reads.row_reads`), on functions it accepts and functions it rejects, with
the place it names for each rejection; on this CPython, and on newer ones where present."""

from __future__ import annotations

import functools
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import pdpar
from pdpar.kinds.reads import Reads, row_reads

PY312 = sys.version_info >= (3, 12)
HERE = Path(__file__).name


# --------------------------------------------------------------------------------------------
# the proof


def reads_fields(row, k, *, scale=1):
    a = row["a"]
    b = row.b
    if row.name == 3 and "c" in row and "z" not in row:
        return a + row.get("c") + row.get("z", 0)
    return (a + b) * k * scale


class Model:
    offset = 1

    def score(self, row):
        return row["a"] + self.offset

    def __call__(self, row):
        return row["a"]


def closure_over_other_names(n):
    def score(row):
        return row["a"] * n + math.sqrt(abs(row.b))
    return score


def captures_in_nested_function(row):
    def inner():
        return row["a"]
    return inner()


ACCEPTED = {
    "function": (reads_fields, Reads(frozenset({"a"}), frozenset({"b"}),
                                     frozenset({"c", "z"}), True)),
    "lambda": (lambda r: r["a"] * r.b, Reads(frozenset({"a"}), frozenset({"b"}))),
    "closure": (closure_over_other_names(2), Reads(frozenset({"a"}), frozenset({"b"}))),
    "bound method": (Model().score, Reads(frozenset({"a"}))),
    "partial with keywords": (functools.partial(reads_fields, k=2),
                              Reads(frozenset({"a"}), frozenset({"b"}),
                                    frozenset({"c", "z"}), True)),
    "partial after positional arguments": (
        functools.partial(lambda k, row: row[0] + k, 1), Reads(frozenset({0}))),
    "int labels and chained comparisons": (lambda row: 0 < row[1] < 5, Reads(frozenset({1}))),
    "same label twice": (lambda row: row["a"] + row["a"], Reads(frozenset({"a"}))),
    "row.name only": (lambda row: row.name, Reads(name=True)),
    "a Series attribute (the frame decides)": (lambda row: row.index, Reads(
        attributes=frozenset({"index"}))),
}


@pytest.mark.parametrize("case", list(ACCEPTED))
def test_the_proof_accepts_functions_that_only_read_fields(case):
    func, expected = ACCEPTED[case]
    assert row_reads(func) == expected


class _Base(dict):
    def total(self):
        return 0


class _WithSuper(_Base):
    def total(self): return super().total() + self["a"]  # noqa: E704


def _one_line(func):
    return f"({HERE}:{func.__code__.co_firstlineno})"


REJECTED = {
    "passed to a call": (lambda row: len(row), "passes the row to a call"),
    "returned": (lambda row: row, "returns the row"),
    "stored": (lambda row, seen=[]: seen.append(row), "passes the row to a call"),  # noqa: B006
    "bound to another name": (lambda row: (x := row)["a"] + x["b"], "uses the row other than"),
    "compared": (lambda row: row == 1, "uses the row other than"),
    "formatted": (lambda row: f"{row}", "formats the row"),
    "iterated": (lambda row: sum(v for v in row), "iterates over the row"),
    "unpacked": (lambda row: [*row], "uses the row other than"),
    "a Series method": (lambda row: row.sum(), "calls row.sum(...)"),
    "a field called": (lambda row: row.a(), "calls row.a(...)"),
    "a label that is not a constant": (lambda row, k="a": row[k], "not a constant"),
    "a slice": (lambda row: row["a":"b"], "uses the row other than"),
    "a get with a default that is not a constant": (lambda row, d=0: row.get("a", d),
                                                    "calls row.get(...)"),
    "a get with a keyword": (lambda row: row.get("a", default=0), "calls row.get(...)"),
    "a membership test of a variable": (lambda row, k="a": k in row, "not a constant"),
    "a field set": (lambda row: row.__setitem__("a", 1), "calls row.__setitem__(...)"),
    "a nested lambda": (lambda row: (lambda: row["a"])(), "captures the row"),
    "a generator expression": (lambda row: sum(row["a"] * i for i in range(3)),
                               "captures the row"),
    "locals()": (lambda row: locals()["row"]["a"], "uses locals"),
    "eval": (lambda row: eval("row['a']"), "uses eval"),
    "super()": (_WithSuper.total, "uses super"),  # the first argument, unseen on 3.11
    "*args": (lambda *args: args[0]["a"], "not a named parameter"),
}


@pytest.mark.parametrize("case", list(REJECTED))
def test_the_proof_rejects_any_other_use_of_the_row_and_says_where(case):
    func, words = REJECTED[case]
    reason = row_reads(func)
    assert isinstance(reason, str) and words in reason, reason
    assert reason.endswith(_one_line(func)), reason


def assign(row):
    row["a"] = 1


def rebind(row):
    row = row.copy()
    return row["a"]


def generator(row):
    yield row["a"]


def test_the_proof_rejects_assignments_generators_and_nested_functions_with_their_lines():
    first = assign.__code__.co_firstlineno
    assert row_reads(assign) == f"the function uses the row other than by reading a field " \
        f"(row[<label>], row.<label>, row.name) ({HERE}:{first + 1})"
    assert row_reads(rebind).endswith(f"({HERE}:{rebind.__code__.co_firstlineno + 1})")
    assert row_reads(generator).startswith("the function is a generator or a coroutine")
    reason = row_reads(captures_in_nested_function)
    assert "captures the row" in reason


def test_a_comprehension_that_reads_fields_is_followed_where_python_inlines_it():
    reason = row_reads(lambda row: [row["a"] * i for i in range(3)])
    if PY312:  # inlined into the function: its loads of the row are the function's
        assert reason == Reads(frozenset({"a"}))
    else:  # a nested function on 3.11, which captures the row
        assert isinstance(reason, str) and "captures the row" in reason


def test_a_row_that_reaches_a_jump_is_followed_only_where_python_copies_the_read():
    reason = row_reads(lambda row, c=True: (row if c else {"a": 1})["a"])
    if PY312:  # CPython 3.12 copies the subscript into each branch
        assert reason == Reads(frozenset({"a"}))
    else:  # the row is loaded, then the branches join: not a read of a field
        assert isinstance(reason, str) and "uses the row other than" in reason


@pytest.mark.parametrize("func", [len, np.sqrt, Model(), functools.partial(len),
                                  functools.lru_cache(lambda row: row["a"])],
                         ids=["builtin", "ufunc", "callable object", "partial of a builtin",
                              "lru_cache"])
def test_functions_without_python_code_are_not_proven(func):
    reason = row_reads(func)
    assert isinstance(reason, str) and "whose code pdpar cannot read" in reason


def test_a_numba_dispatcher_is_not_proven():
    numba = pytest.importorskip("numba")
    reason = row_reads(numba.njit(lambda row: row["a"]))
    assert isinstance(reason, str) and "cannot read" in reason


def test_a_partial_that_names_the_row_parameter_is_not_proven():
    reason = row_reads(functools.partial(reads_fields, row=1))
    assert reason == "a functools.partial names the row's parameter"


_OTHER_PYTHON = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("reads", sys.argv[1])
reads = importlib.util.module_from_spec(spec)
sys.modules["reads"] = reads
spec.loader.exec_module(reads)
def f(row, k):
    return row["a"] * k + row.b + row.get("c", 0) + ("d" in row) + (row.name or 0)
print(reads.row_reads(f))
print(reads.row_reads(lambda row: [row["a"] * i for i in range(3)]))
print(reads.row_reads(lambda row: row.sum()))
print(reads.row_reads(lambda row, k="a": row[k]))
"""


@pytest.mark.parametrize("python", ["python3.12", "python3.13"])
def test_the_proof_reads_the_bytecode_of_newer_pythons(python):
    """The proof module needs only the standard library: another CPython on this machine runs
    it on its own bytecode."""
    path = shutil.which(python)
    if path is None or subprocess.run([path, "-c", "pass"], capture_output=True).returncode:
        pytest.skip(f"no {python} on PATH")
    module = Path(pdpar.__file__).parent / "kinds" / "reads.py"
    out = subprocess.run([path, "-c", _OTHER_PYTHON, str(module)], capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert out[0] == ("Reads(items=frozenset({'a'}), attributes=frozenset({'b'}), "
                      "optional=frozenset({'c', 'd'}), name=True)") or \
        out[0] == ("Reads(items=frozenset({'a'}), attributes=frozenset({'b'}), "
                   "optional=frozenset({'d', 'c'}), name=True)")
    assert out[1] == "Reads(items=frozenset({'a'}), attributes=frozenset(), " \
        "optional=frozenset(), name=False)"
    assert "calls row.sum(...)" in out[2]
    assert out[3].startswith("the function ")
