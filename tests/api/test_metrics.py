"""The API's GET /metrics follows the jobs: log lines, dispatch latency, jobs by status."""

import time

import pytest

from tests.support.metrics import scrape, value, wait_metric
from tests.support.platform import Platform, Tenant

pytestmark = pytest.mark.e2e


def test_a_job_that_waited_for_a_worker_shows_in_the_api_metrics(
    platform: Platform, tenant: Tenant, start_worker
) -> None:
    before = scrape(platform.api_url)
    succeeded = value(before, "jobrunner_jobs", status="succeeded")
    # Given a job that waits at least a second for a worker
    job = tenant.submit(command="for i in 1 2 3 4 5; do echo line $i; done")
    time.sleep(1.2)
    # When a worker comes and runs it
    start_worker(tenant.worker_key())
    assert tenant.wait_final(job["id"])["status"] == "succeeded"
    tenant.all_lines(job["id"])
    after = scrape(platform.api_url)
    # Then its five lines are counted, and its wait is in the dispatch latency histogram
    assert value(after, "jobrunner_log_lines_total") >= value(before, "jobrunner_log_lines_total") + 5
    count = "jobrunner_dispatch_latency_seconds_count"
    assert value(after, count) >= value(before, count) + 1
    waited = (value(after, "jobrunner_dispatch_latency_seconds_sum")
              - value(before, "jobrunner_dispatch_latency_seconds_sum"))
    assert waited >= 1.0
    bucket = "jobrunner_dispatch_latency_seconds_bucket"
    assert value(after, bucket, le="0.5") < value(after, bucket, le="+Inf")
    # And the jobs by status count it among the succeeded within the cache period
    wait_metric(platform.api_url, "jobrunner_jobs", lambda n: n >= succeeded + 1,
                status="succeeded")


def test_a_job_nobody_can_run_is_counted_as_queued(platform: Platform, tenant: Tenant) -> None:
    queued = value(scrape(platform.api_url), "jobrunner_jobs", status="queued")
    job = tenant.submit(command="true", labels=["metrics-nobody-has-this"])
    try:
        wait_metric(platform.api_url, "jobrunner_jobs", lambda n: n >= queued + 1,
                    status="queued")
    finally:
        with tenant.client() as client:
            client.post(f"/jobs/{job['id']}/cancel").raise_for_status()


def test_ends_durations_waits_slots_and_requests_are_measured(
    platform: Platform, tenant: Tenant, start_worker
) -> None:
    before = scrape(platform.api_url)
    # Given a worker of capacity 3, a job that succeeds after ~0.5 s and one that fails
    start_worker(tenant.worker_key(), name="measured", capacity=3)
    tenant.wait_workers_online(1)
    ok = tenant.submit(command="sleep 0.5")
    bad = tenant.submit(command="exit 2")
    for job in (ok, bad):
        tenant.wait_final(job["id"])
    # The consumer counts an end just after it stores it: wait for the count, not the store.
    # Why 0.4 and not 0.5: the start and the end are dated as the master relays them, to the
    # millisecond, and the start's way from the worker may take a few ms longer than the end's.
    duration = "jobrunner_job_duration_seconds_sum"
    wait_metric(platform.api_url, duration,
                lambda n: n >= value(before, duration, status="succeeded") + 0.4,
                status="succeeded")
    wait_metric(platform.api_url, "jobrunner_jobs_finished_total",
                lambda n: n >= value(before, "jobrunner_jobs_finished_total", status="failed") + 1,
                status="failed")
    after = scrape(platform.api_url)

    def grew(name: str, by: float = 1, **labels: str) -> bool:
        return value(after, name, **labels) >= value(before, name, **labels) + by

    # Then each end is counted by status, with its duration, and each wait for a worker
    assert grew("jobrunner_jobs_finished_total", status="succeeded")
    assert grew("jobrunner_jobs_finished_total", status="failed")
    assert grew("jobrunner_job_duration_seconds_count", status="succeeded")
    assert grew("jobrunner_job_duration_seconds_sum", 0.4, status="succeeded")
    assert grew("jobrunner_queue_wait_seconds_count", 2)
    # And the REST requests, by route template (not by job id), method and status class
    assert grew("http_requests_total", 2, handler="/api/v1/jobs", method="POST", status="2xx")
    assert not any(name == "http_requests_total" and ok["id"] in dict(labels).get("handler", "")
                   for name, labels in after)
    # And the slots of the online workers, within the cache period
    wait_metric(platform.api_url, "jobrunner_worker_slots", lambda n: n >= 3, state="total")
