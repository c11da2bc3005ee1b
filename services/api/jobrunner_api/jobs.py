"""A job's life: submission, attempts, and the events that move it between states.

Only the job-events consumer changes a job's state, and that queue has a single active
consumer: one API process at a time, which also takes a per-job lock. So writes to a job never
interleave, and each is a plain update by `_id` of the fields that changed (the one filter
FerretDB v1 answers without scanning the collection). Events of any attempt but the current
one are stale and ignored.
"""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from beanie import PydanticObjectId
from beanie.odm.utils.dump import get_dict
from pymongo.errors import DuplicateKeyError

from jobrunner_api import metrics, secretstore
from jobrunner_api.dispatch import Dispatcher
from jobrunner_api.documents import Attempt, IdempotencyKey, Job
from jobrunner_api.locks import job_lock
from jobrunner_shared.messages import (
    AttemptExpired,
    AttemptUnrunnable,
    CancelAttempt,
    CancelRequested,
    JobAssignedEvent,
    JobFinishedEvent,
    JobSpec,
    JobStartedEvent,
    JobStatus,
    utcnow,
)

log = logging.getLogger(__name__)
RETRYABLE = {JobStatus.failed, JobStatus.timed_out}
WORKER_LOST = "worker_lost"
MAX_LOST_ATTEMPTS = 3  # after this many attempts lost with their worker, the job fails
IDEMPOTENCY_WAIT_TRIES = 30


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
        job.updated_at = utcnow()
        after = get_dict(job, to_db=True)
        changed = {k: v for k, v in after.items() if k != "_id" and before.get(k) != v}
        if changed:
            await Job.get_pymongo_collection().update_one({"_id": oid}, {"$set": changed})
        return job


