"""An API that dies between storing a job and publishing it loses nothing (SPEC §6.1)."""

import asyncio
import signal

import httpx
import pytest
from bson import ObjectId

from tests.support.infra import RabbitMQ
from tests.support.platform import BIN, Tenant
from tests.support.ports import free_port
from tests.support.process import ManagedProcess

pytestmark = pytest.mark.e2e


async def test_a_stored_but_never_published_job_is_published_by_the_sweeper(
    tenant: Tenant, start_worker, pymongo_db, record_counts
) -> None:
    # Given what an API leaves when it dies after the write and before the publish: the job
    # and its outbox entry, and nothing in RabbitMQ. (Made by copying a stored job's document.)
    template = tenant.submit(command="echo from-the-outbox", labels=["never-matched"])
    raw = await pymongo_db.jobs.find_one({"_id": ObjectId(template["id"])})
    orphan_id = ObjectId()
    raw.update(_id=orphan_id, labels=["outbox"])
    await pymongo_db.outbox.insert_one(
        {"_id": f"{orphan_id}:1", "job_id": str(orphan_id), "attempt": 1,
         "created_at": raw["created_at"]}
    )
    await pymongo_db.jobs.insert_one(raw)
    # When a worker that can run it is there
    start_worker(tenant.worker_key(), labels="outbox")
    # Then the sweeper publishes it and it runs, once
    done = tenant.wait_final(str(orphan_id), timeout=60)
    assert done["status"] == "succeeded"
    assert [ln["text"] for ln in tenant.all_lines(str(orphan_id))] == ["from-the-outbox"]
    assert len(done["attempts"]) == 1
    assert await pymongo_db.outbox.find_one({"_id": f"{orphan_id}:1"}) is None
    record_counts("the state an API leaves when it dies after the write", tenant,
                  [str(orphan_id)], 1)


async def test_an_outbox_entry_whose_job_was_never_stored_is_dropped(
    tenant: Tenant, pymongo_db
) -> None:
    # The API died after recording the attempt but before storing the job: nothing to run.
    ghost = ObjectId()
    await pymongo_db.outbox.insert_one(
        {"_id": f"{ghost}:1", "job_id": str(ghost), "attempt": 1,
         "created_at": ghost.generation_time}
    )
    for _ in range(100):
        if await pymongo_db.outbox.find_one({"_id": f"{ghost}:1"}) is None:
            break
        await asyncio.sleep(0.1)
    assert await pymongo_db.outbox.find_one({"_id": f"{ghost}:1"}) is None
    with tenant.client() as client:
        assert client.get(f"/jobs/{ghost}").status_code == 404


async def test_workers_gone_for_long_are_forgotten(tenant: Tenant, pymongo_db) -> None:
    from datetime import UTC, datetime, timedelta

    with tenant.client() as client:
        tenant_id = client.get("/me").json()["tenant"]["id"]
    long_ago = datetime.now(UTC) - timedelta(days=2)
    await pymongo_db.workers.insert_one(
        {"_id": "gone-worker", "tenant_id": tenant_id, "name": "gone", "labels": [],
         "capacity": 1, "running_jobs": [], "connected": False, "draining": False,
         "version": "", "hostname": "", "last_heartbeat": long_ago}
    )
    for _ in range(100):
        if await pymongo_db.workers.find_one({"_id": "gone-worker"}) is None:
            break
        await asyncio.sleep(0.1)
    assert await pymongo_db.workers.find_one({"_id": "gone-worker"}) is None


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
