"""An API that dies between storing a job and publishing it loses nothing (SPEC §6.1)."""

import asyncio
import signal

import aio_pika
import httpx
import pytest
from bson import ObjectId

from jobrunner_shared import names
from tests.support.infra import RabbitMQ
from tests.support.platform import BIN, Tenant
from tests.support.ports import free_port
from tests.support.process import ManagedProcess

pytestmark = pytest.mark.e2e


async def test_a_stored_but_never_published_job_is_published_by_the_sweeper(
    tenant: Tenant, start_worker, pymongo_db, record_counts
) -> None:
    # Given what an API leaves when it dies after the write and before the publish: the job,
    # due to be published, and nothing in RabbitMQ. (Made by copying a stored job's document.)
    template = tenant.submit(command="echo from-the-sweeper", labels=["never-matched"])
    raw = await pymongo_db.jobs.find_one({"_id": ObjectId(template["id"])})
    orphan_id = ObjectId()
    raw.update(_id=orphan_id, labels=["orphan"], publish_due_at=raw["created_at"])
    await pymongo_db.jobs.insert_one(raw)
    # When a worker that can run it is there
    start_worker(tenant.worker_key(), labels="orphan")
    # Then the sweeper publishes it and it runs, once
    done = tenant.wait_final(str(orphan_id), timeout=60)
    assert done["status"] == "succeeded"
    assert [ln["text"] for ln in tenant.all_lines(str(orphan_id))] == ["from-the-sweeper"]
    assert len(done["attempts"]) == 1
    stored = await pymongo_db.jobs.find_one({"_id": orphan_id})
    assert "publish_due_at" not in stored
    record_counts("the state an API leaves when it dies after the write", tenant,
                  [str(orphan_id)], 1)


async def test_a_confirmed_job_is_not_published_again(
    platform, tenant: Tenant, pymongo_db, rabbitmq_url: str
) -> None:
    # Given a job no worker can run, confirmed by RabbitMQ when it was submitted (and marked so
    # in MongoDB a moment later, with the others confirmed meanwhile)
    job = tenant.submit(command="echo once", labels=["nobody-has-this"])
    for _ in range(100):
        stored = await pymongo_db.jobs.find_one({"_id": ObjectId(job["id"])})
        if "publish_due_at" not in stored:
            break
        await asyncio.sleep(0.05)
    assert "publish_due_at" not in stored
    # When the sweeper has looked several times past the publish grace (3 s in tests)
    await asyncio.sleep(5)
    # Then its dispatch queue holds it once
    connection = await aio_pika.connect(rabbitmq_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(
            names.dispatch_queue(stored["tenant_id"], ["nobody-has-this"]), passive=True)
        assert queue.declaration_result.message_count == 1


@pytest.mark.node_wide
async def test_an_api_killed_after_the_write_before_the_confirm_loses_nothing(
    platform, tenant: Tenant, start_worker, rabbitmq: RabbitMQ, record_counts
) -> None:
    # Given a second API process, whose publishes cannot be confirmed (RabbitMQ is stopped)
    port = free_port()
    doomed = ManagedProcess("api-doomed", [str(BIN / "jobrunner-api")],
                            env={**platform.env, "PORT": str(port)},
                            ready_url=f"http://127.0.0.1:{port}/readyz", ready_timeout=60)
    doomed.start()
    try:
        rabbitmq.ctl("stop_app")
        try:
            # When it has stored a job (answered 201: its publish will come from the outbox)...
            response = await asyncio.to_thread(
                httpx.post, f"http://127.0.0.1:{port}/api/v1/jobs",
                json={"command": "echo survived", "labels": ["after-crash"]},
                headers={"Authorization": f"Bearer {tenant.token}"}, timeout=30,
            )
            assert response.status_code == 201, response.text
            job_id = response.json()["id"]
            # ... and is killed before anything reached RabbitMQ
            doomed.proc.send_signal(signal.SIGKILL)
            doomed.proc.wait(10)
        finally:
            rabbitmq.ctl("start_app")
        # Then another API process publishes it, and it runs once
        start_worker(tenant.worker_key(), labels="after-crash")
        done = await asyncio.to_thread(tenant.wait_final, job_id, 90)
        assert done["status"] == "succeeded" and len(done["attempts"]) == 1
        record_counts("the API SIGKILLed after the write, before RabbitMQ confirmed", tenant,
                      [job_id], 1)
    finally:
        doomed.stop()
