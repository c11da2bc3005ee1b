"""What the platform shows a worker running follows the worker, within moments (SPEC §6.5)."""

import asyncio
import time

import pytest

from tests.support.metrics import scrape, value
from tests.support.platform import Tenant

pytestmark = pytest.mark.e2e


async def test_a_capacity_2_worker_is_never_shown_with_more_than_2_running(
    platform, tenant: Tenant, start_worker
) -> None:
    # Given a worker of capacity 2 and twelve jobs of a second queued at once (six seconds of
    # work at least: a loaded machine's slow polls still see it busy)
    start_worker(tenant.worker_key(), name="pair", capacity=2)
    (worker,) = tenant.wait_workers_online(1)
    requeued_before = value(scrape(platform.master_url), "jobrunner_dispatch_requeued_total",
                            reason="no_slot")
    jobs = [tenant.submit(command="sleep 1")["id"] for _ in range(12)]
    # When the API is watched while they run: the worker's row, and its running jobs
    shown_running: list[int] = []
    shown_jobs: list[int] = []
    async with tenant.aclient() as client:
        deadline = time.monotonic() + 90
        while True:
            workers, running = await asyncio.gather(
                client.get("/workers"),
                client.get("/jobs", params={"status": "running", "worker": worker["id"]}))
            shown_running.append(workers.json()[0]["running"])
            shown_jobs.append(len(running.json()["items"]))
            # This worker's own: the tenant is the session's, with earlier tests' jobs
            final = await client.get("/jobs", params={"status": "succeeded", "limit": 50,
                                                      "worker": worker["id"]})
            if len(final.json()["items"]) == len(jobs):
                break
            assert time.monotonic() < deadline, "the jobs did not finish in time"
    # Then it was seen busy, and never with more than its two slots
    assert max(shown_jobs) == 2 and max(shown_running) == 2
    assert max(shown_running + shown_jobs) <= 2
    # And RabbitMQ never handed the master a job for a slot the worker did not have
    after = value(scrape(platform.master_url), "jobrunner_dispatch_requeued_total",
                  reason="no_slot")
    assert after == requeued_before


async def test_short_jobs_on_a_full_worker_are_never_pushed_past_its_slots(
    platform, tenant: Tenant, start_worker
) -> None:
    # Given a worker of capacity 2 and thirty jobs that end at once (each reported as one
    # `job:ran`, its delivery held until then: the session stays full and keeps consuming)
    start_worker(tenant.worker_key(), name="quick-pair", capacity=2)
    tenant.wait_workers_online(1)
    requeued_before = value(scrape(platform.master_url), "jobrunner_dispatch_requeued_total",
                            reason="no_slot")
    jobs = [tenant.submit(command="true")["id"] for _ in range(30)]
    # When they have all run
    finals = [tenant.wait_final(job_id) for job_id in jobs]
    # Then every one succeeded, and RabbitMQ never pushed a delivery the worker had no slot for
    assert [job["status"] for job in finals] == ["succeeded"] * 30
    after = value(scrape(platform.master_url), "jobrunner_dispatch_requeued_total",
                  reason="no_slot")
    assert after == requeued_before
