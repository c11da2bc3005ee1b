"""The shared fixtures give real, working and isolated RabbitMQ and MongoDB connections."""

import uuid

import aio_pika
import httpx
import pytest
from aio_pika.exceptions import ChannelClosed

pytestmark = pytest.mark.integration


async def test_a_message_goes_through_the_session_vhost(rabbitmq_url: str) -> None:
    # Given a queue in the session vhost
    connection = await aio_pika.connect_robust(rabbitmq_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(f"test-infra-{uuid.uuid4().hex}", auto_delete=True)

        # When a message is published to it
        await channel.default_exchange.publish(
            aio_pika.Message(b"hello", message_id="m-1"), routing_key=queue.name
        )

        # Then it is consumed back, intact
        message = await queue.get(timeout=10, fail=True)
        await message.ack()
        assert (message.body, message.message_id) == (b"hello", "m-1")


async def test_the_session_vhost_is_not_the_default_vhost(
    rabbitmq, rabbitmq_vhost: str, rabbitmq_url: str
) -> None:
    assert rabbitmq_vhost != "/" and rabbitmq_url.endswith("/" + rabbitmq_vhost)
    name = f"test-infra-{uuid.uuid4().hex}"
    connection = await aio_pika.connect_robust(rabbitmq_url)
    async with connection:
        await (await connection.channel()).declare_queue(name, auto_delete=True)

        # The queue is in the session vhost and nowhere else that `make dev` would see.
        with httpx.Client(base_url=rabbitmq.management_url, auth=rabbitmq.credentials) as http:
            here = http.get(f"/api/queues/{rabbitmq_vhost}/{name}")
            default = http.get(f"/api/queues/%2F/{name}")
        assert here.status_code == 200
        assert default.status_code == 404


async def test_another_vhost_does_not_see_the_session_queues(rabbitmq, rabbitmq_url: str) -> None:
    name = f"test-infra-{uuid.uuid4().hex}"
    other_vhost = f"jobrunner-test-other-{uuid.uuid4().hex[:8]}"
    other_url = rabbitmq.create_vhost(other_vhost)
    try:
        connection = await aio_pika.connect_robust(rabbitmq_url)
        async with connection:
            await (await connection.channel()).declare_queue(name, auto_delete=True)
            other = await aio_pika.connect(other_url)
            async with other:
                with pytest.raises(ChannelClosed):  # 404 NOT_FOUND on a passive declare
                    await (await other.channel()).declare_queue(name, passive=True)
    finally:
        rabbitmq.delete_vhost(other_vhost)


async def test_a_document_is_stored_and_found(pymongo_db) -> None:
    collection = pymongo_db[f"infra_{uuid.uuid4().hex[:8]}"]
    await collection.insert_one({"_id": "job-1", "status": "queued"})

    found = await collection.find_one({"_id": "job-1"})

    assert found == {"_id": "job-1", "status": "queued"}


async def test_the_session_database_is_private(pymongo_db, mongodb_db_name: str) -> None:
    assert pymongo_db.name == mongodb_db_name
    assert mongodb_db_name.startswith("jobrunner_test_")
    await pymongo_db["private"].insert_one({"x": 1})
    names = await pymongo_db.client.list_database_names()
    assert mongodb_db_name in names
