"""infra/rabbitmq/definitions.json on a real broker: the compose stack imports it into a node
whose services then declare their own topology, and neither may refuse the other."""

import asyncio
import json
import secrets
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import aio_pika
import pytest
from aio_pika.exceptions import ChannelPreconditionFailed
from faststream.rabbit import RabbitBroker
from jobrunner_shared import amqp, names

from tests.support.infra import RabbitMQ

pytestmark = pytest.mark.integration

DEFINITIONS = Path(__file__).resolve().parents[2] / "infra/rabbitmq/definitions.json"


@pytest.fixture
def imported_vhost(rabbitmq: RabbitMQ) -> Iterator[str]:
    """A vhost of its own with the definitions imported, as the compose healthcheck does."""
    vhost = f"jobrunner-definitions-{secrets.token_hex(4)}"
    rabbitmq.create_vhost(vhost)
    try:
        with rabbitmq._management() as http:
            response = http.post(
                f"/api/definitions/{urllib.parse.quote(vhost, safe='')}",
                json=json.loads(DEFINITIONS.read_text()),
            )
            response.raise_for_status()
        yield vhost
    finally:
        rabbitmq.delete_vhost(vhost)


async def test_services_declare_their_topology_over_the_imported_definitions(
    rabbitmq: RabbitMQ, imported_vhost: str
) -> None:
    # Given a broker holding the definitions
    broker = RabbitBroker(rabbitmq.vhost_url(imported_vhost))
    await broker.connect()
    try:
        # When the services declare everything they declare at start, with their own arguments
        await amqp.declare_topology(broker)
        for queue in (
            amqp.SUBMIT_QUEUE,
            amqp.JOB_EVENTS_QUEUE,
            amqp.LOGS_QUEUE,
            amqp.HEARTBEATS_QUEUE,
            amqp.REJECTED_QUEUE,
            amqp.DEAD_LETTER_QUEUE,
        ):
            await broker.declare_queue(queue)
        name = names.dispatch_queue("tenant-a", ["gpu"])
        await broker.declare_queue(
            amqp.dispatch_queue(name, names.dispatch_routing_key("tenant-a", ["gpu"]))
        )
        # Then nothing was refused: PRECONDITION_FAILED would have raised above
    finally:
        await broker.stop()

    # ... which it does for a declaration that differs from the definitions
    connection = await aio_pika.connect_robust(rabbitmq.vhost_url(imported_vhost))
    async with connection:
        channel = await connection.channel()
        with pytest.raises(ChannelPreconditionFailed):
            await channel.declare_queue(names.SUBMIT_QUEUE, durable=True)


async def test_a_message_rejected_from_a_queue_without_its_own_dead_letter_target_is_kept(
    rabbitmq: RabbitMQ, imported_vhost: str
) -> None:
    # Given a queue declared like the master's control queues: no x-dead-letter-exchange
    connection = await aio_pika.connect_robust(rabbitmq.vhost_url(imported_vhost))
    async with connection:
        channel = await connection.channel()
        control = await channel.declare_queue(
            f"{names.MASTER_CONTROL_QUEUE_PREFIX}.test", exclusive=True, auto_delete=True
        )
        await channel.default_exchange.publish(
            aio_pika.Message(b"poison"), routing_key=control.name
        )

        # When its consumer rejects a message without requeueing it
        message = await control.get(timeout=10, fail=True)
        await message.reject(requeue=False)

        # Then the fallback policy dead-letters it instead of RabbitMQ dropping it
        dead_letters = await channel.get_queue(names.DEAD_LETTER_QUEUE, ensure=True)
        kept = await _get_within(dead_letters, seconds=10)
        await kept.ack()
        assert kept.body == b"poison"


async def _get_within(
    queue: aio_pika.abc.AbstractQueue, seconds: float
) -> aio_pika.abc.AbstractIncomingMessage:
    for _ in range(int(seconds * 10)):
        message = await queue.get(fail=False)
        if message is not None:
            return message
        await asyncio.sleep(0.1)
    raise AssertionError(f"nothing arrived in {queue.name} within {seconds}s")


async def test_a_job_submitted_before_the_api_ever_started_waits_in_its_queue(
    rabbitmq: RabbitMQ, imported_vhost: str
) -> None:
    # Given only the definitions (no API has run yet)
    connection = await aio_pika.connect_robust(rabbitmq.vhost_url(imported_vhost))
    async with connection:
        channel = await connection.channel()
        jobs = await channel.get_exchange(names.JOBS_EXCHANGE, ensure=True)

        # When a producer submits a job over AMQP
        await jobs.publish(
            aio_pika.Message(b'{"command": "true"}', content_type="application/json"),
            routing_key=names.SUBMIT_KEY,
            mandatory=True,
        )

        # Then it is kept for the API, not dropped as unroutable
        queue = await channel.get_queue(names.SUBMIT_QUEUE, ensure=True)
        message = await queue.get(timeout=10, fail=True)
        await message.ack()
        assert message.body == b'{"command": "true"}'
