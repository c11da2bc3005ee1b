"""A job's life: submission, attempts, and the events that move it between states.

Every change is a compare-and-set on `Job.version`, so concurrent consumers and API calls
never overwrite each other. Events of any attempt but the current one are stale and ignored.
"""

import logging
from collections.abc import Callable

from beanie import PydanticObjectId
from beanie.exceptions import DocumentNotFound
from pymongo.errors import DuplicateKeyError

from jobrunner_api.dispatch import Dispatcher
from jobrunner_api.documents import Attempt, IdempotencyKey, Job
from jobrunner_api.locks import job_lock
from jobrunner_shared.messages import (
    JobFinishedEvent,
    JobSpec,
    JobStartedEvent,
    JobStatus,
)

log = logging.getLogger(__name__)
RETRYABLE = {JobStatus.failed, JobStatus.timed_out}


async def mutate(job_id: PydanticObjectId | str, change: Callable[[Job], bool]) -> Job | None:
    """Load, apply `change` (returns False for no-op), write back if nobody else wrote first."""
    oid = PydanticObjectId(job_id)
    async with job_lock(str(oid)):
        while True:
            job = await Job.get(oid)
            if job is None:
                return None
            if not change(job):
                return job
            old = job.version
            job.version = old + 1
            try:
                await Job.find_one(Job.id == job.id, Job.version == old).replace_one(job)
                return job
            except DocumentNotFound:
                continue  # another process changed it first: re-read and re-apply


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
    job.published = True
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
            job.log_lines = 0
            job.published = False
        else:
            job.status = outcome
            job.finished_at = event.at
        return True

    job = await mutate(event.job_id, change)
    if job is not None and retry:
        log.info("job %s attempt %s %s; retrying", job.id, event.attempt, event.status)
        await dispatcher.publish(job, mask=[])
