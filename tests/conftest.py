"""What the test modules share: the backends, a dask cluster, the plan of one call, how many
examples a property test checks, private spool folders, a small tmpfs, and the size of a chunk
that travels through a spool file."""

import contextlib
import contextvars
import subprocess
import tempfile

import pytest

import pdpar
from pdpar import transport
from pdpar.plan import hindsight

#: Every explicit backend the tests run on; "dask" runs on a local cluster per test module.
BACKENDS = ["serial", "threads", "processes", "dask"]

#: float64 elements in a chunk large enough to travel to a worker process through a spool file
BIG = transport.SPOOL_MIN_BYTES // 8 * 2


def run_with_plan(call, *args):
    """``call(*args)`` and the plan pdpar made for it (None if it made none).

    The call runs in a context of its own, so that no earlier call's plan can show.
    """
    context = contextvars.Context()
    result = context.run(call, *args)
    return result, context.run(pdpar.last_plan)


@pytest.fixture(autouse=True)
def _nothing_learned():
    """Each test plans from its own calls alone: what an earlier test's calls of the same
    function took (:mod:`pdpar.plan.hindsight`) does not carry over."""
    hindsight.forget()
    yield
    hindsight.forget()


@pytest.fixture(params=BACKENDS)
def backend(request):
    if request.param == "dask":
        request.getfixturevalue("dask_client")
    return request.param


@pytest.fixture(params=["few", pytest.param("all", marks=pytest.mark.slow)])
def examples(request):
    """How many of a property test's examples to check: "few" by default, "all" among the slow
    tests (test_properties.property_settings)."""
    return request.param


@pytest.fixture(scope="module")
def dask_cluster():
    """A real dask.distributed cluster on this machine: 2 worker processes of one thread each,
    loopback addresses only, no dashboard. Started on first use in a test module and closed
    at the module's end, so that no other module finds its processes among its children."""
    distributed = pytest.importorskip("distributed")
    # allowed_failures=0: a chunk whose worker dies fails at once, instead of being retried on
    # (and killing) other workers first. The scheduler's HTTP server (health and metrics; the
    # dashboard is off) gets a free loopback port instead of 8787, which may be taken.
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None,
        scheduler_kwargs={"allowed_failures": 0, "dashboard_address": "127.0.0.1:0"})
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.fixture
def dask_client(dask_cluster):
    """A client of the session's cluster, the default one while the test runs."""
    import distributed

    with distributed.Client(dask_cluster, set_as_default=True) as client:
        yield client


@pytest.fixture
def spool_dirs(tmp_path, monkeypatch):
    """A private shared-memory folder and a private temporary folder for this test (and for
    the programs it starts), so that what a call leaves behind can be found and counted."""
    shm, disk = tmp_path / "shm", tmp_path / "tmp"
    shm.mkdir()
    disk.mkdir()
    monkeypatch.setenv("PDPAR_SHM_FOLDER", str(shm))
    monkeypatch.setenv("TMPDIR", str(disk))
    monkeypatch.setattr(tempfile, "tempdir", str(disk))
    return [shm, disk]


@pytest.fixture
def small_tmpfs(tmp_path):
    """A real 2 MB tmpfs, as a container's small /dev/shm (needs the right to mount one)."""
    where = tmp_path / "small-shm"
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(where)],
                          capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield where
    subprocess.run(["umount", str(where)], check=True)


@pytest.fixture(scope="session", autouse=True)
def _release_pool():
    yield
    with contextlib.suppress(Exception):
        pdpar.shutdown()
