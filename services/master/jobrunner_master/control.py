"""The control topic: what the API asks of whichever master holds a worker's session."""

import uuid

from faststream.rabbit import RabbitQueue, RabbitRouter

from jobrunner_master.sessions import WorkersNamespace
from jobrunner_shared import amqp, names
from jobrunner_shared.messages import (
    ApiKeyRevoked,
    CancelAttempt,
    ControlMessage,
    DispatchQueueAdded,
    DrainWorker,
)


def build_router(workers: WorkersNamespace) -> RabbitRouter:
    router = RabbitRouter()
    # Every master gets every control message: only the one holding the session acts on it.
    queue = RabbitQueue(
        f"{names.MASTER_CONTROL_QUEUE_PREFIX}.{uuid.uuid4().hex[:12]}",
        exclusive=True,
        auto_delete=True,
        routing_key=names.CONTROL_PATTERN,
    )

    @router.subscriber(queue, amqp.CONTROL, title="master-control")
    async def on_control(message: ControlMessage) -> None:
        """Cancel an attempt, drain a worker, add a dispatch queue or cut a revoked key."""
        match message:
            case CancelAttempt():
                await workers.cancel(
                    message.tenant_id, message.job_id, message.attempt, message.worker_id
                )
            case DrainWorker():
                await workers.drain(message.tenant_id, message.worker_id)
            case DispatchQueueAdded():
                await workers.queue_added(message.tenant_id, message.labels, message.queue)
            case ApiKeyRevoked():
                await workers.key_revoked(message.tenant_id, message.key_id)

    return router
