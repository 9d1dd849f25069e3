import pytest

import pdpar

#: Every explicit backend the tests run on.
BACKENDS = ["serial", "threads", "processes"]


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture(scope="session", autouse=True)
def _release_pool():
    yield
    pdpar.shutdown()
