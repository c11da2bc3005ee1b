"""A job's life: submission, attempts, and the events that move it between states.

Only the job-events consumer changes a job's state, and that queue has a single active
consumer: one API process at a time, which also takes a per-job lock. So writes to a job never
interleave, and each is a plain update by `_id` of the fields that changed (the one filter
FerretDB v1 answers without scanning the collection). Events of any attempt but the current
one are stale and ignored.
"""

import logging
from collections.abc import Callable

from beanie import PydanticObjectId
from beanie.odm.utils.dump import get_dict
from pymongo.errors import DuplicateKeyError

from jobrunner_api.dispatch import Dispatcher
from jobrunner_api.documents import Attempt, IdempotencyKey, Job
from jobrunner_api.locks import job_lock
from jobrunner_shared.messages import (
    CancelRequested,
    JobFinishedEvent,
    JobSpec,
    JobStartedEvent,
    JobStatus,
)

log = logging.getLogger(__name__)
RETRYABLE = {JobStatus.failed, JobStatus.timed_out}


async def mutate(job_id: PydanticObjectId | str, change: Callable[[Job], bool]) -> Job | None:
    """Load, apply `change` (returns False for no change), write the fields that changed."""
    oid = PydanticObjectId(job_id)
    async with job_lock(str(oid)):
        job = await Job.get(oid)
        if job is None:
            return None
        before = get_dict(job, to_db=True)
        if not change(job):
            return job
        after = get_dict(job, to_db=True)
        changed = {k: v for k, v in after.items() if k != "_id" and before.get(k) != v}
        if changed:
            await Job.get_pymongo_collection().update_one({"_id": oid}, {"$set": changed})
        return job


async def submit(spec: JobSpec, tenant_id: str, dispatcher: Dispatcher,
                 rerun_of: str | None = None) -> tuple[Job, bool]:
    """Store the job, then publish it. Returns (job, created); a repeated key returns the first."""
    job = Job(
        tenant_id=tenant_id,
        name=spec.name,
        command=spec.command,
        argv=spec.argv,
        labels=spec.labels,
        env=spec.env,
        secrets=spec.secrets,
        timeout_seconds=spec.timeout_seconds,
        max_retries=spec.max_retries,
        priority=spec.priority,
        idempotency_key=spec.idempotency_key,
        rerun_of=rerun_of,
    )
    job.id = PydanticObjectId()
    if spec.idempotency_key:
        try:
            await IdempotencyKey(
                id=f"{tenant_id}:{spec.idempotency_key}", job_id=str(job.id)
            ).insert()
        except DuplicateKeyError:
            first = await IdempotencyKey.get(f"{tenant_id}:{spec.idempotency_key}")
            existing = await Job.get(first.job_id) if first else None
            if existing is not None:
                return existing, False
            # The key was taken but its job never stored (a crash in between): take it over.
            if first is not None:
                await first.set({IdempotencyKey.job_id: str(job.id)})
    # Why: stored before anything is published or answered, so an accepted job is never lost.
    await job.insert()
    await dispatcher.publish(job, mask=[])
    return job, True


def _started(event: JobStartedEvent) -> Callable[[Job], bool]:
    def change(job: Job) -> bool:
        if job.attempt != event.attempt or job.status.is_final:
            return False  # stale attempt, or already over
        attempt = job.current
        if attempt.started_at is not None and attempt.worker == event.worker_id:
            return False  # a resent event
        attempt.status = JobStatus.running
        attempt.worker = event.worker_id
        attempt.worker_name = event.worker_name
        attempt.started_at = attempt.started_at or event.at
        job.status = JobStatus.running
        job.worker = event.worker_id
        job.worker_name = event.worker_name
        job.started_at = job.started_at or event.at
        return True

    return change


async def apply_started(event: JobStartedEvent) -> None:
    await mutate(event.job_id, _started(event))


async def apply_cancel(event: CancelRequested) -> Job | None:
    """A queued job ends here; a running one ends when its worker reports it cancelled."""

    def change(job: Job) -> bool:
        if job.tenant_id != event.tenant_id or job.status != JobStatus.queued:
            return False
        # The delivery still in RabbitMQ is dropped by the master: the job is no longer queued.
        job.status = job.current.status = JobStatus.cancelled
        job.finished_at = job.current.finished_at = event.at
        return True

    return await mutate(event.job_id, change)


async def apply_finished(event: JobFinishedEvent, dispatcher: Dispatcher) -> None:
    retry = False

    def change(job: Job) -> bool:
        nonlocal retry
        if job.attempt != event.attempt or job.status.is_final:
            return False
        attempt = job.current
        if attempt.status.is_final:
            return False
        outcome = JobStatus(event.status)
        attempt.status = outcome
        attempt.exit_code = event.exit_code
        attempt.error = event.error
        attempt.last_seq = event.last_seq
        attempt.worker = attempt.worker or event.worker_id
        attempt.worker_name = attempt.worker_name or event.worker_name
        attempt.started_at = attempt.started_at or event.at
        attempt.finished_at = event.at
        job.exit_code = event.exit_code
        job.worker = attempt.worker
        job.worker_name = attempt.worker_name
        failures = sum(1 for a in job.attempts if a.status in RETRYABLE)
        retry = outcome in RETRYABLE and failures <= job.max_retries
        if retry:
            job.attempt += 1
            job.attempts.append(Attempt(number=job.attempt))
            job.status = JobStatus.queued
        else:
            job.status = outcome
            job.finished_at = event.at
        return True

    job = await mutate(event.job_id, change)
    if job is not None and retry:
        log.info("job %s attempt %s %s; retrying", job.id, event.attempt, event.status)
        await dispatcher.publish(job, mask=[])
