"""One worker session's RabbitMQ consumers, sized to its free slots.

A worker with free slots consumes every dispatch queue of its tenant whose labels it has.
A delivery is acknowledged as soon as the worker has taken the job (never held for the length
of the job, or RabbitMQ's consumer_timeout would requeue it); while the worker is full or
draining its consumers are cancelled, so queued jobs wait in RabbitMQ, not in the master.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue
from pydantic import ValidationError

from jobrunner_shared import names
from jobrunner_shared.messages import JobAssignment

log = logging.getLogger(__name__)

# Returns True when the worker took the job; False to give it back to the queue.
AssignFn = Callable[[JobAssignment], Awaitable[bool]]
# Returns the assignment to send (secrets decrypted), or None for a job that must not run
# (cancelled, a stale attempt, or unrunnable): its delivery is then acknowledged and dropped.
PrepareFn = Callable[[JobAssignment], Awaitable[JobAssignment | None]]


class SlotConsumer:
    def __init__(
        self,
        connection: aio_pika.abc.AbstractRobustConnection,
        capacity: int,
        assign: AssignFn,
        prepare: PrepareFn,
    ) -> None:
        self._connection = connection
        self.capacity = capacity
        self._assign = assign
        self._prepare = prepare
        self._channel: AbstractChannel | None = None
        self._queues: dict[str, AbstractQueue] = {}
        self._consumer_tags: dict[str, str] = {}
        self._lock = asyncio.Lock()
        self.running: set[tuple[str, int]] = set()
        self.reserved = 0
        self.paused = False  # draining, or the session is going away
        self.held = False  # the worker declined a job: wait for its next heartbeat
        self.closed = False

    @property
    def free(self) -> int:
        return self.capacity - len(self.running) - self.reserved

    async def start(self, queue_names: list[str]) -> None:
        self._channel = await self._connection.channel()
        for name in queue_names:
            await self._declare(name)
        await self.refresh()

    async def add_queue(self, name: str) -> None:
        if self.closed or name in self._queues:
            return
        await self._declare(name)
        await self.refresh()

    async def _declare(self, name: str) -> None:
        assert self._channel is not None
        self._queues[name] = await self._channel.declare_queue(
            name, durable=True, arguments=dict(names.DISPATCH_QUEUE_ARGUMENTS)
        )

    async def close(self) -> None:
        """Stop consuming; deliveries not yet acknowledged go back to their queues."""
        self.closed = True
        if self._channel is not None and not self._channel.is_closed:
            await self._channel.close()

    def set_running(self, attempts: set[tuple[str, int]]) -> None:
        """Adopt the worker's own report of what it runs: it is the truth."""
        self.running = set(attempts)

    async def refresh(self) -> None:
        """Consume while there is a free slot; cancel every consumer otherwise."""
        async with self._lock:
            if self.closed or self._channel is None or self._channel.is_closed:
                return
            want = self.free > 0 and not self.paused and not self.held
            idle = [name for name in self._queues if name not in self._consumer_tags]
            if want and idle:
                # Why: a new consumer's prefetch is the free slots, so RabbitMQ never pushes
                # more jobs than the worker can take right now.
                await self._channel.set_qos(prefetch_count=self.free)
                for name in idle:  # every queue, including one added since the last consume
                    self._consumer_tags[name] = await self._queues[name].consume(
                        self._on_delivery
                    )
            elif not want and self._consumer_tags:
                for name, tag in list(self._consumer_tags.items()):
                    await self._queues[name].cancel(tag)
                self._consumer_tags.clear()

    async def _on_delivery(self, message: AbstractIncomingMessage) -> None:
        if self.closed or self.paused or self.held or self.free <= 0:
            # Raced with a cancel: give it back for this or another worker.
            await message.nack(requeue=True)
            await self.refresh()
            return
        try:
            assignment = JobAssignment.model_validate_json(message.body)
        except ValidationError as exc:
            log.error("dead-lettering an invalid dispatch message: %s", exc)
            await message.reject(requeue=False)
            return
        self.reserved += 1
        try:
            prepared = await self._prepare(assignment)
            if prepared is None:
                await message.ack()  # cancelled while queued, superseded, unrunnable: never starts
                return
            if await self._assign(prepared):
                self.running.add((assignment.job_id, assignment.attempt))
                await message.ack()
            else:
                await message.nack(requeue=True)
        except Exception:
            log.exception("assigning job %s failed; requeueing it", assignment.job_id)
            if not message.processed:
                await message.nack(requeue=True)
        finally:
            self.reserved -= 1
            await self.refresh()

    async def finished(self, job_id: str, attempt: int) -> None:
        self.running.discard((job_id, attempt))
        await self.refresh()
