"""Publishing a job attempt onto its tenant's dispatch queue (API -> master)."""

import asyncio
import logging

from aiormq.exceptions import AMQPError
from faststream.rabbit import RabbitBroker
from pymongo.errors import DuplicateKeyError, PyMongoError

from jobrunner_api import secretstore
from jobrunner_api.documents import DispatchQueue, Job, OutboxEntry
from jobrunner_shared import amqp, names
from jobrunner_shared.messages import AttemptUnrunnable, DispatchQueueAdded, JobAssignment

log = logging.getLogger(__name__)
# A publish that did not reach RabbitMQ (or was not confirmed in time): the sweeper retries it.
PUBLISH_ERRORS = (TimeoutError, AMQPError, ConnectionError, RuntimeError)


class Dispatcher:
    """Declares each dispatch queue once per process, then publishes with confirms."""

    def __init__(self, broker: RabbitBroker, log_cap_bytes: int, timeout: float = 5.0) -> None:
        self._broker = broker
        self._log_cap_bytes = log_cap_bytes
        self._timeout = timeout
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

    async def record(self, job_id: str, attempt: int) -> None:
        """Note an attempt as to be published, before it is stored.

        Why: whatever dies between the job's write and RabbitMQ's confirm, the entry is left,
        and the sweeper publishes the attempt (or drops the entry if it was never stored).
        """
        await OutboxEntry(id=OutboxEntry.key(job_id, attempt), job_id=job_id,
                          attempt=attempt).save()

    async def forget(self, job_id: str, attempt: int) -> None:
        await OutboxEntry.find_one(OutboxEntry.id == OutboxEntry.key(job_id, attempt)).delete()

    async def publish(self, job: Job, sealed: dict[str, str] | None = None) -> bool:
        """Publish the job's current attempt, recorded before; True once RabbitMQ confirmed.

        The attempt carries the ciphertexts of the job's secrets as they are now; a secret
        deleted since the submission makes the attempt unrunnable instead (the job fails
        saying which). `sealed`: those ciphertexts when the caller has just read them all.
        On failure the outbox entry stays, and the sweeper publishes the attempt later.
        """
        if sealed is None:
            try:
                sealed, missing = await secretstore.sealed(job.tenant_id, job.secrets)
            except PyMongoError as exc:
                log.warning("job %s attempt %s not published yet (secrets unreadable: %r); the "
                            "sweeper retries", job.id, job.attempt, exc)
                return False
            if missing:
                return await self._unrunnable(job, f"secret_missing: {', '.join(missing)}")
        assignment = JobAssignment(
            job_id=str(job.id),
            tenant_id=job.tenant_id,
            attempt=job.attempt,
            command=job.command,
            argv=job.argv,
            env=job.env,
            labels=job.labels,
            timeout_seconds=job.timeout_seconds,
            secrets=sealed,
            max_log_bytes=self._log_cap_bytes,
        )
        try:
            async with asyncio.timeout(self._timeout):
                await self.ensure_queue(job.tenant_id, job.labels)
                await amqp.publish_event(
                    self._broker,
                    assignment,
                    amqp.JOBS,
                    names.dispatch_routing_key(job.tenant_id, job.labels),
                    priority=job.priority,
                    message_id=f"{job.id}:{job.attempt}",
                )
        except PUBLISH_ERRORS as exc:
            log.warning("job %s attempt %s not published yet (%r); the sweeper retries",
                        job.id, job.attempt, exc)
            return False
        await self.forget(str(job.id), job.attempt)
        return True

    async def _unrunnable(self, job: Job, error: str) -> bool:
        """Tell the job-events consumer (the one writer of job state) that it cannot run."""
        event = AttemptUnrunnable(job_id=str(job.id), tenant_id=job.tenant_id,
                                  attempt=job.attempt, error=error)
        try:
            async with asyncio.timeout(self._timeout):
                await amqp.publish_event(self._broker, event, amqp.JOBS,
                                         names.JOB_UNRUNNABLE_KEY)
        except PUBLISH_ERRORS as exc:
            log.warning("job %s attempt %s: could not report it unrunnable yet (%r); the "
                        "sweeper retries", job.id, job.attempt, exc)
            return False
        # Why forget: the event, now in RabbitMQ, ends the attempt; nothing is left to publish.
        await self.forget(str(job.id), job.attempt)
        return True
