"""The log topic: output batches of attempts -> log chunks, and a wake-up for their readers."""

from faststream.rabbit import RabbitRouter

from jobrunner_api import logs, metrics
from jobrunner_api.platform import Platform
from jobrunner_shared import amqp
from jobrunner_shared.messages import LogBatchEvent


def build_router(platform: Platform) -> RabbitRouter:
    router = RabbitRouter()

    @router.subscriber(amqp.LOGS_QUEUE, amqp.LOGS, title="logs")
    async def on_log_batch(batch: LogBatchEvent) -> None:
        """A batch of output lines of one attempt."""
        if await logs.store_batch(batch):
            metrics.LOG_LINES.inc(len(batch.lines))
            await platform.feed.log(batch.tenant_id, batch.job_id, batch.attempt,
                                    max(line.seq for line in batch.lines))

    return router
