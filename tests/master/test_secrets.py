"""The master decrypts a job's secrets into its environment and mask, and sends no ciphertext."""

import asyncio
import json

import aio_pika
import pytest

from jobrunner_master.secrets import SecretUnreadable, reveal, worker_payload
from jobrunner_shared import names
from jobrunner_shared.messages import JobAssignment
from jobrunner_shared.secretbox import DEV_KEY, SecretBox
from tests.master.test_sessions import FakeWorker, tenant_id
from tests.support.platform import Tenant

KEY = "master-test-key-" + "k" * 32


def assignment(**secrets: str) -> JobAssignment:
    return JobAssignment(job_id="j", tenant_id="t", attempt=1, command="env",
                         env={"PLAIN": "p"}, secrets=secrets)


def test_secrets_become_environment_and_mask_and_leave_no_ciphertext() -> None:
    box = SecretBox(KEY)
    pem = "-----BEGIN K-----\nabcdefgh\nxy\n-----END K-----\n"
    job = assignment(TOKEN=box.encrypt("tok-1"), PEM=box.encrypt(pem))
    # When the master prepares it for the worker
    ready = reveal(job, box)
    # Then the values are in env next to the plain variables
    assert ready.env == {"PLAIN": "p", "TOKEN": "tok-1", "PEM": pem}
    # And mask holds each whole value and each line of 4 characters or more of a multi-line one
    assert set(ready.mask) == {"tok-1", pem, pem.strip("\n"), "-----BEGIN K-----", "abcdefgh",
                               "-----END K-----"}
    # And what goes to the worker keeps the SPEC §5 shape, without any ciphertext
    payload = worker_payload(ready)
    assert "secrets" not in payload
    assert payload["env"]["TOKEN"] == "tok-1" and "tok-1" in payload["mask"]
    assert not any(c in json.dumps(payload) for c in job.secrets.values())


def test_a_job_without_secrets_is_sent_as_it_came() -> None:
    job = assignment()
    assert reveal(job, SecretBox(KEY)) is job
    assert worker_payload(job)["mask"] == [] and "secrets" not in worker_payload(job)


def test_a_ciphertext_of_another_key_is_unreadable_naming_the_secret_not_the_value() -> None:
    job = assignment(OK=SecretBox(KEY).encrypt("v-ok"),
                     WRONG=SecretBox("other-key-" + "o" * 32).encrypt("v-wrong"))
    with pytest.raises(SecretUnreadable) as info:
        reveal(job, SecretBox(KEY))
    assert str(info.value).startswith("secret_unreadable: WRONG")
    assert "v-ok" not in str(info.value) and "v-wrong" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


@pytest.mark.integration
async def test_a_job_the_master_cannot_decrypt_fails_and_reaches_no_worker(
    platform, tenant: Tenant, rabbitmq_url: str
) -> None:
    # Given a queued job with a secret, whose dispatch message we swap for one whose
    # ciphertext was made with another ENCRYPTION_KEY than the master's
    with tenant.client() as client:
        assert client.put("/secrets/ODD", json={"value": "v"}).status_code == 201
    job = tenant.submit(command="true", labels=["craft"], secrets=["ODD"])
    queue_name = names.dispatch_queue(tenant_id(tenant), ["craft"])
    connection = await aio_pika.connect(rabbitmq_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(queue_name, passive=True)
        message = None
        for _ in range(100):
            message = await queue.get(fail=False)
            if message is not None:
                break
            await asyncio.sleep(0.05)
        assert message is not None
        sent = JobAssignment.model_validate_json(message.body)
        assert SecretBox(DEV_KEY).decrypt(sent.secrets["ODD"]) == "v"  # the API's, as stored
        forged = sent.model_copy(
            update={"secrets": {"ODD": SecretBox("other-key-" + "o" * 32).encrypt("v")}}
        )
        await channel.default_exchange.publish(
            aio_pika.Message(forged.model_dump_json().encode(), message_id=message.message_id),
            routing_key=queue_name,
        )
        await message.ack()
    # When a worker able to run it connects
    worker = FakeWorker(platform.master_url, tenant.worker_key(), capacity=1)
    worker.auth["labels"] = ["craft"]
    await worker.connect()
    try:
        # Then the job fails, saying which secret could not be read, and is never assigned
        done = await asyncio.to_thread(tenant.wait_final, job["id"], 20)
        assert done["status"] == "failed"
        assert done["error"].startswith("secret_unreadable: ODD")
        assert worker.assigned.empty()
    finally:
        await worker.close()
