"""The API's Prometheus metrics, served by GET /metrics (routes/health.py).

Labels stay low-cardinality on purpose: no tenant, job or worker ids.
"""

from prometheus_client import Counter, Gauge, Histogram

from jobrunner_api.documents import Job, JobView, Worker
from jobrunner_shared.messages import JobStatus
from jobrunner_shared.throttle import Throttle

LOG_LINES = Counter(
    "jobrunner_log_lines", "Output lines of jobs stored (counted per batch; resends are not counted)."
)
WAIT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)
DISPATCH_LATENCY = Histogram(
    "jobrunner_dispatch_latency_seconds",
    "From an attempt queued (submit or retry, its backoff included) to a worker taking it.",
    buckets=WAIT_BUCKETS,
)
QUEUE_WAIT = Histogram(
    "jobrunner_queue_wait_seconds",
    "From an attempt runnable (queued, or its retry backoff over) to a worker taking it: "
    "work waiting for a worker.",
    buckets=WAIT_BUCKETS,
)
JOB_DURATION = Histogram(
    "jobrunner_job_duration_seconds",
    "From a job's first start to its end, by its final status (retries included).",
    ["status"],
    buckets=(0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600, 4 * 3600, 24 * 3600),
)
JOBS_FINISHED = Counter(
    "jobrunner_jobs_finished", "Jobs that reached a final status, by that status.", ["status"]
)
WORKER_SLOTS = Gauge(
    "jobrunner_worker_slots",
    "Slots of the online workers, all tenants: used (running jobs) and total (capacity); read "
    "from MongoDB at most every METRICS_CACHE_SECONDS.",
    ["state"],
)
WORKERS_ONLINE = Gauge(
    "jobrunner_workers_online", "Workers online (heartbeating, not draining), all tenants.")
FINAL_STATUSES = ("succeeded", "failed", "timed_out", "cancelled")
for _status in FINAL_STATUSES:  # shown at 0 from the start, so rates and ratios work at once
    JOBS_FINISHED.labels(status=_status)
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
    """Set JOBS and the worker gauges, all tenants."""
    for status, count in (await jobs_by_status({})).items():
        JOBS.labels(status=status.value).set(count)
    used = total = online = 0
    # `connected`: the sweeper clears it once a worker is silent for WORKER_OFFLINE_AFTER.
    async for worker in Worker.get_pymongo_collection().find(
            {"connected": True}, {"capacity": 1, "running_jobs": 1, "draining": 1}):
        total += worker.get("capacity", 0)
        used += len(worker.get("running_jobs", []))
        online += not worker.get("draining", False)
    WORKER_SLOTS.labels(state="used").set(used)
    WORKER_SLOTS.labels(state="total").set(total)
    WORKERS_ONLINE.set(online)


def observe_change(before: JobView, after: JobView) -> None:
    """Counts what a change of a job's state tells: a job ended, an attempt was taken."""
    if after.status.is_final and not before.status.is_final:
        JOBS_FINISHED.labels(status=after.status.value).inc()
        if after.started_at is not None and after.finished_at is not None:
            JOB_DURATION.labels(status=after.status.value).observe(
                max(0.0, (after.finished_at - after.started_at).total_seconds()))
    if after.attempt <= len(before.attempts):
        was = before.attempts[after.attempt - 1].assigned_at
        now = after.current.assigned_at
        if was is None and now is not None:
            runnable = after.current.not_before or after.current.queued_at
            QUEUE_WAIT.observe(max(0.0, (now - runnable).total_seconds()))


# Awaited by the /metrics route before it renders: `await JOB_COUNTS(max_age_seconds)`.
JOB_COUNTS = Throttle(count_jobs)
