"""The README's example runs and means what it says."""

import pathlib
import re
import tomllib

import pandas as pd
import pytest

import pdpar

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def _first_commands():
    first_block = re.search(r"```bash\n(.*?)```", README.read_text(), flags=re.S).group(1)
    return [line for line in first_block.splitlines() if line and not line.startswith("#")]


def test_readme_starts_with_the_setup_commands_and_how_to_run_every_test():
    commands = _first_commands()
    assert commands[0].endswith("python -m pdpar demo")
    assert commands[1].endswith("python -m pytest")
    assert commands[2].endswith('python -m pytest -m ""')


def test_ci_runs_the_readmes_test_command_then_the_slow_tests_it_leaves_out():
    root = README.parent
    options = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["pytest"]
    assert "-m 'not slow'" in options["ini_options"]["addopts"]
    ci = (root / ".ci" / "run").read_text()
    assert f"({_first_commands()[1]})" in ci
    assert "\n.venv/bin/python -m pytest -m slow\n" in ci


def test_readme_example_returns_what_pandas_returns():
    namespace: dict = {}
    exec(_python_blocks()[0], namespace)
    df = namespace["df"]
    pd.testing.assert_series_equal(namespace["revenue"],
                                   df.apply(lambda row: row["price"] * row["qty"], axis=1))
    pd.testing.assert_series_equal(namespace["labels"],
                                   df["price"].map(lambda p: "cheap" if p < 3 else "dear"))
    pd.testing.assert_series_equal(namespace["per_store"],
                                   df.groupby("store").apply(lambda g: g["qty"].sum()))
    pd.testing.assert_series_equal(namespace["fast"], df.apply(lambda r: r.sum(), axis=1))


def test_jit_true_raises_jit_error_when_numba_cannot_compile():
    with pytest.raises(pdpar.JitError, match="row.sum"):
        pd.DataFrame({"a": [1.0]}).par(jit=True).apply(lambda r: r.sum(), axis=1)
