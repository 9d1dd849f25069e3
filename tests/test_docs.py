"""The documentation's examples run as they stand, so they cannot rot."""

import pathlib
import re
import subprocess
import sys
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

_RUN_BLOCKS = textwrap.dedent("""
    import re, sys
    import pandas as pd

    text = open(sys.argv[1]).read()
    namespace = {}
    for block in re.findall(r"```python\\n(.*?)```", text, flags=re.S):
        if "engine=" in block and int(pd.__version__.split(".")[0]) < 3:
            continue  # pandas' execution-engine protocol is pandas 3's
        exec(block, namespace)
    print("ran every block")
""")


def _python_blocks(path):
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


@pytest.mark.slow
def test_every_example_of_the_user_guide_runs_top_to_bottom():
    guide = ROOT / "docs" / "guide.md"
    assert len(_python_blocks(guide)) >= 10
    done = subprocess.run([sys.executable, "-c", _RUN_BLOCKS, str(guide)], capture_output=True,
                          text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    assert "ran every block" in done.stdout
    # the progress example's callable saw the whole call
    assert "5000/5000 rows scored" in done.stdout


def test_the_quick_start_is_the_readme_example():
    readme_example = _python_blocks(ROOT / "README.md")[0]
    assert readme_example in _python_blocks(ROOT / "docs" / "index.md")
