"""The log topic: output batches of attempts -> log chunks, and a wake-up for their readers."""

from faststream.rabbit import RabbitRouter

from jobrunner_api import logs, metrics
from jobrunner_api.platform import Platform
from jobrunner_shared import amqp
from jobrunner_shared.messages import LogBatches, LogBatchEvent


def build_router(platform: Platform) -> RabbitRouter:
    router = RabbitRouter()

    @router.subscriber(amqp.LOGS_QUEUE, amqp.LOGS, title="logs")
    async def on_log_batches(message: LogBatches | LogBatchEvent) -> None:
        """Output lines of attempts: one batch, or several in one message."""
        batches = message.batches if isinstance(message, LogBatches) else [message]
        for batch in await logs.store_batches(batches):
            metrics.LOG_LINES.inc(len(batch.lines))
            platform.feed.log(batch.tenant_id, batch.job_id, batch.attempt,
                              max(line.seq for line in batch.lines))

    return router
