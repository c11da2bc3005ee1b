"""The overview's per-minute figures (created, ended, failed, durations), counted in MongoDB."""

import math
from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId

from jobrunner_api.routes.stats import (
    BUCKETS_PER_DECADE,
    MINUTES,
    minute_buckets,
    minute_start,
    percentile,
)
from tests.support.platform import Platform, Tenant

NOW = datetime(2026, 1, 1, 12, 30, 42, tzinfo=UTC)


def test_the_hour_ends_with_the_current_minute() -> None:
    start, buckets = minute_buckets({0: 1, MINUTES - 2: 1, MINUTES - 1: 2}, NOW)
    assert start == minute_start(NOW) == datetime(2026, 1, 1, 11, 31, tzinfo=UTC)
    assert len(buckets) == MINUTES
    assert buckets[-1] == 2 and buckets[-2] == 1 and buckets[0] == 1 and sum(buckets) == 4


@pytest.mark.integration
async def test_jobs_fall_into_the_minute_they_were_created_in(tenant: Tenant, pymongo_db) -> None:
    # Given jobs of this tenant created now, a minute ago, 59 minutes ago and two hours ago
    with tenant.client() as client:
        tenant_id = client.get("/me").json()["tenant"]["id"]
    now = datetime.now(UTC)
    ages = [0, 0, 1, MINUTES - 1, 120]
    await pymongo_db.jobs.insert_many([
        {"_id": ObjectId(), "tenant_id": tenant_id, "command": "true", "status": "succeeded",
         "created_at": now - timedelta(minutes=age)} for age in ages])
    # When the overview is read
    with tenant.client() as client:
        stats = client.get("/stats").json()
    # Then each job is in its minute, the current one last, and the old one in none
    buckets = stats["created_per_minute"]
    assert len(buckets) == MINUTES
    # (a minute may turn between the insert and the read: each job lands in one of two)
    assert buckets[-1] + buckets[-2] >= 2
    assert sum(buckets) == 4
    assert stats["by_status"]["succeeded"] == 5


def test_percentiles_from_the_histogram_are_within_3_percent() -> None:
    # Given durations of 1 to 1,000 s, counted in buckets as the database does
    seconds = list(range(1, 1001))
    histogram: dict[int, int] = {}
    for s in seconds:
        bucket = math.floor(math.log10(s * 1000) * BUCKETS_PER_DECADE)
        histogram[bucket] = histogram.get(bucket, 0) + 1
    # Then the nearest-rank percentiles come out within 3 %
    assert percentile(histogram, 0.5) == pytest.approx(500, rel=0.03)
    assert percentile(histogram, 0.95) == pytest.approx(950, rel=0.03)
    assert percentile({}, 0.5) is None
    # One job: both percentiles are its duration
    one = {math.floor(math.log10(1234) * BUCKETS_PER_DECADE): 1}
    assert percentile(one, 0.5) == percentile(one, 0.95) == pytest.approx(1.234, rel=0.03)


@pytest.mark.integration
async def test_jobs_that_ended_count_in_their_minute_with_failures_and_durations(
        tenant: Tenant, platform: Platform, pymongo_db) -> None:
    # Given 20 jobs of this tenant that ended in one minute, running 1 s to 20 s, of which 3
    # failed and 1 timed out; one cancelled before it started; one ended two hours ago; and
    # another tenant's job that ended in the same minute
    with tenant.client() as client:
        tenant_id = client.get("/me").json()["tenant"]["id"]
    with platform.new_tenant().client() as client:
        other_id = client.get("/me").json()["tenant"]["id"]
    end = datetime.now(UTC) - timedelta(minutes=10)
    statuses = ["failed"] * 3 + ["timed_out"] + ["succeeded"] * 16

    def job(tenant: str, status: str, finished: datetime, seconds: float | None) -> dict:
        doc = {"_id": ObjectId(), "tenant_id": tenant, "command": "true", "status": status,
               "created_at": finished - timedelta(minutes=1), "finished_at": finished}
        if seconds is not None:
            doc["started_at"] = finished - timedelta(seconds=seconds)
        return doc

    await pymongo_db.jobs.insert_many(
        [job(tenant_id, status, end, i + 1) for i, status in enumerate(statuses)]
        + [job(tenant_id, "cancelled", end, None),
           job(tenant_id, "failed", end - timedelta(hours=2), 5),
           job(other_id, "failed", end, 99)])

    # When the overview is read
    with tenant.client() as client:
        stats = client.get("/stats").json()

    # Then that minute alone has ended jobs: 21, 4 of them failed (failed + timed out)
    ended = stats["ended_per_minute"]
    assert len(ended) == MINUTES and sum(ended) == 21
    minute = next(i for i, n in enumerate(ended) if n)
    assert ended[minute] == 21 and stats["failed_per_minute"][minute] == 4
    assert sum(stats["failed_per_minute"]) == 4
    # And the durations of those that started: median 10 s, 95th percentile 19 s
    assert stats["duration_p50_seconds"][minute] == pytest.approx(10, rel=0.03)
    assert stats["duration_p95_seconds"][minute] == pytest.approx(19, rel=0.03)
    others = [p for i, p in enumerate(stats["duration_p95_seconds"]) if i != minute]
    assert others == [None] * (MINUTES - 1)
