"""A job's state machine: pure functions from (job, event) to the change to apply.

Nothing here touches a server. Each function looks at a job as it was read and returns a
`Decision`: the MongoDB update that moves it (None for a duplicate or stale report, which
changes nothing) and what must follow (stop stale copies on workers, publish a new attempt).
`jobstore.Jobs.apply` writes the update only to the version of the job it was decided on, so
when two processes decide at once, one wins and the other reads again and decides again.

    queued ──assigned──► queued (a worker holds it) ──started──► running ──finished──► final
       │  └─────────────────────────ran (a short attempt: both at once)────────────────┘
       │                                                            │
       └──cancel──► cancelled         lease or timeout ran out ─────┴──► final, or queued again

A retry (max_retries) or a lost worker queues a new attempt: a new number, and every report of
another attempt is stale from then on.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from jobrunner_api.documents import Attempt, JobView
from jobrunner_api.updates import apply_update, merge
from jobrunner_shared.messages import (
    AttemptUnrunnable,
    CancelAttempt,
    JobAssignedEvent,
    JobFinishedEvent,
    JobRanEvent,
    JobStartedEvent,
    JobStatus,
)

RETRYABLE = frozenset({JobStatus.failed, JobStatus.timed_out})
WORKER_LOST = "worker_lost"
TIMEOUT_BACKSTOP = "timeout_backstop"
MAX_LOST_ATTEMPTS = 3  # after this many attempts lost with their worker, the job fails


@dataclass(frozen=True)
class Timing:
    """The settings that decisions depend on."""

    lease_seconds: float = 20.0
    timeout_grace_seconds: float = 15.0
    # A new attempt not confirmed by RabbitMQ this long after it was queued is published again.
    publish_grace_seconds: float = 10.0


@dataclass
class Decision:
    update: dict[str, Any] | None = None  # None: nothing to change
    cancel: list[CancelAttempt] = field(default_factory=list)  # copies to stop on workers
    publish: bool = False  # a new attempt was queued: publish it


# A transition bound to its event: what jobstore.Jobs.apply calls with the job as it is stored.
Decide = Callable[[JobView], Decision]


class _Update:
    """Builds one MongoDB update document; every change bumps the version (the applier stamps
    `updated_at`: these functions know no clock)."""

    def __init__(self) -> None:
        self.sets: dict[str, Any] = {}
        self.unsets: list[str] = []

    def set(self, **fields: Any) -> "_Update":
        self.sets.update(fields)
        return self

    def attempt(self, job: JobView, **fields: Any) -> "_Update":
        """Fields of the current attempt, by their dotted paths (never the whole array: the log
        consumer `$inc`s the attempt's log_lines at the same time)."""
        for name, value in fields.items():
            self.sets[JobView.attempt_field(job.attempt, name)] = value
        return self

    def unset(self, *fields: str) -> "_Update":
        self.unsets.extend(fields)
        return self

    def done(self) -> dict[str, Any]:
        update: dict[str, Any] = {"$inc": {"version": 1}}
        if self.sets:
            update["$set"] = self.sets
        if self.unsets:
            update["$unset"] = {name: "" for name in self.unsets}
        return update


def _stale(job: JobView, attempt: int) -> bool:
    return attempt != job.attempt or job.status.is_final


def _stop(job: JobView, attempt: int, worker_id: str | None) -> list[CancelAttempt]:
    return [CancelAttempt(tenant_id=job.tenant_id, job_id=str(job.id), attempt=attempt,
                          worker_id=worker_id)]


def _lease(worker_id: str, at: datetime, timing: Timing) -> dict[str, Any]:
    expires = at + timedelta(seconds=timing.lease_seconds)
    return {"worker": worker_id, "expires_at": expires, "renewed_at": at}


def assigned(job: JobView, event: JobAssignedEvent, timing: Timing) -> Decision:
    """A worker took the attempt: from now on its lease covers it."""
    if _stale(job, event.attempt):
        # Why: a worker that took an attempt the platform gave up on must not run it.
        return Decision(cancel=_stop(job, event.attempt, event.worker_id))
    current = job.current
    if current.worker is not None and current.worker != event.worker_id:
        # A second delivery of the same attempt reached another worker: the first one keeps it.
        return Decision(cancel=_stop(job, event.attempt, event.worker_id))
    if current.assigned_at is not None:
        return Decision()  # a resent event
    update = _Update().attempt(job, worker=event.worker_id, worker_name=event.worker_name,
                               assigned_at=event.at)
    update.set(lease=_lease(event.worker_id, event.at, timing)).unset("publish_due_at")
    return Decision(update.done())


def started(job: JobView, event: JobStartedEvent, timing: Timing) -> Decision:
    if _stale(job, event.attempt):
        return Decision(cancel=_stop(job, event.attempt, event.worker_id))
    current = job.current
    if current.worker not in (None, event.worker_id):
        # The same attempt started twice: the first worker's copy is the one that counts.
        return Decision(cancel=_stop(job, event.attempt, event.worker_id))
    if current.started_at is not None:
        return Decision()  # a resent event
    update = _Update().attempt(
        job, status=JobStatus.running, worker=event.worker_id, worker_name=event.worker_name,
        assigned_at=current.assigned_at or event.at, started_at=event.at,
    )
    update.set(status=JobStatus.running, worker=event.worker_id, worker_name=event.worker_name,
               started_at=job.started_at or event.at)
    if job.lease is None or job.lease.worker != event.worker_id:
        update.set(lease=_lease(event.worker_id, event.at, timing))
    # A started attempt is in no queue any more: the sweeper must not publish it again.
    update.unset("publish_due_at")
    if job.timeout_seconds:
        deadline = timedelta(seconds=job.timeout_seconds + timing.timeout_grace_seconds)
        update.set(timeout_at=event.at + deadline)  # then the platform ends it (timeout_backstop)
    return Decision(update.done())


def finished(job: JobView, event: JobFinishedEvent, timing: Timing) -> Decision:
    if _stale(job, event.attempt) or job.current.status.is_final:
        return Decision()  # the worker ended it already: nothing to stop
    current = job.current
    if current.worker not in (None, event.worker_id):
        return Decision()  # the copy that was told to stop
    worker = current.worker or event.worker_id
    worker_name = current.worker_name or event.worker_name
    update = _Update().attempt(
        job, exit_code=event.exit_code, last_seq=event.last_seq,
        log_truncated=event.log_truncated, worker=worker, worker_name=worker_name,
        started_at=current.started_at or event.at,
    )
    if event.log_truncated:
        update.set(log_truncated=True)
    update.set(exit_code=event.exit_code, worker=worker, worker_name=worker_name)
    return _end(job, update, JobStatus(event.status), event.at, event.error, timing)


def ran(job: JobView, event: JobRanEvent, timing: Timing, new_lines: int = 0) -> Decision:
    """A short attempt's start and end, reported together: the two transitions as one update
    (the start dated by the attempt's duration, the end by the event).

    `new_lines`: lines of the event just stored (not before): counted on the attempt in the
    same update, or alone when the report changes nothing else (stale, or ended already).
    """
    fields = event.model_dump(exclude={"kind", "at"})
    start = started(job, JobStartedEvent(**fields, at=event.started_at()), timing)
    if start.update is None and start.cancel:
        return _counted(Decision(), job, event.attempt, new_lines)  # stale: nothing to stop
    after = job
    if start.update is not None:
        after = JobView.model_validate(apply_update(job.model_dump(by_alias=True), start.update))
    end = finished(after, JobFinishedEvent(**fields, at=event.at), timing)
    updates = [u for u in (start.update, end.update) if u is not None]
    update = merge(updates) if updates else None
    if updates and update is None:  # pragma: no cover - the two never write one path twice
        raise ValueError(f"job {job.id}: the start and end of attempt {event.attempt} collide")
    return _counted(Decision(update, cancel=end.cancel, publish=end.publish), job,
                    event.attempt, new_lines)


def _counted(decision: Decision, job: JobView, attempt: int, lines: int) -> Decision:
    """The decision, also counting `lines` newly stored lines on the attempt ($inc: no other
    change writes that field, so it needs no new version of its own)."""
    if not lines or attempt > len(job.attempts):
        return decision
    count = {JobView.attempt_field(attempt, "log_lines"): lines}
    update = dict(decision.update or {})
    update["$inc"] = {**update.get("$inc", {}), **count}
    decision.update = update
    return decision


def cancel_requested(job: JobView, at: datetime) -> Decision:
    """A queued job ends here; a running one when its worker reports it cancelled."""
    if job.status.is_final:
        return Decision()
    # Whatever worker holds or runs the attempt stops it (a queued delivery is dropped by the
    # master: the job is no longer queued when it comes).
    stop = _stop(job, job.attempt, None)
    if job.status != JobStatus.queued:
        return Decision(cancel=stop)
    update = _Update().attempt(job, status=JobStatus.cancelled, finished_at=at)
    update.set(status=JobStatus.cancelled, finished_at=at).unset("lease", "publish_due_at")
    return Decision(update.done(), cancel=stop)


def lease_expired(job: JobView, now: datetime, timing: Timing, *, attempt: int | None = None) -> Decision:
    """The worker holding the attempt went away (disconnected, or silent for a lease).

    `attempt`: only that attempt (an AttemptExpired event of an older API); otherwise only when
    the job's lease really ran out by `now`, as the sweeper read it.
    """
    if job.status.is_final:
        return Decision()
    if attempt is not None:
        if attempt != job.attempt:
            return Decision()
    elif job.lease is None or job.lease.expires_at > now:
        return Decision()  # renewed since the sweeper looked
    holder = job.lease.worker if job.lease else job.current.worker
    update = _Update()
    decision = _end(job, update, JobStatus.failed, now, WORKER_LOST, timing)
    # If the worker is alive after all, it must stop the attempt.
    decision.cancel = _stop(job, job.attempt, holder)
    return decision


def timed_out(job: JobView, now: datetime, timing: Timing, *, attempt: int | None = None) -> Decision:
    """The attempt overran its timeout and its worker did not end it: the platform does."""
    if job.status.is_final:
        return Decision()
    if attempt is not None:
        if attempt != job.attempt:
            return Decision()
    elif job.timeout_at is None or job.timeout_at > now:
        return Decision()
    holder = job.lease.worker if job.lease else job.current.worker
    decision = _end(job, _Update(), JobStatus.timed_out, now, TIMEOUT_BACKSTOP, timing)
    decision.cancel = _stop(job, job.attempt, holder)
    return decision


def unrunnable(job: JobView, event: AttemptUnrunnable) -> Decision:
    """An attempt no worker took yet cannot run (a secret gone or unreadable): failed, no retry.

    Only while no worker took it: an attempt a worker runs already ends by its own report.
    """
    if _stale(job, event.attempt) or job.status != JobStatus.queued:
        return Decision()
    if job.current.worker is not None:
        return Decision()
    update = _Update().attempt(job, status=JobStatus.failed, error=event.error,
                               finished_at=event.at)
    update.set(status=JobStatus.failed, error=event.error, finished_at=event.at)
    update.unset("lease", "timeout_at", "publish_due_at")
    return Decision(update.done())


def will_retry(job: JobView, outcome: JobStatus, error: str | None) -> bool:
    """Whether ending the current attempt so queues another one.

    A lost worker is not the job's fault: it does not use up max_retries, but after
    MAX_LOST_ATTEMPTS lost attempts the job fails (a job that kills its worker every time).
    """
    earlier = job.attempts[: job.attempt - 1]
    if error == WORKER_LOST:
        lost = 1 + sum(1 for a in earlier if a.error == WORKER_LOST)
        return lost < MAX_LOST_ATTEMPTS
    failures = 1 + sum(1 for a in earlier if a.status in RETRYABLE and a.error != WORKER_LOST)
    return outcome in RETRYABLE and failures <= job.max_retries


def retry_delay(job: JobView, retry: int) -> float:
    """How long retry number `retry` (1 for the first) waits, in seconds.

    Nominal: retry_backoff_seconds doubled for each retry before it, at most
    retry_backoff_max_seconds; drawn between half and all of that (jitter, so that jobs failing
    together do not come back together). The draw is a hash of the job and the retry: the
    same decision made twice (by two API processes, say) waits the same.
    """
    nominal = min(job.retry_backoff_max_seconds,
                  job.retry_backoff_seconds * 2 ** min(retry - 1, 60))
    digest = hashlib.sha256(f"{job.id}:{retry}".encode()).digest()
    draw = int.from_bytes(digest[:8], "big") / 2**64  # in [0, 1)
    return nominal * (0.5 + 0.5 * draw)


def _end(job: JobView, update: _Update, outcome: JobStatus, at: datetime, error: str | None,
         timing: Timing) -> Decision:
    """Close the current attempt with `outcome`; queue the next one when a retry is due."""
    update.attempt(job, status=outcome, error=error, finished_at=at)
    if "worker" not in update.sets:
        update.set(worker=job.current.worker, worker_name=job.current.worker_name,
                   exit_code=job.current.exit_code)
    update.unset("lease", "timeout_at")
    if will_retry(job, outcome, error):
        number = job.attempt + 1
        # A lost worker is retried at once (not the job's fault); a failure after its backoff.
        retries = sum(1 for a in job.attempts if a.error != WORKER_LOST)
        delay = 0.0 if error == WORKER_LOST else retry_delay(job, retries)
        not_before = at + timedelta(seconds=delay) if delay else None
        # By its index, not $push: MongoDB refuses $push on `attempts` beside $set on
        # `attempts.N.status` in one update. The version guard makes the index the array's end.
        update.sets[f"attempts.{number - 1}"] = Attempt(
            number=number, queued_at=at, not_before=not_before).model_dump()
        # Why in MongoDB and not in a sleeping coroutine: a waiting retry survives any
        # restart; the sweeper of any API process publishes it once it is due.
        due = not_before or at + timedelta(seconds=timing.publish_grace_seconds)
        update.set(attempt=number, status=JobStatus.queued, publish_due_at=due)
        return Decision(update.done(), publish=not_before is None)
    update.set(status=outcome, error=error, finished_at=at)
    update.unset("publish_due_at")
    return Decision(update.done())
