"""The job-events topic: what masters (and older APIs) report about attempts -> job state."""

from faststream.rabbit import RabbitRouter

from jobrunner_api import metrics, transitions
from jobrunner_api.documents import JobView
from jobrunner_api.platform import Platform
from jobrunner_shared import amqp
from jobrunner_shared.messages import (
    AttemptExpired,
    AttemptUnrunnable,
    CancelRequested,
    JobAssignedEvent,
    JobEvent,
    JobFinishedEvent,
    JobStartedEvent,
)


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

    @router.subscriber(amqp.JOB_EVENTS_QUEUE, amqp.JOBS, title="job-events")
    async def on_job_event(event: JobEvent) -> None:
        """What moves a job: assigned, started, finished, unrunnable (and, from APIs before
        0.2, cancel requested and expired)."""
        job = await jobs.apply(event.job_id, decider(event, jobs.timing), event.tenant_id)
        if isinstance(event, JobAssignedEvent) and job is not None:
            _observe_dispatch(job, event)

    return router


def _observe_dispatch(job: JobView, event: JobAssignedEvent) -> None:
    attempt = job.attempts[event.attempt - 1] if event.attempt <= len(job.attempts) else None
    if attempt is not None and attempt.worker == event.worker_id and attempt.assigned_at:
        metrics.DISPATCH_LATENCY.observe((attempt.assigned_at - attempt.queued_at).total_seconds())
