"""pandas' own tests pass when pandas' methods are routed through pdpar.

Every test of :data:`run_conformance.SUITE_TESTS` that passes on plain pandas must pass with
``DataFrame.apply``, ``DataFrame.map``, ``Series.apply``, ``Series.map``, groupby's ``apply``,
``transform``, ``agg`` and ``filter``, resample's ``apply`` and ``agg``, and the ``apply`` of
rolling and expanding windows (grouped or not) routed through pdpar, on threads and on
processes, with one row, element, group, bin or window per chunk. The only exceptions are the
tests in :data:`PROCESS_EXCEPTIONS`, and only on processes: they check what the function did to
objects in the caller's memory (a list it appended to, a counter, captured stdout), which a
function running in a worker process changes in the worker's copy instead. The threads run
checks them too, except the three of :data:`THREAD_EXCEPTIONS`, which check the order of those
calls: threads run several chunks at once, so the calls of different chunks interleave in no
fixed order.

Each run is a pytest subprocess over pandas' tests (see run_conformance.py), under pandas' own
pytest settings (warnings are errors, xfails strict). All of pandas' modules for these calls
(:data:`run_conformance.PANDAS_TESTS`, about 10,000 tests on pandas 3.1.1) take 10 to 15
minutes a run on two cores; this module runs :data:`run_conformance.SUITE_TESTS`, the modules
of each entry point that exercise the routed call most directly, and
``python tests/conformance/run_conformance.py`` runs them all.
Marked slow, so left out by default: ``-m conformance`` runs only this module.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run_conformance as rc  # noqa: E402

pytestmark = [pytest.mark.conformance, pytest.mark.slow, pytest.mark.timeout(7200)]

#: Chunk size of every routed call: one unit per chunk, so that every call is really split.
CHUNKSIZE = 1

#: Tests that observe the function's side effects in the caller's memory, so cannot pass when
#: the function runs in worker processes. A name without ``[...]`` covers all its parameters.
PROCESS_EXCEPTIONS: dict[str, str] = {
    # DataFrame.apply
    "pandas/tests/apply/test_frame_apply.py::test_apply_function_runs_once":
        "counts calls by appending to a list in the caller",
    "pandas/tests/apply/test_frame_apply.py::test_apply_raw_function_runs_once":
        "counts calls by appending to a list in the caller",
    "pandas/tests/apply/test_frame_apply.py::test_apply_mutating":
        "pandas 2 (no copy-on-write): checks the function's in-place row edits reach the caller",
    # Series.map / Series.apply / DataFrame.map
    "pandas/tests/apply/test_series_apply.py::test_map_apply_masked_element_types":
        "records the elements passed to the function in a list in the caller",
    "pandas/tests/series/methods/test_map.py::test_map_datetime_series_passes_scalar_timestamps":
        "records the types of the elements passed in a list in the caller",
    "pandas/tests/frame/methods/test_map.py::test_map_function_runs_once":
        "counts calls by appending to a list in the caller",
    # groupby(...).apply
    "pandas/tests/groupby/test_apply.py::test_apply_func_that_appends_group_to_list_without_copy":
        "stores each group in a list in the caller",
    "pandas/tests/groupby/test_apply.py::test_group_apply_once_per_group":
        "records the group names in a list in the caller",
    "pandas/tests/groupby/test_apply.py::test_group_apply_once_per_group2":
        "counts calls by printing to stdout, captured by capsys in the caller",
    "pandas/tests/groupby/test_apply.py::test_groupby_apply_store_copy":
        "stores a copy of each group in a dict in the caller",
}


#: Tests that check the order in which the function was called, through a list in the caller.
THREAD_EXCEPTIONS: dict[str, str] = {
    "pandas/tests/apply/test_series_apply.py::test_map_apply_masked_element_types":
        "checks the order of the elements appended to a list by calls in different chunks",
    "pandas/tests/groupby/test_apply.py::test_group_apply_once_per_group":
        "checks the order of the group names appended to a list by calls in different chunks",
    "pandas/tests/groupby/test_apply.py::test_apply_func_that_appends_group_to_list_without_copy":
        "takes the first group appended to a list by calls in different chunks",
}


@pytest.fixture(scope="module")
def target() -> rc.Target:
    return rc.describe_target(sys.executable, rc.SUITE_TESTS)


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("conformance")


@pytest.fixture(scope="module")
def plain(target: rc.Target, out_dir: Path) -> rc.Run:
    run = rc.run_suite(target, "plain", None, out_dir)
    assert not run.collect_errors, run.collect_errors
    assert run.counts.get("passed", 0) > 1000, run.output_tail
    return run


def _report(run: rc.Run, keys: list[str]) -> str:
    return "\n".join(f"{k}\n    {rc.failure_line(run, k)}" for k in keys)


@pytest.mark.parametrize("route", ["threads", "processes"])
def test_pandas_tests_pass_when_routed(route: str, target: rc.Target, out_dir: Path,
                                       plain: rc.Run) -> None:
    routed = rc.run_suite(target, route, route, out_dir, chunksize=CHUNKSIZE)
    assert not routed.collect_errors, routed.collect_errors
    allowed = PROCESS_EXCEPTIONS if route == "processes" else THREAD_EXCEPTIONS
    lost = [k for k in rc.regressions(plain, routed) if rc.matches(k, allowed) is None]
    assert not lost, (
        f"{len(lost)} pandas tests pass on plain pandas {target.pandas_version} but not "
        f"routed through pdpar {routed.pdpar.get('revision', '')} ({route}, "
        f"chunksize={CHUNKSIZE}):\n{_report(routed, lost)}"
    )


#: pandas' test modules run with the "dask" route: the two map modules (174 tests on pandas
#: 3.1.1, ~20 s here). DataFrame.apply's module would add minutes (a scheduler round trip per
#: one-row chunk); the property tests cover apply on dask.
DASK_SUBSET = (
    "pandas.tests.series.methods.test_map",
    "pandas.tests.frame.methods.test_map",
)


def _in_modules(key: str, modules: tuple[str, ...]) -> bool:
    return any(key.startswith(m.replace(".", "/") + ".py::") for m in modules)


def test_pandas_tests_pass_when_routed_to_a_dask_cluster(target: rc.Target, out_dir: Path,
                                                         plain: rc.Run) -> None:
    pytest.importorskip("distributed")
    subset = rc.Target(**{**vars(target),
                          "modules": [m for m in target.modules if m in DASK_SUBSET]})
    routed = rc.run_suite(subset, "dask", "dask", out_dir, chunksize=CHUNKSIZE)
    assert not routed.collect_errors, routed.collect_errors
    assert routed.counts.get("passed", 0) > 100, routed.output_tail
    # the dask workers are processes too: the same tests watch the caller's memory
    lost = [k for k in rc.regressions(plain, routed)
            if _in_modules(k, DASK_SUBSET) and rc.matches(k, PROCESS_EXCEPTIONS) is None]
    assert not lost, (
        f"{len(lost)} pandas tests pass on plain pandas {target.pandas_version} but not "
        f"routed through pdpar to a dask cluster (chunksize={CHUNKSIZE}):\n"
        f"{_report(routed, lost)}"
    )


def test_process_exceptions_name_passing_tests(plain: rc.Run) -> None:
    """Every exception that names a test this pandas ships names one that passes on plain
    pandas (entries for other pandas versions' tests name none here)."""
    named = 0
    for entry in PROCESS_EXCEPTIONS:
        names = [k for k in plain.tests if rc.matches(k, [entry])]
        named += bool(names)
        assert not names or any(plain.tests[k]["outcome"] == "passed" for k in names), \
            f"PROCESS_EXCEPTIONS names a test that does not pass on plain pandas: {entry}"
    assert named, "PROCESS_EXCEPTIONS names no test of this pandas: are the names still right?"
