"""The job-events topic: what masters (and older APIs) report about attempts -> job state."""

import asyncio
import logging

from faststream.rabbit import RabbitRouter

from jobrunner_api import metrics, transitions
from jobrunner_api.documents import JobView
from jobrunner_api.platform import Platform
from jobrunner_shared import amqp, dberrors, names
from jobrunner_shared.messages import (
    AttemptExpired,
    AttemptUnrunnable,
    CancelRequested,
    JobAssignedEvent,
    JobEvent,
    JobEventBatch,
    JobEventMessage,
    JobFinishedEvent,
    JobStartedEvent,
)

log = logging.getLogger(__name__)


def decider(event: JobEvent, timing: transitions.Timing) -> transitions.Decide:
    """The transition an event asks for, as a function of the job it applies to."""
    match event:
        case JobAssignedEvent():
            return lambda job: transitions.assigned(job, event, timing)
        case JobStartedEvent():
            return lambda job: transitions.started(job, event, timing)
        case JobFinishedEvent():
            return lambda job: transitions.finished(job, event, timing)
        case AttemptUnrunnable():
            return lambda job: transitions.unrunnable(job, event)
        case CancelRequested():
            return lambda job: transitions.cancel_requested(job, event.at)
        case AttemptExpired(reason="timeout"):
            return lambda job: transitions.timed_out(job, event.at, timing, attempt=event.attempt)
        case AttemptExpired():
            return lambda job: transitions.lease_expired(job, event.at, timing,
                                                         attempt=event.attempt)
    raise TypeError(f"no transition for {type(event).__name__}")  # pragma: no cover


def build_router(platform: Platform) -> RabbitRouter:
    router = RabbitRouter()
    jobs = platform.jobs

    async def apply(event: JobEvent) -> None:
        job = await jobs.apply(event.job_id, decider(event, jobs.timing), event.tenant_id)
        if isinstance(event, JobAssignedEvent | JobStartedEvent) and job is not None:
            _observe_dispatch(job, event)

    async def apply_in_order(events: list[JobEvent]) -> None:
        for event in events:  # one job's events: in the order its worker sent them
            try:
                await apply(event)
            except Exception as exc:
                if isinstance(exc, amqp.TransientError) or dberrors.is_transient(exc):
                    raise  # the whole message comes back; what was applied is not applied twice
                # Why alone: one poison event must not take the others of its batch with it.
                log.exception("dead-lettering a job event that failed to apply")
                await amqp.publish_dead_letter(
                    platform.broker, event.model_dump_json().encode(),
                    f"{type(exc).__name__}: {exc}"[:500], names.JOB_EVENTS_BATCH_KEY)

    @router.subscriber(amqp.JOB_EVENTS_QUEUE, amqp.JOBS, title="job-events")
    async def on_job_events(message: JobEventMessage) -> None:
        """What moves a job: assigned, started, finished, unrunnable (and, from APIs before
        0.2, cancel requested and expired); one event, or a batch of them."""
        if not isinstance(message, JobEventBatch):
            await apply(message)
            return
        try:
            # Why together: one read and one write for the whole batch (jobstore.apply_many).
            done = await jobs.apply_many([(event.job_id, event.tenant_id,
                                           decider(event, jobs.timing))
                                          for event in message.events])
        except Exception as exc:
            if isinstance(exc, amqp.TransientError) or dberrors.is_transient(exc):
                raise
            log.exception("a batch of job events failed together; applying them one by one")
        else:
            for event in message.events:
                if isinstance(event, JobAssignedEvent | JobStartedEvent) and event.job_id in done:
                    _observe_dispatch(done[event.job_id], event)
            return
        by_job: dict[str, list[JobEvent]] = {}
        for event in message.events:
            by_job.setdefault(event.job_id, []).append(event)
        await asyncio.gather(*(apply_in_order(events) for events in by_job.values()))

    return router


def _observe_dispatch(job: JobView, event: JobAssignedEvent | JobStartedEvent) -> None:
    """The attempt's wait for a worker, once: by the event that recorded its taking."""
    attempt = job.attempts[event.attempt - 1] if event.attempt <= len(job.attempts) else None
    if attempt is None or attempt.worker != event.worker_id or attempt.assigned_at is None:
        return
    if abs((attempt.assigned_at - event.at).total_seconds()) < 0.001:  # MongoDB keeps ms
        metrics.DISPATCH_LATENCY.observe((attempt.assigned_at - attempt.queued_at).total_seconds())
