"""``src/pdpar/timing.py`` of this checkout, loaded by its path, as ``benchmarks/workloads.py``
loads the workloads (which import it)."""

import importlib.util
import sys
from pathlib import Path

PATH = Path(__file__).resolve().parents[1] / "src" / "pdpar" / "timing.py"

_spec = importlib.util.spec_from_file_location(__name__, PATH)
assert _spec is not None and _spec.loader is not None, PATH
_module = importlib.util.module_from_spec(_spec)
sys.modules[__name__] = _module
try:
    _spec.loader.exec_module(_module)
except BaseException:
    del sys.modules[__name__]
    raise
