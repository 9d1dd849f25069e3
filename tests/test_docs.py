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


# --- what a reader of the site sees -------------------------------------------------------

#: Characters of code a line shows in the content column of the site at a 1280-pixel-wide
#: window (81 fit); the first line of a block has fewer, as the copy button sits at its end.
CODE_WIDTH = 79
FIRST_LINE_WIDTH = 76

_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", flags=re.S | re.M)


def _pages():
    return sorted((ROOT / "docs").glob("*.md"))


def test_code_blocks_fit_the_content_column():
    too_wide = []
    for page in _pages():
        text = page.read_text()
        for block in _FENCE.finditer(text):
            if block.group(1) == "text":
                continue  # program output: the site's stylesheet wraps it
            first = text[:block.start()].count("\n") + 2
            for n, line in enumerate(block.group(2).splitlines()):
                width = FIRST_LINE_WIDTH if n == 0 else CODE_WIDTH
                if len(line) > width:
                    too_wide.append(f"{page.name}:{first + n}: {len(line)} > {width}")
    assert not too_wide, "\n".join(too_wide)


def test_nested_lists_are_indented_as_python_markdown_needs():
    # a list item indented by 1 to 3 spaces is not nested: it becomes an item of the outer list
    wrong = [f"{page.name}:{n}" for page in _pages()
             for n, line in enumerate(page.read_text().splitlines(), 1)
             if re.match(r" {1,3}([-*+]|\d+\.) ", line)]
    assert not wrong, wrong


def _extras():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return set(project["optional-dependencies"])


_PIP = re.compile(r"([\w./]*pip) install ([^`#&;\n]*)")


def test_every_pip_install_in_the_docs_works_from_the_checkout():
    # pdpar is installed from the checkout into .venv, as the README's set-up does: every
    # install line is `.venv/bin/pip install -e .` or `-e ".[extra,...]"` with extras of
    # pyproject.toml; nothing is installed here
    extras = _extras()
    found, wrong = [], []
    for page in [ROOT / "README.md", *_pages()]:
        for n, line in enumerate(page.read_text().splitlines(), 1):
            for pip, rest in _PIP.findall(line):
                where = f"{page.relative_to(ROOT)}:{n}: {pip} install {rest.strip()}"
                found.append(where)
                words = rest.split()
                target = words[1].strip("\"'") if len(words) > 1 else ""
                named = re.fullmatch(r"\.(?:\[([\w,-]+)\])?", target)
                if (pip != ".venv/bin/pip" or words[:1] != ["-e"] or not named
                        or not set((named.group(1) or "").split(",")) - {""} <= extras):
                    wrong.append(where)
    assert len(found) >= 8
    assert not wrong, "\n".join(wrong)


def test_the_pip_check_knows_a_wrong_line_when_it_sees_one():
    extras = _extras()
    assert {"dask", "ray", "plot", "test", "docs", "lint"} <= extras
    assert "pdpar" not in extras and not _PIP.findall("pdpar is installed with setup.py")
    assert _PIP.findall('pip install "pdpar[plot]"') == [("pip", '"pdpar[plot]"')]
