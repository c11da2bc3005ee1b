"""The heartbeat topic: a worker connected, beat or disconnected -> presence and leases."""

from faststream.rabbit import RabbitRouter

from jobrunner_api.platform import Platform
from jobrunner_shared import amqp
from jobrunner_shared.messages import WorkerEvent


def build_router(platform: Platform) -> RabbitRouter:
    router = RabbitRouter()

    @router.subscriber(amqp.HEARTBEATS_QUEUE, amqp.HEARTBEATS, title="heartbeats")
    async def on_worker_event(event: WorkerEvent) -> None:
        """A worker connected, beat or disconnected."""
        await platform.presence.apply(event)

    return router
