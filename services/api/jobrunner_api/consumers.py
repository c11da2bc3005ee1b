"""The API's consumers: they keep MongoDB current from the job, log and heartbeat topics."""

from faststream.rabbit import RabbitRouter

from jobrunner_api import jobs, logs, workers
from jobrunner_api.platform import Platform
from jobrunner_shared import amqp, names
from jobrunner_shared.messages import (
    CancelAttempt,
    CancelRequested,
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
        """A job attempt started or finished on a worker, or a user asked to cancel a job."""
        match event:
            case JobStartedEvent():
                await jobs.apply_started(event)
            case JobFinishedEvent():
                await jobs.apply_finished(event, platform.dispatcher)
            case CancelRequested():
                job = await jobs.apply_cancel(event)
                if job is not None and job.tenant_id == event.tenant_id:
                    # A running attempt is ended by its worker, which then reports it.
                    await amqp.publish_control(
                        platform.broker,
                        CancelAttempt(tenant_id=job.tenant_id, job_id=event.job_id,
                                      attempt=job.attempt),
                        names.CONTROL_CANCEL_KEY,
                    )
        platform.notifier.notify(event.job_id)

    @router.subscriber(amqp.LOGS_QUEUE, amqp.LOGS, title="logs")
    async def on_log_batch(batch: LogBatchEvent) -> None:
        """A batch of output lines of one attempt."""
        if await logs.store_batch(batch):
            platform.notifier.notify(batch.job_id)

    @router.subscriber(amqp.HEARTBEATS_QUEUE, amqp.HEARTBEATS, title="heartbeats")
    async def on_worker_event(event: WorkerEvent) -> None:
        """A worker connected, beat or disconnected."""
        await workers.apply_event(event)

    return router
