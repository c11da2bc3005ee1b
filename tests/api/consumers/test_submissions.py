"""Submitting jobs over AMQP (SPEC §4): accepted, answered, deduplicated, or rejected with a reason."""

import asyncio
import json
import uuid
from dataclasses import dataclass
from typing import Any

import aio_pika
import pytest

from jobrunner_shared import names
from tests.support.platform import Platform, Tenant

pytestmark = pytest.mark.integration

SUBMIT_KEY_PREFIX = "jrs_"


@pytest.fixture
async def channel(rabbitmq_url: str):
    connection = await aio_pika.connect_robust(rabbitmq_url)
    async with connection:
        yield await connection.channel()


@pytest.fixture
async def replies(channel) -> aio_pika.abc.AbstractQueue:
    """A private queue for replies, as a producer would declare it."""
    return await channel.declare_queue(exclusive=True, auto_delete=True)


def create_key(tenant: Tenant, kind: str) -> dict:
    with tenant.client() as client:
        response = client.post("/api-keys", json={"name": f"test-{kind}", "kind": kind})
        response.raise_for_status()
        return response.json()


@dataclass
class Producer:
    """A tenant and the keys a producer of it might hold."""

    tenant: Tenant
    submit_key: str
    worker_key: str
    revoked_key: str

    def job_ids(self) -> set[str]:
        with self.tenant.client() as client:
            response = client.get("/jobs", params={"limit": 500})
            response.raise_for_status()
            return {job["id"] for job in response.json()["items"]}


@pytest.fixture(scope="module")
def producer(platform: Platform) -> Producer:
    """One tenant for the whole module: making a tenant costs seconds (password hashing)."""
    tenant = platform.new_tenant()
    revoked = create_key(tenant, "submit")
    with tenant.client() as client:
        client.delete(f"/api-keys/{revoked['id']}").raise_for_status()
    return Producer(
        tenant=tenant,
        submit_key=create_key(tenant, "submit")["key"],
        worker_key=create_key(tenant, "worker")["key"],
        revoked_key=revoked["key"],
    )


async def publish(channel, body: bytes, *, key: str | None, message_id: str | None = None,
                  reply_to: str | None = None, correlation_id: str | None = None,
                  headers: dict[str, Any] | None = None) -> None:
    headers = dict(headers or {})
    if key is not None:
        headers[names.API_KEY_HEADER] = key
    exchange = await channel.get_exchange(names.JOBS_EXCHANGE)
    await exchange.publish(
        aio_pika.Message(
            body,
            content_type="application/json",
            headers=headers,
            message_id=message_id,
            reply_to=reply_to,
            correlation_id=correlation_id,
        ),
        routing_key=names.SUBMIT_KEY,
        mandatory=True,
    )


async def next_message(queue, timeout: float = 10) -> aio_pika.abc.AbstractIncomingMessage:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        message = await queue.get(fail=False)
        if message is not None:
            await message.ack()
            return message
        assert asyncio.get_running_loop().time() < deadline, f"nothing on {queue.name}"
        await asyncio.sleep(0.05)


async def rejected(channel, message_id: str) -> aio_pika.abc.AbstractIncomingMessage:
    """The copy of our message in the rejected queue (earlier tests' copies are skipped)."""
    queue = await channel.declare_queue(names.REJECTED_QUEUE, passive=True)
    while True:
        message = await next_message(queue)
        if message.message_id == message_id:
            return message


async def reply_for(replies, correlation_id: str) -> dict:
    message = await next_message(replies)
    assert message.correlation_id == correlation_id
    return json.loads(message.body)


async def test_a_submitted_job_is_stored_for_the_keys_tenant_and_answered(
    producer: Producer, channel, replies
) -> None:
    before = producer.job_ids()
    # When a producer with a submit key publishes a job and asks for a reply
    await publish(channel, json.dumps({"command": "true", "labels": ["nobody"]}).encode(),
                  key=producer.submit_key, message_id=uuid.uuid4().hex,
                  reply_to=replies.name, correlation_id="corr-1")
    # Then the reply names the queued job, with the producer's correlation id
    reply = await reply_for(replies, "corr-1")
    assert reply == {"job_id": reply["job_id"], "status": "queued"}
    # And the job is the key's tenant's
    assert producer.job_ids() - before == {reply["job_id"]}
    job = producer.tenant.job(reply["job_id"])
    assert job["command"] == "true" and job["labels"] == ["nobody"]


