"""The benchmark workloads (src/pdpar/workloads.py, which benchmarks/workloads.py loads by its
path) and the corpus of benchmarks/realworld.py (benchmarks/corpus.py), at a tiny scale, give
pandas' results through pdpar, so the benchmark definitions cannot drift from what they claim to
measure.

Only the pdpar side of benchmarks/methods.py is used here: the peers are never imported.
"""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.corpus import CASES  # noqa: E402
from benchmarks.methods import METHODS, Pdpar, halves  # noqa: E402
from benchmarks.workloads import WORKLOADS, assert_same  # noqa: E402

TINY = {"W1": 300, "W2": 500, "W3": 2_000, "W4a": 12, "W4b": 12, "W5": 300, "W5b": 300,
        "W5c": 2_000, "W6": 60, "W7": 300, "W7j": 300, "W8": 2_000, "W9": 2_000}


def test_every_workload_has_a_tiny_size_and_known_methods():
    assert set(TINY) == set(WORKLOADS)
    for workload in WORKLOADS.values():
        assert set(workload.methods) <= set(METHODS), workload.key
        assert workload.methods.count("pandas") == 1


def test_the_workloads_load_by_path_where_pdpar_is_not_installed():
    """The peers' environment has no pdpar: benchmarks/ loads the package's file by its path,
    and a worker process started afresh finds the functions under benchmarks.workloads."""
    import subprocess

    script = (
        "import multiprocessing, sys\n"
        "sys.modules['pdpar'] = None  # import pdpar fails, as in the peers' environment\n"
        "import benchmarks.methods\n"
        "import benchmarks.workloads as w\n"
        "print(w.__file__, w.row_score.__module__)\n"
        "if __name__ == '__main__':\n"
        "    with w.WORKLOADS['W3'].make_data(500) as df:\n"
        "        with multiprocessing.get_context('spawn').Pool(1) as pool:\n"
        "            got = pool.apply(w.WORKLOADS['W3'].op.pandas, (df,))\n"
        "        w.assert_same(got, w.WORKLOADS['W3'].op.pandas(df))\n"
        "    print('same in a spawned worker')\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    path, module = done.stdout.splitlines()[0].split()
    assert Path(path) == ROOT / "src" / "pdpar" / "workloads.py"
    assert module == "benchmarks.workloads"
    assert done.stdout.splitlines()[-1] == "same in a spawned worker"


@pytest.mark.parametrize("backend", ["serial", "processes"])
@pytest.mark.parametrize("key", sorted(TINY))
def test_workload_through_pdpar_equals_pandas(key, backend):
    workload = WORKLOADS[key]
    method = Pdpar(f"pdpar {backend}", backend=backend, n_jobs=2, chunksize=7)
    method.prepare()
    with workload.make_data(TINY[key]) as data:
        expected = workload.op.pandas(data)
        assert_same(method.run(workload.op, data), expected)


@pytest.mark.parametrize("key,name", [("W5", "numpy vectorized"), ("W5", "joblib"),
                                      ("W5b", "numpy vectorized"), ("W5c", "numpy vectorized"),
                                      ("W5", "pdpar jit"), ("W5b", "pdpar jit"),
                                      ("W5c", "pdpar jit")])
def test_w5_baselines_and_jit_equal_pandas(key, name):
    workload = WORKLOADS[key]
    method = METHODS[name]
    method.prepare()
    with workload.make_data(TINY[key]) as data:
        assert_same(method.run(workload.op, data), workload.op.pandas(data))


def test_pdpar_jit_column_reports_jit_errors_as_not_available():
    import pdpar

    method = METHODS["pdpar jit"]
    method.prepare()
    assert method.supports(WORKLOADS["W5"].op) is None
    assert pdpar.JitError in method.not_available
    with WORKLOADS["W1"].make_data(TINY["W1"]) as data, pytest.raises(pdpar.JitError):
        method.run(WORKLOADS["W1"].op, data)  # string columns and Series methods


def test_a_served_method_answers_one_timed_call_per_line(tmp_path):
    """``interleaved.py``'s children: the reference writes pandas' result, the method checks
    each warm call against it and answers with its time."""
    import subprocess

    def served(method):
        return subprocess.Popen(
            [sys.executable, "-m", "benchmarks.child", "--workload", "W1", "--size", "300",
             "--method", method, "--env", "pdpar", "--refs", str(tmp_path),
             "--out", str(tmp_path / f"{method}.json"), "--serve"],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    reference = served("pandas")
    assert reference.stdout.readline().strip() == "@@READY"
    child = served("pdpar processes")
    assert child.stdout.readline().strip() == "@@READY"
    out, _ = child.communicate("go\ngo\n", timeout=120)
    lines = out.split()
    assert lines[0::2] == ["@@TIME", "@@TIME"] and all(float(t) > 0 for t in lines[1::2])
    reference.communicate("", timeout=60)
    assert child.returncode == 0 and reference.returncode == 0


@pytest.mark.parametrize("key", ["W1", "W3", "W7", "W8", "W9"])
def test_the_two_halves_of_a_ceiling_run_every_unit_once_and_as_the_whole_does(key):
    """The ceiling method's halves, run by pandas, give the whole input's result between
    them: no group, row or window is lost or run twice."""
    import pandas as pd

    op = WORKLOADS[key].op
    with WORKLOADS[key].make_data(TINY[key] * 3) as data:
        first, second = halves(op, data)
        whole = op.pandas(data)
        parts = [op.pandas(first), op.pandas(second)]
        if key == "W7":  # the second half's first windows: the overlap's, without their rows
            parts[1] = parts[1].iloc[op.window - 1:]
        assert 0.3 < len(first) / len(data) < 0.7
        joined = pd.concat(parts)
        if key in ("W3", "W9"):  # results in group order
            joined = joined.sort_index(level=0, sort_remaining=False, kind="stable")
        else:
            joined = joined.reindex(whole.index) if key == "W8" else joined
        assert_same(joined, whole)


def test_the_ceiling_method_times_two_forked_halves_and_leaves_nothing(tmp_path):
    import subprocess

    import psutil

    child = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.child", "--workload", "W9", "--size", "3000",
         "--method", "pandas in two halves at once", "--env", "pdpar", "--refs", str(tmp_path),
         "--out", str(tmp_path / "halves.json"), "--serve"],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "@@READY"
    workers = psutil.Process(child.pid).children()
    assert len(workers) == 2
    out, _ = child.communicate("go\ngo\n", timeout=120)
    assert [line.split()[0] for line in out.split("\n") if line] == ["@@TIME", "@@TIME"]
    assert child.returncode == 0
    psutil.wait_procs(workers, timeout=10)
    assert not any(w.is_running() for w in workers)


# --- benchmarks/realworld.py: the corpus of feature-engineering functions ------------------

CORPUS_SCALE = {key: 60 / case.units for key, case in CASES.items()}  # about 60 units each


@pytest.mark.parametrize("backend", ["threads", "processes"])
@pytest.mark.parametrize("key", sorted(CASES))
def test_corpus_case_through_pdpar_equals_pandas(key, backend):
    """Every function of the corpus gives on pdpar exactly what pandas gives (values, dtypes,
    index, names), in several chunks."""
    instance = CASES[key].build(CORPUS_SCALE[key])
    expected = instance.run()
    got = instance.run({"backend": backend, "n_jobs": 2, "chunksize": 7})
    assert_same(got, expected)


def test_the_corpus_covers_every_entry_point_with_a_big_lookup_table():
    import pickle

    from benchmarks.corpus import ENTRIES, zip_table

    assert len(CASES) >= 15
    assert {case.entry for case in CASES.values()} == set(ENTRIES)
    assert sum(case.long for case in CASES.values()) >= 10
    assert 1.8e6 < len(pickle.dumps(zip_table(), protocol=pickle.HIGHEST_PROTOCOL)) < 2.5e6
    # the same data in every process, whatever its string hashes (no set is iterated)
    script = ("import sys; sys.path.insert(0, '.')\n"
              "from benchmarks.corpus import fingerprints\n"
              "print(fingerprints(0.001))\n")
    import os
    import subprocess

    from benchmarks.corpus import fingerprints

    other = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                           text=True, check=True, timeout=120,
                           env={**os.environ, "PYTHONHASHSEED": "12345"}).stdout
    assert other.strip() == str(fingerprints(0.001))


