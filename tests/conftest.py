import contextlib

import pytest

import pdpar

#: Every explicit backend the tests run on; "dask" runs on the session's local cluster.
BACKENDS = ["serial", "threads", "processes", "dask"]


@pytest.fixture(params=BACKENDS)
def backend(request):
    if request.param == "dask":
        request.getfixturevalue("dask_client")
    return request.param


@pytest.fixture(scope="session")
def dask_cluster():
    """A real dask.distributed cluster on this machine: 2 worker processes of one thread each,
    loopback addresses only, no dashboard. Started once, on first use; closed at the end."""
    distributed = pytest.importorskip("distributed")
    import dask

    # a chunk whose worker dies fails at once instead of being retried on other workers
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           host="127.0.0.1", dashboard_address=None)
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