async def test_a_repeated_message_id_gives_the_first_job(
    producer: Producer, channel, replies
) -> None:
    before, message_id = producer.job_ids(), uuid.uuid4().hex
    body = json.dumps({"command": "true", "labels": ["nobody"]}).encode()
    # When the same message is published twice (a producer retrying after a lost confirm)
    for correlation_id in ("first", "again"):
        await publish(channel, body, key=producer.submit_key, message_id=message_id,
                      reply_to=replies.name, correlation_id=correlation_id)
    answers = [await next_message(replies) for _ in range(2)]
    # Then there is one job, and both replies name it
    (job_id,) = producer.job_ids() - before
    assert sorted(a.correlation_id for a in answers) == ["again", "first"]
    assert [json.loads(a.body) for a in answers] == [{"job_id": job_id, "status": "queued"}] * 2


@pytest.mark.parametrize(
    ("case", "body", "reason"),
    [
        ("invalid-json", b'{"command": "true",', "invalid JSON: "),
        ("not-a-jobspec", b'{"command": "true", "priority": 42}', "body.priority: "),
        ("command-and-argv", b'{"command": "true", "argv": ["true"]}', "exactly one of"),
        ("unknown-field", b'{"comand": "true"}', "body.comand: "),
        ("bad-key", b'{"command": "true"}', "unknown, revoked or expired submit key"),
        ("revoked-key", b'{"command": "true"}', "unknown, revoked or expired submit key"),
        ("worker-key", b'{"command": "true"}', "worker key, not a submit key"),
        ("no-key", b'{"command": "true"}', f"no {names.API_KEY_HEADER} header"),
        ("oversized", b'{"command": "' + b"x" * (2 * 1024 * 1024) + b'"}',
         "body.command: String should have at most"),
        ("unknown-secret", b'{"command": "true", "secrets": ["NO_SUCH_SECRET"]}',
         "body.secrets: unknown secret NO_SUCH_SECRET"),
        ("env-and-secret", b'{"command": "true", "env": {"A": "1"}, "secrets": ["A"]}',
         "A: both in 'env' and in 'secrets'"),
    ],
)
async def test_a_bad_submission_is_rejected_with_its_reason_and_consumption_goes_on(
    producer: Producer, channel, replies, case: str, body: bytes, reason: str
) -> None:
    key = {
        "bad-key": SUBMIT_KEY_PREFIX + "not-a-real-key",
        "revoked-key": producer.revoked_key,
        "worker-key": producer.worker_key,
        "no-key": None,
    }.get(case, producer.submit_key)
    before, message_id = producer.job_ids(), uuid.uuid4().hex

    # When a message that can never be accepted is published
    await publish(channel, body, key=key, message_id=message_id, reply_to=replies.name,
                  correlation_id=case, headers={"x-trace": "t-1"})

    # Then its original lands in the rejected queue with a reason, and without the key
    kept = await rejected(channel, message_id)
    assert kept.body == body
    assert reason in kept.headers[names.REJECT_REASON_HEADER]
    assert names.API_KEY_HEADER not in kept.headers
    assert kept.headers["x-trace"] == "t-1"
    assert kept.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    # And the producer is told why
    assert await reply_for(replies, case) == {"error": kept.headers[names.REJECT_REASON_HEADER]}
    # And no job was made
    assert producer.job_ids() == before

    # When a valid message follows, it is accepted: the consumer is still there
    await publish(channel, b'{"command": "true", "labels": ["nobody"]}', key=producer.submit_key,
                  message_id=uuid.uuid4().hex, reply_to=replies.name, correlation_id="after")
    after = await reply_for(replies, "after")
    assert after["status"] == "queued"
    assert producer.job_ids() - before == {after["job_id"]}


async def test_a_rejection_without_reply_to_is_only_kept(producer: Producer, channel) -> None:
    message_id = uuid.uuid4().hex
    await publish(channel, b"not json", key=producer.submit_key, message_id=message_id)
    kept = await rejected(channel, message_id)
    assert kept.headers[names.REJECT_REASON_HEADER].startswith("invalid JSON: ")
    assert names.API_KEY_HEADER not in kept.headers


async def test_a_job_submitted_over_amqp_runs_on_a_worker(
    producer: Producer, channel, replies, start_worker
) -> None:
    # Given a worker of the tenant
    start_worker(producer.worker_key)
    # When a job is submitted over AMQP
    await publish(channel, json.dumps({"argv": ["echo", "over", "amqp"]}).encode(),
                  key=producer.submit_key, message_id=uuid.uuid4().hex,
                  reply_to=replies.name, correlation_id="run")
    reply = await reply_for(replies, "run")
    # Then it runs there to success, with its output stored
    done = producer.tenant.wait_final(reply["job_id"], timeout=30)
    assert done["status"] == "succeeded" and done["exit_code"] == 0
    assert [ln["text"] for ln in producer.tenant.all_lines(reply["job_id"])] == ["over amqp"]
