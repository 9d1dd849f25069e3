"""pdpar's worker processes live no longer than the process that started them.

Each test runs a program in a process of its own, as a user's script, notebook kernel or
``multiprocessing`` job runs, and checks what happens when that process ends, is killed, or is
a child of ``multiprocessing``: its workers end with it, within the time a failing test waits
(:data:`reliability.GIVE_UP`, shorter than the workers' own idle timeout), a daemonic process
runs its calls without processes, and the spool folders a killed process left are removed by
the next call.
"""

import os
import signal
import subprocess
import sys

import psutil
import pytest

from conftest import BIG
from reliability import GIVE_UP, leftovers, wait_until, worker_processes

pytestmark = pytest.mark.slow  # each starts programs and pools of its own

#: A warm pool, its workers' pids written to the file argv[1], then what argv[2] says.
KILLED = f"""
import os, sys, time
import numpy as np, pandas as pd, pdpar

BIG, GIVE_UP = {BIG}, {GIVE_UP}
pids, what = sys.argv[1], sys.argv[2]

def busy(x):
    if x % BIG == 0:  # the first element of each chunk: busy, in Python, for twice GIVE_UP
        open(os.path.join(os.path.dirname(pids), f"busy {{int(x) // BIG}}"), "w").close()
        end = time.monotonic() + 2 * GIVE_UP
        while time.monotonic() < end:
            pass
    return x

s = pd.Series(np.arange(4 * BIG, dtype=np.float64))
got = s.iloc[:4].par(backend="processes", n_jobs=2, chunksize=1).map(lambda x: os.getpid())
with open(pids + ".part", "w") as f:
    f.write(" ".join(map(str, set(got))))
os.rename(pids + ".part", pids)
if what == "idle":
    time.sleep(2 * GIVE_UP)
else:
    s.par(backend="processes", n_jobs=2, chunksize=BIG).map(busy)
"""


def _run_killed(tmp_path, what):
    """The program KILLED, its worker processes and its resource tracker, once they are
    (busy if ``what`` is "busy")."""
    pids = tmp_path / "pids"
    program = subprocess.Popen([sys.executable, "-c", KILLED, str(pids), what])
    wait_until(lambda: pids.exists() or program.poll() is not None, "the program started")
    assert pids.exists(), "the program failed"
    wait_until(lambda: len(worker_processes(program.pid)) == 2, "both workers started")
    workers = worker_processes(program.pid)
    if what == "busy":
        wait_until(lambda: len(list(tmp_path.glob("busy *"))) == 2, "both workers are busy")
    others = [p for p in psutil.Process(program.pid).children(recursive=True)
              if p.pid not in {w.pid for w in workers}]  # the resource tracker
    return program, workers, others