def test_realworld_summary_reads_auto_against_serial():
    from benchmarks.realworld import summary_lines

    def case(key, long, serial, auto):
        ok = {"status": "ok", "cold": 1.0, "best": None, "speedup": None,
              "cold_speedup": 1.0}
        return {"case": key, "long": long, "scale": 1.0, "methods": {
            "pandas": {**ok, "best": serial},
            "pdpar auto": {**ok, "best": serial / auto, "speedup": auto}}}

    lines = "\n".join(summary_lines([case("a", True, 1.5, 1.8), case("b", True, 2.0, 1.2),
                                     case("c", False, 0.4, 0.9), case("d", True, 0.8, 1.6)]))
    assert "worst speed-up (median of rounds): **0.90×** (c)" in lines
    assert "(3: a, b, d): **1.60×**" in lines
    assert "below 0.95×: **c 0.90×**" in lines
    assert "Marked ≥1 s but serial pandas took less here: d" in lines


@pytest.mark.slow
def test_realworld_script_runs_end_to_end(tmp_path):
    """benchmarks/realworld.py at a tiny scale, one round, one busy process: a row per case in
    the report, the summary lines, the raw numbers, auto's plans, and no busy process left."""
    import json
    import subprocess

    keys = ["zip_state", "parse_money", "latest_orders"]  # Series.apply, DataFrame.map, groupby
    out, raw = tmp_path / "realworld.md", tmp_path / "realworld.json"
    done = subprocess.run(
        [sys.executable, "benchmarks/realworld.py", "--only", ",".join(keys), "--scale", "0.002",
         "--rounds", "1", "--busy", "1", "--out", str(out), "--json", str(raw)],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads(raw.read_text())
    assert [c["case"] for c in results["cases"]] == keys
    for c in results["cases"]:
        for name, method in c["methods"].items():
            assert method["status"] == "ok", (c["case"], name, method["detail"])
            assert method["cold"] > 0 and len(method["warm"]) == 1, (c["case"], name)
        plans = c["methods"]["pdpar auto"]["plans"]
        assert len(plans) == 2 and all(p and p["explain"] for p in plans)
    meta = results["meta"]
    assert meta["busy"] == 1 and len(meta["busy_pids"]) == 1
    assert meta["start"]["two_core_ceiling"] and meta["end"]["load_average"]
    for pid in meta["busy_pids"]:
        assert not Path(f"/proc/{pid}").exists()
    report = out.read_text()
    assert all(f"| {key} | `" in report for key in keys)
    assert "**1 busy process**" in report and "worst speed-up" in report
    assert "Cases where pdpar auto is below 0.95×" in report