class InvalidSubmission(Exception):
    """A job that is valid in itself but cannot be accepted for its tenant (REST: 422)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def submit(spec: JobSpec, tenant_id: str, dispatcher: Dispatcher,
                 rerun_of: str | None = None) -> tuple[Job, bool]:
    """Store the job, then publish it. Returns (job, created); a repeated key returns the first.

    Raises InvalidSubmission for a secret the tenant does not have.
    """
    job = Job(tenant_id=tenant_id, rerun_of=rerun_of, **spec.model_dump())
    job.id = PydanticObjectId()
    if spec.idempotency_key:
        try:
            await IdempotencyKey(
                id=f"{tenant_id}:{spec.idempotency_key}", job_id=str(job.id)
            ).insert()
        except DuplicateKeyError:
            existing = await _first_with_key(f"{tenant_id}:{spec.idempotency_key}")
            if existing is not None:
                return existing, False
            # The key was taken but its job never stored (its submitter died): take it over.
            await IdempotencyKey.find_one(
                IdempotencyKey.id == f"{tenant_id}:{spec.idempotency_key}"
            ).update({"$set": {"job_id": str(job.id)}})
    # Checked after the idempotency key, so that a repeat still gets the first job even if a
    # secret has gone since.
    sealed, unknown = await secretstore.sealed(tenant_id, spec.secrets)
    if unknown:
        if spec.idempotency_key:
            # Why: the key must not point at a job never stored; a corrected resend takes it.
            await IdempotencyKey.get_pymongo_collection().delete_one(
                {"_id": f"{tenant_id}:{spec.idempotency_key}", "job_id": str(job.id)}
            )
        raise InvalidSubmission(
            f"secrets: unknown secret {', '.join(unknown)} (set it first: "
            f"PUT /api/v1/secrets/{unknown[0]})"
        )
    # Why: recorded, then stored, before anything is published or answered: a job that got
    # its 201 is published, now or by the sweeper once RabbitMQ is back.
    await dispatcher.record(str(job.id), job.attempt)
    await job.insert()
    await dispatcher.publish(job, sealed=sealed)  # read just now: not again
    return job, True


async def _first_with_key(key: str) -> Job | None:
    """The job first submitted with an idempotency key, waiting a moment for one in flight."""
    for _ in range(IDEMPOTENCY_WAIT_TRIES):
        first = await IdempotencyKey.get(key)
        job = await Job.get(PydanticObjectId(first.job_id)) if first else None
        if job is not None:
            return job
        # Why: the first submission may have taken the key and not stored its job yet.
        await asyncio.sleep(0.1)
    return None


@dataclass
class Outcome:
    """What the caller must do after an event was applied."""

    job: Job | None = None
    republish: bool = False  # a new attempt was made: publish it
    cancel: list[CancelAttempt] = field(default_factory=list)  # attempts to stop on workers


def _is_stale(job: Job, attempt: int) -> bool:
    return attempt != job.attempt or job.status.is_final


def _stop_stale(job: Job, event: JobAssignedEvent | JobStartedEvent) -> Outcome:
    # Why: a worker that comes back with an attempt the platform gave up on must kill it.
    cancel = CancelAttempt(tenant_id=job.tenant_id, job_id=event.job_id, attempt=event.attempt,
                           worker_id=event.worker_id)
    return Outcome(job=job, cancel=[cancel])


async def apply_assigned(event: JobAssignedEvent) -> Outcome:
    stale = False

    def change(job: Job) -> bool:
        nonlocal stale
        if _is_stale(job, event.attempt):
            stale = True
            return False
        attempt = job.current
        if attempt.worker is not None and attempt.worker != event.worker_id:
            stale = True  # a second delivery of the same attempt reached another worker
            return False
        if attempt.assigned_at is not None:
            return False
        attempt.worker, attempt.worker_name = event.worker_id, event.worker_name
        attempt.assigned_at = event.at
        metrics.DISPATCH_LATENCY.observe((event.at - attempt.queued_at).total_seconds())
        return True

    job = await mutate(event.job_id, change)
    return _stop_stale(job, event) if job is not None and stale else Outcome(job=job)


async def apply_started(event: JobStartedEvent) -> Outcome:
    stale = False

    def change(job: Job) -> bool:
        nonlocal stale
        if _is_stale(job, event.attempt):
            stale = True
            return False
        attempt = job.current
        if attempt.worker not in (None, event.worker_id):
            stale = True  # the same attempt started twice: keep the first worker's
            return False
        if attempt.started_at is not None:
            return False  # a resent event
        attempt.status = JobStatus.running
        attempt.worker, attempt.worker_name = event.worker_id, event.worker_name
        attempt.assigned_at = attempt.assigned_at or event.at
        attempt.started_at = event.at
        job.status = JobStatus.running
        job.worker, job.worker_name = event.worker_id, event.worker_name
        job.started_at = job.started_at or event.at
        return True

    job = await mutate(event.job_id, change)
    return _stop_stale(job, event) if job is not None and stale else Outcome(job=job)


async def apply_cancel(event: CancelRequested) -> Outcome:
    """A queued job ends here; a running one ends when its worker reports it cancelled."""

    def change(job: Job) -> bool:
        if job.tenant_id != event.tenant_id or job.status != JobStatus.queued:
            return False
        # The delivery still in RabbitMQ is dropped by the master: the job is no longer queued.
        job.status = job.current.status = JobStatus.cancelled
        job.finished_at = job.current.finished_at = event.at
        return True

    job = await mutate(event.job_id, change)
    if job is None or job.tenant_id != event.tenant_id:
        return Outcome()
    # A running (or just assigned) attempt is stopped by its worker, which then reports it.
    cancel = CancelAttempt(tenant_id=job.tenant_id, job_id=event.job_id, attempt=job.attempt)
    return Outcome(job=job, cancel=[cancel])


def _end_attempt(job: Job, outcome: JobStatus, at: datetime, error: str | None) -> bool:
    """Close the current attempt; returns whether a new attempt was made."""
    attempt = job.current
    attempt.status = outcome
    attempt.error = error
    attempt.finished_at = at
    job.exit_code = attempt.exit_code
    job.worker, job.worker_name = attempt.worker, attempt.worker_name
    lost = sum(1 for a in job.attempts if a.error == WORKER_LOST)
    failures = sum(1 for a in job.attempts if a.status in RETRYABLE and a.error != WORKER_LOST)
    if error == WORKER_LOST:
        # A lost worker is not the job's fault: it does not use up max_retries.
        retry = lost < MAX_LOST_ATTEMPTS
    else:
        retry = outcome in RETRYABLE and failures <= job.max_retries
    if retry:
        job.attempt += 1
        job.attempts.append(Attempt(number=job.attempt))
        job.status = JobStatus.queued
    else:
        job.status = outcome
        job.error = error
        job.finished_at = at
    return retry


async def apply_finished(event: JobFinishedEvent) -> Outcome:
    retry = False

    def change(job: Job) -> bool:
        nonlocal retry
        if _is_stale(job, event.attempt) or job.current.status.is_final:
            return False
        attempt = job.current
        if attempt.worker not in (None, event.worker_id):
            return False  # the copy that was told to stop
        attempt.exit_code = event.exit_code
        attempt.last_seq = event.last_seq
        attempt.log_truncated = event.log_truncated
        job.log_truncated = job.log_truncated or event.log_truncated
        attempt.worker = attempt.worker or event.worker_id
        attempt.worker_name = attempt.worker_name or event.worker_name
        attempt.started_at = attempt.started_at or event.at
        retry = _end_attempt(job, JobStatus(event.status), event.at, event.error)
        return True

    job = await mutate(event.job_id, change)
    if job is not None and retry:
        log.info("job %s attempt %s %s; retrying", job.id, event.attempt, event.status)
    return Outcome(job=job, republish=retry)


async def apply_expired(event: AttemptExpired) -> Outcome:
    """The lease or the timeout of an attempt ran out without a report from its worker."""
    retry = False

    def change(job: Job) -> bool:
        nonlocal retry
        if _is_stale(job, event.attempt) or job.tenant_id != event.tenant_id:
            return False
        if event.reason == "timeout":
            retry = _end_attempt(job, JobStatus.timed_out, event.at, "timeout_backstop")
        else:
            retry = _end_attempt(job, JobStatus.failed, event.at, WORKER_LOST)
        return True

    job = await mutate(event.job_id, change)
    if job is None or job.tenant_id != event.tenant_id:
        return Outcome()
    log.warning("job %s attempt %s expired (%s)", job.id, event.attempt, event.reason)
    # If the worker is alive after all, it must stop the attempt.
    cancel = CancelAttempt(tenant_id=job.tenant_id, job_id=event.job_id, attempt=event.attempt)
    return Outcome(job=job, republish=retry, cancel=[cancel])


async def apply_unrunnable(event: AttemptUnrunnable) -> Outcome:
    """An attempt that cannot run (a secret gone or unreadable) ends the job: failed, no retry.

    Only while no worker took it: an attempt a worker runs already ends by its own report.
    """

    ended = False

    def change(job: Job) -> bool:
        nonlocal ended
        if _is_stale(job, event.attempt) or job.tenant_id != event.tenant_id:
            return False
        attempt = job.current
        if job.status != JobStatus.queued or attempt.worker is not None:
            return False
        attempt.status = job.status = JobStatus.failed
        attempt.error = job.error = event.error
        attempt.finished_at = job.finished_at = event.at
        ended = True
        return True

    job = await mutate(event.job_id, change)
    if ended:
        log.warning("job %s attempt %s cannot run: %s", event.job_id, event.attempt, event.error)
    return Outcome(job=job)
