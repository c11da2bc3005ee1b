"""Fixtures for tests of the API's parts that run against the real services, apart from the
session's platform (tests/support/platform.py)."""

import secrets
from collections.abc import AsyncIterator, Iterator

import pytest

from jobrunner_api import db
from tests.support.infra import RabbitMQ


def _module_name(request: pytest.FixtureRequest) -> str:
    return request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")


@pytest.fixture(scope="module")
async def module_database(request: pytest.FixtureRequest, mongodb_url: str,
                          mongodb_db_name: str) -> AsyncIterator[None]:
    """Beanie on a database of the test module's own, dropped afterwards: the session's API
    process neither sweeps nor reads what the module stores."""
    name = f"{mongodb_db_name}_{_module_name(request)}"
    client = await db.connect(mongodb_url, name)
    yield
    await client.drop_database(name)
    await client.close()


@pytest.fixture(scope="module")
def module_vhost(request: pytest.FixtureRequest, rabbitmq: RabbitMQ) -> Iterator[str]:
    """The URL of a RabbitMQ vhost of the test module's own: the session's API process consumes
    none of its queues."""
    vhost = f"jobrunner-{_module_name(request)}-{secrets.token_hex(4)}"
    url = rabbitmq.create_vhost(vhost)
    yield url
    rabbitmq.delete_vhost(vhost)
