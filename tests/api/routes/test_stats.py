"""The overview's jobs-per-minute buckets, counted by the database."""

from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId

from jobrunner_api.routes.stats import MINUTES, minute_buckets, minute_start
from tests.support.platform import Tenant

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
