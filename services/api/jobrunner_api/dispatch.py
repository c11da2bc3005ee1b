"""Publishing a job attempt onto its tenant's dispatch queue (API -> master)."""

import logging

from faststream.rabbit import RabbitBroker
from pymongo.errors import DuplicateKeyError

from jobrunner_api.documents import DispatchQueue, Job, OutboxEntry
from jobrunner_shared import amqp, names
from jobrunner_shared.messages import DispatchQueueAdded, JobAssignment

log = logging.getLogger(__name__)


class Dispatcher:
    """Declares each dispatch queue once per process, then publishes with confirms."""

    def __init__(self, broker: RabbitBroker) -> None:
        self._broker = broker
        self._declared: set[str] = set()

    async def ensure_queue(self, tenant_id: str, labels: list[str]) -> str:
        queue_name = names.dispatch_queue(tenant_id, labels)
        if queue_name in self._declared:
            return queue_name
        routing_key = names.dispatch_routing_key(tenant_id, labels)
        exchange = await self._broker.declare_exchange(amqp.JOBS)
        queue = await self._broker.declare_queue(amqp.dispatch_queue(queue_name, routing_key))
        await queue.bind(exchange, routing_key)
        try:
            await DispatchQueue(tenant_id=tenant_id, labels=sorted(labels), queue=queue_name).insert()
            # Why: connected workers that qualify start consuming the new queue at once.
            await amqp.publish_control(
                self._broker,
                DispatchQueueAdded(tenant_id=tenant_id, labels=sorted(labels), queue=queue_name),
                names.CONTROL_QUEUE_ADDED_KEY,
            )
        except DuplicateKeyError:
            pass  # already registered, by this or another API process
        self._declared.add(queue_name)
        return queue_name

    async def publish(self, job: Job, mask: list[str]) -> None:
        """Publish the job's current attempt; returns once RabbitMQ confirmed it."""
        entry = OutboxEntry(
            id=OutboxEntry.key(str(job.id), job.attempt), job_id=str(job.id), attempt=job.attempt
        )
        # Why: recorded before the publish, so an attempt whose publish never got confirmed
        # (this process died, RabbitMQ was down) is found and published again.
        await entry.save()
        await self.ensure_queue(job.tenant_id, job.labels)
        assignment = JobAssignment(
            job_id=str(job.id),
            tenant_id=job.tenant_id,
            attempt=job.attempt,
            command=job.command,
            argv=job.argv,
            env=job.env,
            labels=job.labels,
            timeout_seconds=job.timeout_seconds,
            mask=mask,
        )
        await amqp.publish_event(
            self._broker,
            assignment,
            amqp.JOBS,
            names.dispatch_routing_key(job.tenant_id, job.labels),
            priority=job.priority,
            message_id=f"{job.id}:{job.attempt}",
        )
        await entry.delete()
