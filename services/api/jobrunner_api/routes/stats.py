"""`GET /api/v1/stats`: the dashboard's overview, counted in the database, not in the browser."""

from datetime import datetime, timedelta

from bson import ObjectId
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


def minute_buckets(created: list[datetime], now: datetime) -> tuple[datetime, list[int]]:
    """Counts per minute over the last MINUTES minutes (the current one last)."""
    start = now.replace(second=0, microsecond=0) - timedelta(minutes=MINUTES - 1)
    buckets = [0] * MINUTES
    for at in created:
        index = int((at - start).total_seconds() // 60)
        if 0 <= index < MINUTES:
            buckets[index] += 1
    return start, buckets


@router.get("/stats")
async def get_stats(caller: CallerDep) -> Stats:
    by_status = await metrics.jobs_by_status({"tenant_id": caller.tenant_id})
    now = utcnow()
    # A job's _id holds its creation time: the index (tenant_id, _id) alone answers this.
    first = ObjectId.from_datetime(now - timedelta(minutes=MINUTES))
    recent = Job.get_pymongo_collection().find(
        {"tenant_id": caller.tenant_id, "_id": {"$gte": first}}, projection={"_id": True})
    start, buckets = minute_buckets([doc["_id"].generation_time async for doc in recent], now)
    return Stats(by_status=by_status, per_minute_since=start, created_per_minute=buckets)
