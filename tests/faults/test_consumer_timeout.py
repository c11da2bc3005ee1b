"""A job that outlives RabbitMQ's consumer_timeout runs once (issue 3).

RabbitMQ closes the channel of a consumer that holds a delivery unacknowledged for longer than
`consumer_timeout` (30 min by default) and requeues the message. The master acknowledges a
dispatch delivery as soon as the worker has taken the job, so no job is ever held that long.
The test lowers the timeout to 2 s (and RabbitMQ's check interval to 1 s), proves on a bare
consumer that the setting bites, then runs a job three times as long.
"""

import asyncio
import time
import uuid

import aio_pika
import pytest

from tests.support.infra import RabbitMQ
from tests.support.platform import Tenant

pytestmark = [pytest.mark.e2e, pytest.mark.node_wide]


def set_rabbit_env(rabbitmq: RabbitMQ, key: str, value: int) -> None:
    rabbitmq.ctl("eval", f"application:set_env(rabbit, {key}, {value}).")


@pytest.fixture
def short_consumer_timeout(rabbitmq: RabbitMQ):
    if rabbitmq.ctl is None:
        pytest.fail("this broker's settings cannot be changed from the tests")
    set_rabbit_env(rabbitmq, "channel_tick_interval", 1000)
    set_rabbit_env(rabbitmq, "consumer_timeout", 2000)
    try:
        yield 2.0
    finally:
        set_rabbit_env(rabbitmq, "consumer_timeout", 1800000)
        set_rabbit_env(rabbitmq, "channel_tick_interval", 60000)


async def test_a_job_longer_than_the_consumer_timeout_runs_once(
    tenant: Tenant, start_worker, rabbitmq_url: str, short_consumer_timeout: float,
    record_counts
) -> None:
    # Given a consumer that holds a delivery past the timeout: its channel is closed
    connection = await aio_pika.connect(rabbitmq_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(f"holder-{uuid.uuid4().hex}", auto_delete=True)
        await channel.default_exchange.publish(aio_pika.Message(b"x"), routing_key=queue.name)
        held = asyncio.Event()

        async def hold(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            held.set()  # and never acknowledge it

        await queue.consume(hold)
        await asyncio.wait_for(held.wait(), 10)
        deadline = time.monotonic() + 15
        while not channel.is_closed:
            assert time.monotonic() < deadline, "consumer_timeout did not close the channel"
            await asyncio.sleep(0.2)
    # When a job runs three times as long as the timeout, on a worker connected after the change
    start_worker(tenant.worker_key(), name="patient")
    tenant.wait_workers_online(1)
    job = tenant.submit(command=f"echo begin; sleep {3 * short_consumer_timeout}; echo end")
    done = await asyncio.to_thread(tenant.wait_final, job["id"], 60)
    # Then it ran once, to the end, in its first attempt
    assert done["status"] == "succeeded"
    assert len(done["attempts"]) == 1
    record_counts("a job outliving RabbitMQ's consumer_timeout (2 s)", tenant, [job["id"]], 2)
