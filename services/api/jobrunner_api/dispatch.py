"""Publishing a job attempt onto its tenant's dispatch queue (API -> master)."""

import asyncio
import logging
from dataclasses import dataclass

from aiormq.exceptions import AMQPError
from faststream.rabbit import RabbitBroker
from pymongo.errors import DuplicateKeyError, PyMongoError

from jobrunner_api import secretstore
from jobrunner_api.documents import DispatchQueue, JobView
from jobrunner_shared import amqp, names
from jobrunner_shared.messages import DispatchQueueAdded, JobAssignment

log = logging.getLogger(__name__)
# A publish that did not reach RabbitMQ (or was not confirmed in time): the sweeper retries it.
PUBLISH_ERRORS = (TimeoutError, AMQPError, ConnectionError, RuntimeError)


@dataclass(frozen=True)
class Unrunnable:
    """The attempt can never run: why (e.g. secret_missing: NAME)."""

    error: str


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

    async def publish(self, job: JobView, sealed: dict[str, str] | None = None,
                      copy: bool = False) -> bool | Unrunnable:
        """Publish the job's current attempt: True once RabbitMQ confirmed it, False when it
        could not (the sweeper publishes it later), Unrunnable when it never can run.

        The attempt carries the ciphertexts of the job's secrets as they are now; a secret
        deleted since the submission makes it unrunnable. `sealed`: those ciphertexts when the
        caller has just read them all. `copy`: the attempt may have been published before (the
        sweeper's publishes): the master reads the job before offering it.
        """
        if sealed is None:
            try:
                sealed, missing = await secretstore.sealed(job.tenant_id, job.secrets)
            except PyMongoError as exc:
                log.warning("job %s attempt %s not published yet (secrets unreadable: %r); the "
                            "sweeper retries", job.id, job.attempt, exc)
                return False
            if missing:
                return Unrunnable(f"secret_missing: {', '.join(missing)}")
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
                    headers=dispatch_headers(job, copy),
                )
        except PUBLISH_ERRORS as exc:
            log.warning("job %s attempt %s not published yet (%r); the sweeper retries",
                        job.id, job.attempt, exc)
            return False
        return True


def dispatch_headers(job: JobView, copy: bool) -> dict[str, int | bool]:
    """When the attempt was queued, and whether this may be a second copy of it: what lets a
    master trust its revocation list instead of reading the job (names.QUEUED_AT_HEADER)."""
    headers: dict[str, int | bool] = {
        names.QUEUED_AT_HEADER: int(job.current.queued_at.timestamp() * 1000)}
    if copy:
        headers[names.COPY_HEADER] = True
    return headers
