"""The API's consumers: they keep MongoDB current from the job, log and heartbeat topics."""

from faststream.rabbit import RabbitRouter

from jobrunner_api import jobs, logs, metrics, workers
from jobrunner_api.platform import Platform
from jobrunner_shared import amqp, names
from jobrunner_shared.messages import (
    AttemptExpired,
    AttemptUnrunnable,
    CancelRequested,
    JobAssignedEvent,
    JobEvent,
    JobFinishedEvent,
    JobStartedEvent,
    LogBatchEvent,
    WorkerEvent,
)


def build_router(platform: Platform) -> RabbitRouter:
    router = RabbitRouter()

    @router.subscriber(amqp.JOB_EVENTS_QUEUE, amqp.JOBS, title="job-events")
    async def on_job_event(event: JobEvent) -> None:
        """What moves a job: assigned, started, finished, cancel asked, expired, unrunnable."""
        may_retry = isinstance(event, JobFinishedEvent | AttemptExpired)
        if may_retry:
            # Why: the next attempt is in the outbox before it exists, so a crash right after
            # it is stored cannot leave it unpublished.
            await platform.dispatcher.record(event.job_id, event.attempt + 1)
        match event:
            case JobAssignedEvent():
                outcome = await jobs.apply_assigned(event)
            case JobStartedEvent():
                outcome = await jobs.apply_started(event)
            case JobFinishedEvent():
                outcome = await jobs.apply_finished(event)
            case CancelRequested():
                outcome = await jobs.apply_cancel(event)
            case AttemptExpired():
                outcome = await jobs.apply_expired(event)
            case AttemptUnrunnable():
                outcome = await jobs.apply_unrunnable(event)
        for cancel in outcome.cancel:
            await amqp.publish_control(platform.broker, cancel, names.CONTROL_CANCEL_KEY)
        if outcome.republish and outcome.job is not None:
            await platform.dispatcher.publish(outcome.job)
        elif may_retry:
            await platform.dispatcher.forget(event.job_id, event.attempt + 1)
        platform.notifier.notify(event.job_id)

    @router.subscriber(amqp.LOGS_QUEUE, amqp.LOGS, title="logs")
    async def on_log_batch(batch: LogBatchEvent) -> None:
        """A batch of output lines of one attempt."""
        if await logs.store_batch(batch):
            metrics.LOG_LINES.inc(len(batch.lines))
            platform.notifier.notify(batch.job_id)

    @router.subscriber(amqp.HEARTBEATS_QUEUE, amqp.HEARTBEATS, title="heartbeats")
    async def on_worker_event(event: WorkerEvent) -> None:
        """A worker connected, beat or disconnected."""
        await workers.apply_event(event)

    return router
