"""The sweeper's retention (SPEC §6.10): finished jobs and their logs go after JOB_RETENTION_DAYS,
nothing else."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId

from tests.support.platform import Tenant

pytestmark = pytest.mark.e2e


async def test_finished_jobs_past_their_retention_go_with_their_logs(
    tenant: Tenant, pymongo_db
) -> None:
    with tenant.client() as client:
        tenant_id = client.get("/me").json()["tenant"]["id"]
    now = datetime.now(UTC)

    async def job(status: str, ended_days_ago: float | None) -> ObjectId:
        job_id = ObjectId()
        doc = {"_id": job_id, "tenant_id": tenant_id, "command": "true", "status": status,
               "attempt": 1, "attempts": [{"number": 1, "status": status}],
               "created_at": now - timedelta(days=40), "version": 3}
        if ended_days_ago is not None:
            doc["finished_at"] = now - timedelta(days=ended_days_ago)
        await pymongo_db.jobs.insert_one(doc)
        await pymongo_db.log_chunks.insert_one(
            {"_id": f"{job_id}:1:1", "tenant_id": tenant_id, "job_id": str(job_id),
             "attempt": 1, "first_seq": 1, "last_seq": 1, "lines": []})
        return job_id

    # Given finished jobs of 31 and 29 days ago, and a job still running after 40 days
    old = [await job(status, 31) for status in ("succeeded", "failed", "cancelled")]
    recent = await job("succeeded", 29)
    running = await job("running", None)
    # When the sweeper has looked (every second)
    for _ in range(100):
        if not await pymongo_db.jobs.count_documents({"_id": {"$in": old}}):
            break
        await asyncio.sleep(0.1)
    # Then the old finished jobs and their chunks are gone, the others stay
    assert await pymongo_db.jobs.count_documents({"_id": {"$in": old}}) == 0
    assert await pymongo_db.log_chunks.count_documents(
        {"job_id": {"$in": [str(j) for j in old]}}) == 0
    for kept in (recent, running):
        assert await pymongo_db.jobs.find_one({"_id": kept}) is not None
        assert await pymongo_db.log_chunks.find_one({"job_id": str(kept)}) is not None
    with tenant.client() as client:
        assert client.get(f"/jobs/{old[0]}").status_code == 404
