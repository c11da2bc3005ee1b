"""Pytest fixtures for tests that need the running platform (a pytest plugin module)."""

from collections.abc import Callable, Iterator

import pytest

from tests.support.platform import Platform, Tenant, start_platform
from tests.support.process import ManagedProcess


@pytest.fixture(scope="session")
def platform(rabbitmq_url: str, mongodb_url: str, mongodb_db_name: str) -> Iterator[Platform]:
    yield from start_platform(rabbitmq_url, mongodb_url, mongodb_db_name)


@pytest.fixture
def tenant(platform: Platform) -> Tenant:
    """A tenant of this test's own: nothing of another test is visible to it."""
    return platform.new_tenant()


@pytest.fixture
def start_worker(platform: Platform) -> Iterator[Callable[..., ManagedProcess]]:
    """Start worker processes (`start_worker(key, labels=..., capacity=...)`); stopped after."""
    started: list[ManagedProcess] = []

    def start(key: str, **kwargs: object) -> ManagedProcess:
        worker = platform.start_worker(key, **kwargs)  # type: ignore[arg-type]
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
        platform.workers.remove(worker)
