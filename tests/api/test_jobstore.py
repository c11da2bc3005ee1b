"""jobrunner_api.jobstore against the real MongoDB and RabbitMQ: what a stopping process leaves.

The module has a database and a vhost of its own, so that the session's API process neither
sweeps these jobs nor consumes their dispatch messages.
"""

import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest
from faststream.rabbit import RabbitBroker

from jobrunner_api import db
from jobrunner_api.documents import Job
from jobrunner_api.platform import Platform
from jobrunner_api.settings import Settings
from jobrunner_shared import amqp
from jobrunner_shared.messages import JobSpec
from jobrunner_shared.secretbox import SecretBox
from tests.support.infra import RabbitMQ

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def database(mongodb_url: str, mongodb_db_name: str) -> AsyncIterator[None]:
    name = f"{mongodb_db_name}_jobstore"
    client = await db.connect(mongodb_url, name)
    yield
    await client.drop_database(name)
    await client.close()


@pytest.fixture(scope="module")
def vhost_url(rabbitmq: RabbitMQ) -> Any:
    vhost = f"jobrunner-jobstore-{secrets.token_hex(4)}"
    url = rabbitmq.create_vhost(vhost)
    yield url
    rabbitmq.delete_vhost(vhost)


async def test_closing_writes_the_marks_of_confirmed_publishes_at_once(database,
                                                                       vhost_url: str) -> None:
    # A grace of a minute: the marks would wait 30 s, far past close()'s 5 s at most.
    settings = Settings(environment="development", rabbitmq_url=vhost_url,
                        outbox_grace_seconds=60)
    broker = RabbitBroker(vhost_url)
    await broker.connect()
    try:
        await amqp.declare_topology(broker)
        platform = Platform(settings=settings, broker=broker,
                            secretbox=SecretBox(settings.encryption_key))
        jobs = [(await platform.jobs.submit(JobSpec(command="true"), "t-close"))[0]
                for _ in range(3)]
        ids = [job.id for job in jobs]
        stored = Job.get_pymongo_collection()
        due = await stored.count_documents({"_id": {"$in": ids}, "publish_due_at": {"$ne": None}})
        assert due == 3, "confirmed, but not marked yet: the marks wait"

        await platform.jobs.close()

        due = await stored.count_documents({"_id": {"$in": ids}, "publish_due_at": {"$ne": None}})
        assert due == 0, "a stopping process marks what RabbitMQ confirmed"
    finally:
        await platform.feed.close()
        await broker.stop()
