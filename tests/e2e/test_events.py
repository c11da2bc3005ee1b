"""`GET /api/v1/events`: the dashboard's live feed of job and worker changes."""

import asyncio

import pytest

from tests.support.platform import Tenant, sse_events

pytestmark = pytest.mark.e2e


async def test_job_and_worker_changes_arrive_live(platform, tenant: Tenant, start_worker) -> None:
    statuses: list[str] = []
    workers: list[str] = []
    other = platform.new_tenant()
    async with tenant.aclient() as client:
        async with sse_events(client, "/events") as events:
            # When a worker comes and a job runs (and another tenant works too)
            await asyncio.sleep(1.5)
            start_worker(tenant.worker_key(), name="evented")
            job = tenant.submit(command="echo hi")
            other.submit(command="echo not-yours", labels=["nobody"])

            async def collect() -> None:
                async for event, _, data in events:
                    if event == "job":
                        assert data["id"] == job["id"], "another tenant's job leaked"
                        statuses.append(data["status"])
                    elif event == "worker":
                        workers.append(f"{data['name']}:{data['status']}")
                    if "succeeded" in statuses and "evented:online" in workers:
                        return

            await asyncio.wait_for(collect(), 30)
    # Then the job's changes arrived in order (a look each second may join some), ending
    # succeeded, and the worker appeared
    order = ["queued", "running", "succeeded"]
    assert statuses[-1] == "succeeded"
    steps = [order.index(s) for s in statuses]
    assert steps == sorted(steps), statuses
    assert "evented:online" in workers
