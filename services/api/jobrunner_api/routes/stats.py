"""`GET /api/v1/stats`: the dashboard's overview, counted in the database, not in the browser."""

import math
from collections import defaultdict
from datetime import datetime, timedelta

from fastapi import APIRouter
from pydantic import BaseModel, Field

from jobrunner_api import metrics
from jobrunner_api.deps import CallerDep
from jobrunner_api.documents import Job
from jobrunner_shared.messages import JobStatus, utcnow

router = APIRouter(tags=["stats"])
MINUTES = 60
# Durations are counted in buckets of a fortieth of a decade: bucket b holds
# [10^(b/40), 10^((b+1)/40)) ms (under 1 ms counts as 1 ms), each 6 % wider than the last, so a
# percentile read as its bucket's geometric middle is within 3 % of the true value.
BUCKETS_PER_DECADE = 40
FAILED = [JobStatus.failed.value, JobStatus.timed_out.value]


class Stats(BaseModel):
    by_status: dict[JobStatus, int] = Field(description="The tenant's jobs in each status.")
    per_minute_since: datetime = Field(description="The start of the first minute below.")
    created_per_minute: list[int] = Field(
        description=f"Jobs created in each of the last {MINUTES} minutes, oldest first; the "
        "last one is the current, partial minute."
    )
    ended_per_minute: list[int] = Field(
        description="Jobs that ended (any final status) in each of those minutes.")
    failed_per_minute: list[int] = Field(
        description="Of those, the jobs that ended failed or timed_out.")
    duration_p50_seconds: list[float | None] = Field(
        description="The median run time (started → finished) of the jobs that ended in each "
        "minute, within 3 %; null for a minute when none that had started ended.")
    duration_p95_seconds: list[float | None] = Field(
        description="The 95th percentile of the same, within 3 %.")


def minute_buckets(counts: dict[int, int], now: datetime) -> tuple[datetime, list[int]]:
    """The last MINUTES minutes (the current one last) from {minutes since start: jobs}."""
    start = minute_start(now)
    return start, [counts.get(minute, 0) for minute in range(MINUTES)]


def minute_start(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0) - timedelta(minutes=MINUTES - 1)


def minute_of(field: str, start: datetime) -> dict:
    """The minute (0 = the first of the hour) of a date field, as the database computes it."""
    return {"$floor": {"$divide": [{"$subtract": [f"${field}", start]}, 60_000]}}


def duration_bucket() -> dict:
    """The job's duration bucket (see BUCKETS_PER_DECADE), null when it never started."""
    ms = {"$max": [{"$subtract": ["$finished_at", "$started_at"]}, 1]}  # log10 needs > 0
    return {"$cond": [{"$gt": ["$started_at", None]},
                      {"$floor": {"$multiply": [{"$log10": ms}, BUCKETS_PER_DECADE]}},
                      None]}


def percentile(histogram: dict[int, int], fraction: float) -> float | None:
    """The value (seconds) at `fraction` of the durations counted in {bucket: jobs}: the
    nearest rank, read as the middle of its bucket."""
    total = sum(histogram.values())
    if not total:
        return None
    rank = max(1, math.ceil(fraction * total))
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            return round(10 ** ((bucket + 0.5) / BUCKETS_PER_DECADE) / 1000, 4)
    raise AssertionError("unreachable: the ranks add up to the total")


async def created_per_minute(tenant_id: str, start: datetime) -> dict[int, int]:
    # Counted by the database, by the index (tenant_id, created_at): at most MINUTES documents
    # come back, however many jobs the hour saw.
    cursor = await Job.get_pymongo_collection().aggregate([
        {"$match": {"tenant_id": tenant_id, "created_at": {"$gte": start}}},
        {"$group": {"_id": minute_of("created_at", start), "jobs": {"$sum": 1}}},
    ])
    return {int(doc["_id"]): doc["jobs"] async for doc in cursor}


async def ended_per_minute(tenant_id: str, start: datetime
                           ) -> tuple[dict[int, int], dict[int, int], dict[int, dict[int, int]]]:
    """Jobs ended, failed, and a histogram of durations, per minute since `start`.

    Why a histogram and not `$percentile`: that needs MongoDB 7 (and the local stand-in has
    none); `$group` by (minute, duration bucket) runs on both and returns at most MINUTES times
    the buckets the hour's durations span (a few dozen), however many jobs ended.
    """
    cursor = await Job.get_pymongo_collection().aggregate([
        # By the index (tenant_id, finished_at, _id).
        {"$match": {"tenant_id": tenant_id, "finished_at": {"$gte": start}}},
        {"$group": {
            "_id": {"minute": minute_of("finished_at", start), "bucket": duration_bucket()},
            "jobs": {"$sum": 1},
            "failed": {"$sum": {"$cond": [{"$in": ["$status", FAILED]}, 1, 0]}},
        }},
    ])
    ended: dict[int, int] = defaultdict(int)
    failed: dict[int, int] = defaultdict(int)
    durations: dict[int, dict[int, int]] = defaultdict(dict)
    async for doc in cursor:
        minute, bucket = int(doc["_id"]["minute"]), doc["_id"].get("bucket")
        ended[minute] += doc["jobs"]
        failed[minute] += doc["failed"]
        if bucket is not None:
            durations[minute][int(bucket)] = doc["jobs"]
    return ended, failed, durations


@router.get("/stats")
async def get_stats(caller: CallerDep) -> Stats:
    by_status = await metrics.jobs_by_status({"tenant_id": caller.tenant_id})
    now = utcnow()
    start = minute_start(now)
    created = await created_per_minute(caller.tenant_id, start)
    ended, failed, durations = await ended_per_minute(caller.tenant_id, start)
    start, created_buckets = minute_buckets(created, now)
    minutes = range(MINUTES)
    return Stats(
        by_status=by_status,
        per_minute_since=start,
        created_per_minute=created_buckets,
        ended_per_minute=[ended.get(m, 0) for m in minutes],
        failed_per_minute=[failed.get(m, 0) for m in minutes],
        duration_p50_seconds=[percentile(durations.get(m, {}), 0.5) for m in minutes],
        duration_p95_seconds=[percentile(durations.get(m, {}), 0.95) for m in minutes],
    )