def _gone(procs):
    return not [p for p in procs if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_workers_end_soon_after_their_caller_is_killed(tmp_path, spool_dirs, how):
    program, workers, others = _run_killed(tmp_path, "idle")
    try:
        assert len(workers) == 2 and others
        program.send_signal(how)
        program.wait()
        wait_until(lambda: _gone(workers + others),
                   "the workers and the resource tracker of a killed program ended")
    finally:
        for proc in [program, *workers]:
            if proc.poll() is None if hasattr(proc, "poll") else proc.is_running():
                proc.kill()


def test_busy_workers_stop_when_their_caller_is_killed_mid_call_and_its_folder_goes(
        tmp_path, spool_dirs):
    shm, disk = spool_dirs
    program, workers, others = _run_killed(tmp_path, "busy")
    try:
        left = [p for p in shm.iterdir() if p.name.startswith(f"pdpar-{program.pid}-")]
        assert left  # the call's spool folder, with the chunks that wait
        program.send_signal(signal.SIGTERM)
        program.wait()
        wait_until(lambda: _gone(workers + others), "busy workers of a killed program ended")
        assert all(p.exists() for p in left)  # nobody removed it: the program was killed
    finally:
        for proc in workers:
            if proc.is_running():
                proc.kill()
    import pandas as pd

    s = pd.Series(range(4))
    assert s.par(backend="processes", n_jobs=2, chunksize=1).map(abs).equals(s)
    assert leftovers([shm, disk]) == []  # the next call removed the dead program's folder


#: A pool started, then SIGINT sent to the whole process group, as a terminal's Ctrl-C or a
#: notebook kernel's shutdown does; the program ends normally on KeyboardInterrupt.
GROUP_INTERRUPTED = """
import os, signal, sys, time
import pandas as pd, pdpar

# a background job starts its children with SIGINT ignored: Python's own handler, as in a terminal
signal.signal(signal.SIGINT, signal.default_int_handler)

s = pd.Series(range(4))
s.par(backend="processes", n_jobs=2, chunksize=1).map(abs)
try:  # "ready" inside: the signal may come before print returns
    print("ready", flush=True)
    time.sleep(600)
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""


def test_ctrl_c_to_the_process_group_prints_nothing_from_the_workers():
    program = subprocess.Popen([sys.executable, "-c", GROUP_INTERRUPTED], text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)
    try:
        assert program.stdout.readline().strip() == "ready"
        workers = psutil.Process(program.pid).children(recursive=True)
        os.killpg(program.pid, signal.SIGINT)
        out, err = program.communicate(timeout=GIVE_UP)
        assert out.strip() == "interrupted" and program.returncode == 0
        assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
        wait_until(lambda: _gone(workers), "the workers ended with the program")
    finally:
        if program.poll() is None:
            program.kill()


#: pdpar called with processes in multiprocessing children (argv[1]: fork or spawn), after a
#: call in the parent left a warm pool there; each child's workers' pids are printed.
CHILDREN = """
import multiprocessing as mp, os, sys
from concurrent.futures import ProcessPoolExecutor

def job():
    import pandas as pd, pdpar
    s = pd.Series(range(40), dtype="float64")
    assert s.par(backend="processes", n_jobs=2, chunksize=5).map(abs).equals(s)
    return [p.pid for p in mp.active_children() if p.name.startswith("LokyProcess")]

def child(queue):
    queue.put(job())

if __name__ == "__main__":
    import pandas as pd, pdpar
    pd.Series(range(4)).par(backend="processes", n_jobs=2, chunksize=1).map(abs)
    context = mp.get_context(sys.argv[1])
    with ProcessPoolExecutor(1, mp_context=context) as executor:
        print(*executor.submit(job).result(), flush=True)
    print("left the with block", flush=True)
    queue = context.Queue()
    process = context.Process(target=child, args=(queue,))
    process.start()
    print(*queue.get(), flush=True)
    process.join()
    print("joined", process.exitcode, flush=True)
"""


def _program(tmp_path, text):
    """``text`` as a program file: multiprocessing's spawn imports the main module again."""
    path = tmp_path / "program.py"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_multiprocessing_child_that_used_processes_ends_with_its_workers(method, tmp_path):
    program = subprocess.Popen([sys.executable, _program(tmp_path, CHILDREN), method],
                               text=True, stdout=subprocess.PIPE)
    try:
        # the children ended (ProcessPoolExecutor's with block, Process.join) long before
        # their workers' idle timeout would have ended those, and took the workers with them
        out, _ = program.communicate(timeout=GIVE_UP)
        lines = out.splitlines()
        assert lines[1] == "left the with block" and lines[3] == "joined 0"
        workers = [int(pid) for line in (lines[0], lines[2]) for pid in line.split()]
        assert len(workers) == 4 and os.getpid() not in workers
        assert not [pid for pid in workers if psutil.pid_exists(pid)
                    and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
    finally:
        if program.poll() is None:
            program.kill()


#: pdpar in a multiprocessing.Pool worker, a daemonic process.
DAEMONIC = """
import multiprocessing as mp

def job(backend):
    import pandas as pd, pdpar
    s = pd.Series(range(3000), dtype="float64")
    slow = lambda x: sum(i * x for i in range(300))
    try:
        got = s.par(backend=backend, n_jobs=2).map(slow)
    except pdpar.PdparError as exc:
        return f"PdparError: {exc}"
    assert got.equals(s.map(slow))
    plan = pdpar.last_plan()
    return f"{plan.backend}: {plan.reason}"

if __name__ == "__main__":
    with mp.get_context("spawn").Pool(1) as pool:
        print(pool.apply(job, ("auto",)), flush=True)
        print(pool.apply(job, ("processes",)), flush=True)
"""


def test_in_a_daemonic_process_auto_runs_without_processes_and_processes_says_why(tmp_path):
    done = subprocess.run([sys.executable, _program(tmp_path, DAEMONIC)], capture_output=True,
                          text=True, timeout=GIVE_UP)
    assert done.returncode == 0, done.stderr
    auto, named = done.stdout.splitlines()
    assert auto.split(":")[0] in ("serial", "threads")
    assert "processes are no candidate: this is a daemonic process" in auto
    assert named.startswith("PdparError: backend='processes' cannot start worker processes "
                            "here: this is a daemonic process")


def test_a_call_that_stays_in_the_caller_does_not_import_multiprocessing():
    # finding out whether this is a daemonic process must not cost a first call the import
    code = ("import sys, pandas as pd, pdpar\n"
            "pd.Series(range(1000)).par.map(lambda x: x + 1)\n"
            "print(pdpar.last_plan().backend, 'multiprocessing' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=GIVE_UP)
    assert done.returncode == 0, done.stderr
    backend, imported = done.stdout.split()
    assert (backend, imported) == ("serial", "False"), done.stdout
