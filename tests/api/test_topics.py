"""API <-> RabbitMQ <-> MongoDB: what the API publishes, and what it makes of the topics."""

import asyncio
import json
import uuid

import aio_pika
import pytest

from jobrunner_shared import names
from jobrunner_shared.messages import (
    JobFinishedEvent,
    JobStartedEvent,
    LogBatchEvent,
    LogLine,
    utcnow,
)
from tests.support.platform import Tenant

pytestmark = pytest.mark.integration


@pytest.fixture
async def channel(rabbitmq_url: str):
    connection = await aio_pika.connect_robust(rabbitmq_url)
    async with connection:
        yield await connection.channel()


def tenant_id(tenant: Tenant) -> str:
    with tenant.client() as client:
        return client.get("/me").json()["tenant"]["id"]


async def publish(channel, exchange: str, key: str, body: bytes, **props) -> None:
    target = await channel.get_exchange(exchange)
    await target.publish(
        aio_pika.Message(body, content_type="application/json", **props), routing_key=key
    )


async def take(channel, queue_name: str, timeout: float = 10) -> aio_pika.IncomingMessage:
    queue = await channel.declare_queue(queue_name, passive=True)
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        message = await queue.get(fail=False)
        if message is not None:
            return message
        assert asyncio.get_running_loop().time() < deadline, f"nothing on {queue_name}"
        await asyncio.sleep(0.05)


async def test_a_job_is_stored_then_published_persistently_on_its_tenants_queue(
    tenant: Tenant, channel
) -> None:
    # When a job with labels and a priority is submitted (no worker has its labels)
    job = tenant.submit(command="echo hi", labels=["b", "a"], priority=7, env={"K": "v"})
    # Then it waits in the dispatch queue of its tenant and label set, as a persistent message
    queue = names.dispatch_queue(tenant_id(tenant), ["a", "b"])
    message = await take(channel, queue)
    await message.ack()
    assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert message.priority == 7
    body = json.loads(message.body)
    assert body["job_id"] == job["id"]
    assert body["attempt"] == 1
    assert body["labels"] == ["a", "b"]
    assert body["env"] == {"K": "v"}
    assert body["tenant_id"] == tenant_id(tenant)


async def test_topic_events_move_a_job_and_its_log(tenant: Tenant, channel) -> None:
    job = tenant.submit(command="echo hi", labels=["nobody"], max_retries=1)
    ref = {"job_id": job["id"], "tenant_id": tenant_id(tenant), "worker_id": "w-1",
           "worker_name": "fake"}
    line = LogLine(seq=1, stream="stdout", text="hi", ts=utcnow())

    # Given the job started on a (fake) worker and printed one line, sent twice
    await publish(channel, names.JOBS_EXCHANGE, names.JOB_STARTED_KEY,
                  JobStartedEvent(**ref, attempt=1, pid=42).model_dump_json().encode())
    batch = LogBatchEvent(**ref, attempt=1, lines=[line]).model_dump_json().encode()
    await publish(channel, names.LOGS_EXCHANGE, names.LOG_BATCH_KEY, batch)
    await publish(channel, names.LOGS_EXCHANGE, names.LOG_BATCH_KEY, batch)
    running = tenant.wait_job(job["id"], lambda j: j["status"] == "running")
    assert running["worker_name"] == "fake"

    # When a stale attempt reports, nothing changes
    await publish(channel, names.JOBS_EXCHANGE, names.JOB_FINISHED_KEY,
                  JobFinishedEvent(**ref, attempt=7, status="succeeded", exit_code=0)
                  .model_dump_json().encode())
    # When attempt 1 fails, the job is retried as attempt 2, published again
    await publish(channel, names.JOBS_EXCHANGE, names.JOB_FINISHED_KEY,
                  JobFinishedEvent(**ref, attempt=1, status="failed", exit_code=2, last_seq=1)
                  .model_dump_json().encode())
    retried = tenant.wait_job(job["id"], lambda j: j["attempt"] == 2)
    assert retried["status"] == "queued"
    assert [a["status"] for a in retried["attempts"]] == ["failed", "queued"]
    message = await take(channel, names.dispatch_queue(ref["tenant_id"], ["nobody"]))
    await message.ack()
    first = await take(channel, names.dispatch_queue(ref["tenant_id"], ["nobody"]))
    await first.ack()
    attempts = sorted(json.loads(m.body)["attempt"] for m in (message, first))
    assert attempts == [1, 2]

    # And attempt 1's line is stored once
    assert [ln["text"] for ln in tenant.all_lines(job["id"], attempt=1)] == ["hi"]

    # When attempt 2 succeeds, the job is over
    await publish(channel, names.JOBS_EXCHANGE, names.JOB_FINISHED_KEY,
                  JobFinishedEvent(**ref, attempt=2, status="succeeded", exit_code=0,
                                   last_seq=0).model_dump_json().encode())
    done = tenant.wait_final(job["id"])
    assert done["status"] == "succeeded" and done["exit_code"] == 0


@pytest.mark.parametrize(
    ("exchange", "key"),
    [
        (names.LOGS_EXCHANGE, names.LOG_BATCH_KEY),
        (names.JOBS_EXCHANGE, names.JOB_FINISHED_KEY),
        (names.HEARTBEATS_EXCHANGE, names.HEARTBEAT_KEY),
    ],
)
async def test_an_invalid_message_is_dead_lettered_and_consumption_goes_on(
    tenant: Tenant, channel, exchange: str, key: str
) -> None:
    # Given a message that is not what the topic carries
    message_id = uuid.uuid4().hex
    await publish(channel, exchange, key, b'{"job_id": 5}', message_id=message_id)
    # Then it lands in the dead-letter queue with the reason, once
    dead = await channel.declare_queue(names.DEAD_LETTER_QUEUE, passive=True)
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        got = await dead.get(fail=False)
        if got is not None:
            await got.ack()
            if got.message_id == message_id:
                break
        assert asyncio.get_running_loop().time() < deadline, "not dead-lettered"
        await asyncio.sleep(0.05)
    assert "invalid message" in got.headers[names.REJECT_REASON_HEADER]
    assert got.headers["x-original-routing-key"] == key
    # And the consumers still work
    job = tenant.submit(command="true", labels=["nobody"])
    ref = {"job_id": job["id"], "tenant_id": tenant_id(tenant), "worker_id": "w",
           "worker_name": "fake"}
    await publish(channel, names.JOBS_EXCHANGE, names.JOB_FINISHED_KEY,
                  JobFinishedEvent(**ref, attempt=1, status="succeeded", exit_code=0)
                  .model_dump_json().encode())
    assert tenant.wait_final(job["id"])["status"] == "succeeded"


def test_a_repeated_idempotency_key_returns_the_first_job(tenant: Tenant) -> None:
    with tenant.client() as client:
        first = client.post("/jobs", json={"command": "true", "labels": ["nobody"]},
                            headers={"Idempotency-Key": "abc"})
        again = client.post("/jobs", json={"command": "true", "labels": ["nobody"]},
                            headers={"Idempotency-Key": "abc"})
        in_body = client.post("/jobs", json={"command": "true", "labels": ["nobody"],
                                             "idempotency_key": "abc"})
    assert first.status_code == 201
    assert again.status_code == 200 and in_body.status_code == 200
    assert again.json()["id"] == first.json()["id"] == in_body.json()["id"]
