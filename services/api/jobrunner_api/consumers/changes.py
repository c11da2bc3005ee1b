"""The live feed: this process's own exclusive queue on the changes exchange -> its streams."""

import uuid

from faststream.rabbit import RabbitQueue, RabbitRouter

from jobrunner_api.platform import Platform
from jobrunner_shared import amqp, names
from jobrunner_shared.messages import ChangeBatch


def build_router(platform: Platform) -> RabbitRouter:
    router = RabbitRouter()
    # Why exclusive and auto-delete: every API process gets every change while it runs, and
    # its queue goes with it; a stream that reconnects elsewhere backfills from MongoDB.
    queue = RabbitQueue(
        f"{names.API_CHANGES_QUEUE_PREFIX}.{uuid.uuid4().hex[:12]}",
        exclusive=True,
        auto_delete=True,
        routing_key=names.CHANGES_PATTERN,
    )

    @router.subscriber(queue, amqp.CHANGES, title="live-feed")
    async def on_changes(batch: ChangeBatch) -> None:
        """Changes applied anywhere on the platform: to this process's open streams."""
        platform.hub.deliver_batch(batch)

    return router
