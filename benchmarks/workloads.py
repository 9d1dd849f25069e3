"""The benchmark workloads: ``src/pdpar/workloads.py`` of this checkout, loaded by its path.

The suite runs in two environments, and pdpar is not installed in the peers' one, so this module
does not import pdpar: it loads the package's workloads file by its path (that file imports only
the standard library, numpy and pandas) and takes its place in ``sys.modules``. Everything that
module defines is then ``benchmarks.workloads.NAME``, and the user functions are pickled under
that name: a worker process that a library starts afresh (dask's processes scheduler, loky)
imports ``benchmarks.workloads`` and so loads the same file. The file of this checkout is used
in the pdpar environment too, whichever pdpar is installed there.
"""

import importlib.util
import sys
from pathlib import Path

PATH = Path(__file__).resolve().parents[1] / "src" / "pdpar" / "workloads.py"

_spec = importlib.util.spec_from_file_location(__name__, PATH)
assert _spec is not None and _spec.loader is not None, PATH
_module = importlib.util.module_from_spec(_spec)
sys.modules[__name__] = _module  # before running it: dataclasses look their module up there
try:
    _spec.loader.exec_module(_module)
except BaseException:
    del sys.modules[__name__]
    raise
