"""A griffe extension for the API reference: pdpar's docstrings use reStructuredText's roles
(``:class:`Plan```, ``:func:`~pdpar.config```) and doctest blocks (``>>>``); this turns them
into Markdown (code spans, and fenced ``pycon`` blocks) before mkdocstrings renders them.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|func|meth|mod|data|attr|exc|obj):`~?([^`]+)`")


def _doctests_fenced(text: str) -> str:
    """Fence each run of ``>>>`` lines, with their continuation and output lines."""
    out: list[str] = []
    in_block = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith(">>>"):
            if not in_block:
                out.append("```pycon")
                in_block = True
            out.append(stripped)
        elif in_block and stripped:
            out.append(stripped if stripped.startswith("...") else line)
        else:
            if in_block:
                out.append("```")
                in_block = False
            out.append(line)
    if in_block:
        out.append("```")
    return "\n".join(out)


def rst_to_markdown(text: str) -> str:
    return _doctests_fenced(_ROLE.sub(r"`\1`", text))


def _convert(obj: griffe.Object) -> None:
    if obj.docstring is not None:
        obj.docstring.value = rst_to_markdown(obj.docstring.value)


class RstDocstrings(griffe.Extension):
    """Rewrite every docstring once the object tree is built.

    griffe fires ``on_object`` for every member of the package but not for the package itself,
    which has ``on_package``: without it, the package docstring's doctest would be left to
    Markdown, which reads its ``>>>`` lines as three nested quotes.
    """

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        _convert(pkg)

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        _convert(obj)
