"""The master's GET /metrics: connected workers, worker events, jobs waiting in RabbitMQ."""

import pytest

from jobrunner_shared import names
from tests.support.metrics import scrape, value, wait_metric
from tests.support.platform import Platform, Tenant

pytestmark = pytest.mark.e2e


def test_a_connected_worker_and_its_events_show_in_the_master_metrics(
    platform: Platform, tenant: Tenant, start_worker
) -> None:
    before = scrape(platform.master_url)
    connected = value(before, "jobrunner_connected_workers")
    # Given a connected worker
    worker = start_worker(tenant.worker_key())
    tenant.wait_workers_online(1)
    assert value(scrape(platform.master_url), "jobrunner_connected_workers") >= connected + 1
    # When it runs a short job (reported in one event) and a longer one, both with output
    for command in ("echo hello", "echo hello; sleep 1; echo bye"):
        job = tenant.submit(command=command)
        assert tenant.wait_final(job["id"])["status"] == "succeeded"
        tenant.all_lines(job["id"])
    # Then each kind of event it sent is counted
    after = scrape(platform.master_url)
    for event in (names.EV_JOB_RAN, names.EV_JOB_STARTED, names.EV_JOB_LOG,
                  names.EV_JOB_FINISHED, names.EV_HEARTBEAT):
        total = "jobrunner_worker_events_total"
        assert value(after, total, event=event) >= value(before, total, event=event) + 1, event
    # And once it is gone, it is no longer counted as connected
    worker.stop()
    wait_metric(platform.master_url, "jobrunner_connected_workers", lambda n: n <= connected)


def test_jobs_waiting_for_a_worker_show_as_queue_depth(platform: Platform, tenant: Tenant) -> None:
    depth = value(scrape(platform.master_url), "jobrunner_queue_depth")
    # Given two jobs only a worker with a label nobody has could run
    jobs = [tenant.submit(command="true", labels=["metrics-depth-nobody"]) for _ in range(2)]
    try:
        # Then they wait in their dispatch queue, and the master shows them within its cache period
        wait_metric(platform.master_url, "jobrunner_queue_depth", lambda n: n >= depth + 2)
        assert value(scrape(platform.master_url), "jobrunner_dispatch_queues") >= 1
    finally:
        with tenant.client() as client:
            for job in jobs:
                client.post(f"/jobs/{job['id']}/cancel").raise_for_status()
