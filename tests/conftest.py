import contextlib

import pytest

import pdpar

#: Every explicit backend the tests run on; "dask" runs on a local cluster per test module.
BACKENDS = ["serial", "threads", "processes", "dask"]


@pytest.fixture(params=BACKENDS)
def backend(request):
    if request.param == "dask":
        request.getfixturevalue("dask_client")
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


@pytest.fixture(scope="session", autouse=True)
def _release_pool():
    yield
    with contextlib.suppress(Exception):
        pdpar.shutdown()
