"""The API's Prometheus metrics, served by GET /metrics (routes/health.py).

Labels stay low-cardinality on purpose: no tenant, job or worker ids.
"""

from prometheus_client import Counter, Gauge, Histogram

from jobrunner_api.documents import Job
from jobrunner_shared.messages import JobStatus
from jobrunner_shared.throttle import Throttle

LOG_LINES = Counter(
    "jobrunner_log_lines", "Output lines of jobs stored (counted per batch; resends are not counted)."
)
DISPATCH_LATENCY = Histogram(
    "jobrunner_dispatch_latency_seconds",
    "From an attempt queued (submit or retry) to a worker taking it.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
)
EVENT_STREAMS = Gauge(
    "jobrunner_event_streams", "Open GET /api/v1/events streams in this API process."
)
JOBS = Gauge(
    "jobrunner_jobs",
    "Jobs by status, all tenants (read from MongoDB at most every METRICS_CACHE_SECONDS).",
    ["status"],
)


async def jobs_by_status(match: dict) -> dict[JobStatus, int]:
    """How many jobs matching `match` are in each status: one count per status, each by the
    index (tenant_id, status, _id), or (status) for all tenants."""
    collection = Job.get_pymongo_collection()
    return {status: await collection.count_documents({**match, "status": status.value})
            for status in JobStatus}


async def count_jobs() -> None:
    """Set JOBS, all tenants."""
    for status, count in (await jobs_by_status({})).items():
        JOBS.labels(status=status.value).set(count)


# Awaited by the /metrics route before it renders: `await JOB_COUNTS(max_age_seconds)`.
JOB_COUNTS = Throttle(count_jobs)
