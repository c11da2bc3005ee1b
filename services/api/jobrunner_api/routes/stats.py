"""`GET /api/v1/stats`: the dashboard's overview, counted in the database, not in the browser."""

from datetime import datetime, timedelta

from fastapi import APIRouter
from pydantic import BaseModel, Field

from jobrunner_api import metrics
from jobrunner_api.deps import CallerDep
from jobrunner_api.documents import Job
from jobrunner_shared.messages import JobStatus, utcnow

router = APIRouter(tags=["stats"])
MINUTES = 60


class Stats(BaseModel):
    by_status: dict[JobStatus, int] = Field(description="The tenant's jobs in each status.")
    per_minute_since: datetime = Field(description="The start of the first minute below.")
    created_per_minute: list[int] = Field(
        description=f"Jobs created in each of the last {MINUTES} minutes, oldest first; the "
        "last one is the current, partial minute."
    )


def minute_buckets(counts: dict[int, int], now: datetime) -> tuple[datetime, list[int]]:
    """The last MINUTES minutes (the current one last) from {minutes since start: jobs}."""
    start = minute_start(now)
    return start, [counts.get(minute, 0) for minute in range(MINUTES)]


def minute_start(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0) - timedelta(minutes=MINUTES - 1)


@router.get("/stats")
async def get_stats(caller: CallerDep) -> Stats:
    by_status = await metrics.jobs_by_status({"tenant_id": caller.tenant_id})
    now = utcnow()
    start = minute_start(now)
    # Counted by the database, by the index (tenant_id, created_at): at most MINUTES documents
    # come back, however many jobs the hour saw.
    cursor = await Job.get_pymongo_collection().aggregate([
        {"$match": {"tenant_id": caller.tenant_id, "created_at": {"$gte": start}}},
        {"$group": {
            "_id": {"$floor": {"$divide": [{"$subtract": ["$created_at", start]}, 60_000]}},
            "jobs": {"$sum": 1},
        }},
    ])
    counts = {int(doc["_id"]): doc["jobs"] async for doc in cursor}
    start, buckets = minute_buckets(counts, now)
    return Stats(by_status=by_status, per_minute_since=start, created_per_minute=buckets)
