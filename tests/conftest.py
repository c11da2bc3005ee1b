"""Fixtures every test suite may use: real RabbitMQ and MongoDB, isolated per test session.

- `rabbitmq_url`: AMQP URL of a vhost created for this session (deleted at the end);
- `mongodb_url`: the MongoDB server URL; `mongodb_db_name`: this session's database (dropped at
  the end); `pymongo_db`: a pymongo `AsyncMongoDatabase` on it, per test.
Where the servers come from: tests/support/infra.py. Helpers for starting the services in
end-to-end tests: `tests.support.ManagedProcess` and `tests.support.free_port`.
"""

import secrets
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

# `tests.support` is importable from every test module (tests/ is not an installed package).
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from pymongo import AsyncMongoClient, MongoClient  # noqa: E402
from pymongo.asynchronous.database import AsyncDatabase  # noqa: E402

from tests.support.infra import RabbitMQ, mongodb_server, rabbitmq_server  # noqa: E402

SESSION_ID = secrets.token_hex(4)

# The running platform (API and master processes), tenants and workers: tests/support/fixtures.py
pytest_plugins = ["tests.support.fixtures"]


@pytest.fixture(scope="session")
def rabbitmq() -> Iterator[RabbitMQ]:
    """The broker itself (default vhost): for tests that need another vhost of their own."""
    with rabbitmq_server() as server:
        yield server


@pytest.fixture(scope="session")
def rabbitmq_vhost(rabbitmq: RabbitMQ) -> Iterator[str]:
    vhost = f"jobrunner-test-{SESSION_ID}"
    rabbitmq.create_vhost(vhost)
    yield vhost
    rabbitmq.delete_vhost(vhost)


@pytest.fixture(scope="session")
def rabbitmq_url(rabbitmq: RabbitMQ, rabbitmq_vhost: str) -> str:
    return rabbitmq.vhost_url(rabbitmq_vhost)


@pytest.fixture(scope="session")
def mongodb_url() -> Iterator[str]:
    with mongodb_server() as url:
        yield url


@pytest.fixture(scope="session")
def mongodb_db_name(mongodb_url: str) -> Iterator[str]:
    name = f"jobrunner_test_{SESSION_ID}"
    yield name
    with MongoClient(mongodb_url, serverSelectionTimeoutMS=10_000) as client:
        client.drop_database(name)


@pytest.fixture
async def pymongo_db(mongodb_url: str, mongodb_db_name: str) -> AsyncIterator[AsyncDatabase]:
    client: AsyncMongoClient = AsyncMongoClient(mongodb_url, serverSelectionTimeoutMS=10_000)
    try:
        yield client[mongodb_db_name]
    finally:
        await client.close()
