"""jobrunner_api.jobstore against the real MongoDB and RabbitMQ: what a stopping process leaves.

The module has a database and a vhost of its own, so that the session's API process neither
sweeps these jobs nor consumes their dispatch messages.
"""

import pytest
from faststream.rabbit import RabbitBroker

from jobrunner_api.documents import Job
from jobrunner_api.platform import Platform
from jobrunner_api.settings import Settings
from jobrunner_shared import amqp
from jobrunner_shared.messages import JobSpec
from jobrunner_shared.secretbox import SecretBox

pytestmark = pytest.mark.integration


async def test_closing_writes_the_marks_of_confirmed_publishes_at_once(module_database,
                                                                       module_vhost: str) -> None:
    # A grace of a minute: the marks would wait 30 s, far past close()'s 5 s at most.
    settings = Settings(environment="development", rabbitmq_url=module_vhost,
                        outbox_grace_seconds=60)
    broker = RabbitBroker(module_vhost)
    await broker.connect()
    platform = Platform(settings=settings, broker=broker,
                        secretbox=SecretBox(settings.encryption_key))
    try:
        await amqp.declare_topology(broker)
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
