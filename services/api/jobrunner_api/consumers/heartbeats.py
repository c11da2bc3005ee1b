"""The heartbeat topic: a worker connected, beat or disconnected -> presence and leases."""

import asyncio
import logging
from collections import defaultdict

from faststream.rabbit import RabbitRouter

from jobrunner_api.platform import Platform
from jobrunner_shared import amqp, dberrors, names
from jobrunner_shared.messages import WorkerEvent, WorkerEventBatch, WorkerEventMessage

log = logging.getLogger(__name__)


def build_router(platform: Platform) -> RabbitRouter:
    router = RabbitRouter()
    presence = platform.presence

    async def apply_in_order(events: list[WorkerEvent]) -> None:
        for event in events:  # one worker's events: in the order the master received them
            try:
                await presence.apply(event)
            except Exception as exc:
                if isinstance(exc, amqp.TransientError) or dberrors.is_transient(exc):
                    raise  # the whole message comes back; applying an event again changes nothing
                # Why alone: one poison event must not take the others of its batch with it.
                log.exception("dead-lettering a presence event that failed to apply")
                await amqp.publish_dead_letter(
                    platform.broker, event.model_dump_json().encode(),
                    f"{type(exc).__name__}: {exc}"[:500], names.HEARTBEAT_BATCH_KEY)

    @router.subscriber(amqp.HEARTBEATS_QUEUE, amqp.HEARTBEATS, title="heartbeats")
    async def on_worker_event(message: WorkerEventMessage) -> None:
        """A worker connected, beat or disconnected; one event, or a batch of them."""
        if not isinstance(message, WorkerEventBatch):
            await presence.apply(message)
            return
        # Why by worker: the workers' updates go side by side, while one worker's stay in
        # order (two upserts of one new worker at once would race on its _id).
        by_worker: dict[str, list[WorkerEvent]] = defaultdict(list)
        for event in message.events:
            by_worker[event.worker_id].append(event)
        await asyncio.gather(*(apply_in_order(events) for events in by_worker.values()))

    return router
