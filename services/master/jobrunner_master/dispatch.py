"""Dispatch: a worker session's RabbitMQ consumers, sized to its free slots, and job:assign.

A worker with free slots consumes every dispatch queue of its tenant whose labels it has, on a
channel of its own whose prefetch (basic.qos, global: across all of the session's queues) is
its free slots (plus the deliveries it holds, below): RabbitMQ never pushes more jobs than the
worker can take. While the worker is draining, or full with no delivery held, its consumers are
cancelled, so queued jobs wait in RabbitMQ, not in the master.

The sessions' channels are spread over a few connections (DispatchConnections), each holding at
most CHANNELS_PER_CONNECTION of them, well below RabbitMQ's channel_max (2047 by default):
one channel too many and RabbitMQ closes the whole connection, with every session's consumers
on it.

A delivery is acknowledged once the attempt's lease covers it: when its `job:started` is in
RabbitMQ, a few milliseconds after the worker took it (or, should the start not come within
ASSIGNED_AFTER_SECONDS, when a `job.event.assigned` is). Never later: RabbitMQ's
consumer_timeout would requeue a delivery held for the length of a job. Why not acknowledge
at once with an `assigned` event each time: that event cost a message, a consumer run and two
database operations per job for what the start says a moment later.

Dispatch queues are classic (they need priorities): on a cluster each lives on one node. The
session declares and consumes them itself, not through aio-pika's robust restore (robust=False),
and takes them up again on its own: when the broker cancels a consumer (basic.cancel: the
queue's node is down) or closes the channel (a consume or declare answered NOT_FOUND, the
connection lost), the channel is reopened (by aio-pika) and consumed again, and a queue that
failed is probed on a throwaway channel with a growing back-off until it answers again.
"""

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aio_pika
import aiormq
import socketio
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue
from bson import ObjectId
from pydantic import ValidationError
from pymongo.asynchronous.database import AsyncDatabase

from jobrunner_master import metrics, secrets
from jobrunner_master.revocations import Revocations
from jobrunner_shared import names
from jobrunner_shared.batching import GroupCommit
from jobrunner_shared.messages import AssignAck, JobAssignment, JobStatus
from jobrunner_shared.secretbox import SecretBox

log = logging.getLogger(__name__)

# Returns True when the worker took the job; False to give it back to the queue.
AssignFn = Callable[[JobAssignment], Awaitable[bool]]
# Returns the assignment to send (secrets decrypted), or None for a job that must not run
# (cancelled, a stale attempt, or unrunnable): its delivery is then acknowledged and dropped.
PrepareFn = Callable[[JobAssignment, AbstractIncomingMessage], Awaitable[JobAssignment | None]]
# Records that a worker took an attempt (publishes `job.event.assigned`).
RecordFn = Callable[[JobAssignment], Awaitable[None]]
# Handles a delivery that came back to its queue (Assigner.redelivered): acknowledges it once
# it waits in the settle queue, or is dropped.
RedeliveredFn = Callable[[JobAssignment, AbstractIncomingMessage], Awaitable[None]]
# A worker's heartbeat may have left before it took a job the master just gave it, or before it
# ended one: an attempt taken (ended) this recently counts as running (ended) whatever a
# heartbeat says. Older differences are the heartbeat's to settle: it is the worker's truth.
SETTLE_SECONDS = 10.0
# A taken attempt not reported started within this long is recorded as assigned instead.
ASSIGNED_AFTER_SECONDS = 1.0
# Session channels per dispatch connection. Why well below channel_max: RabbitMQ answers a
# channel.open past it by closing the whole connection (NOT_ALLOWED), which would cut the
# consumers of every session on it, again after each reconnect of the robust connection.
CHANNELS_PER_CONNECTION = 1000
# Channels of a connection kept for short-lived uses (the queue-depth metric's passive declares,
# the probes of a dispatch queue that was unavailable).
SPARE_CHANNELS = 16
# Back-off between tries to consume a dispatch queue again (its node down, the channel closed):
# the first delay, doubling to the cap, each drawn between half and all of it.
RECOVER_FIRST_SECONDS = 0.5
RECOVER_MAX_SECONDS = 5.0
# Probe channels open at once per process. Why a bound: a thousand sessions whose queue's node
# is down would otherwise open a thousand probes at once, past channel_max (see above).
PROBES_AT_ONCE = SPARE_CHANNELS // 2


class DispatchConnections:
    """The RabbitMQ connections that carry the sessions' dispatch channels.

    The first is opened at start (it also serves the queue-depth metric); another only when
    every open one holds its share of session channels. A session takes a place when it opens
    its channel and gives it back when it closes it.
    """

    def __init__(self, connect: Callable[[], Awaitable[aio_pika.abc.AbstractRobustConnection]],
                 per_connection: int = CHANNELS_PER_CONNECTION) -> None:
        self._connect = connect
        self.per_connection = per_connection
        self.connections: list[aio_pika.abc.AbstractRobustConnection] = []
        self._used: list[int] = []
        self._lock = asyncio.Lock()
        self.probes = asyncio.Semaphore(PROBES_AT_ONCE)  # SlotConsumer._probe

    async def start(self) -> None:
        async with self._lock:
            if not self.connections:
                await self._open()

    @property
    def first(self) -> aio_pika.abc.AbstractRobustConnection:
        return self.connections[0]

    def in_use(self) -> list[int]:
        """Session channels taken on each connection, in the order they were opened."""
        return list(self._used)

    async def acquire(self) -> aio_pika.abc.AbstractRobustConnection:
        """A connection with room for one more session channel; the place is taken."""
        async with self._lock:
            for i, connection in enumerate(self.connections):
                if self._used[i] < self.share(connection):
                    self._used[i] += 1
                    return connection
            connection = await self._open()
            self._used[-1] += 1
            log.info("dispatch connection %d opened (%d session channels on the others)",
                     len(self.connections), sum(self._used) - 1)
            return connection

    def release(self, connection: aio_pika.abc.AbstractRobustConnection) -> None:
        for i, known in enumerate(self.connections):
            if known is connection:
                self._used[i] = max(0, self._used[i] - 1)
                return

    async def close(self) -> None:
        for connection in self.connections:
            await connection.close()

    async def _open(self) -> aio_pika.abc.AbstractRobustConnection:
        connection = await self._connect()
        self.connections.append(connection)
        self._used.append(0)
        return connection

    def share(self, connection: aio_pika.abc.AbstractRobustConnection) -> int:
        """Session channels this connection takes: per_connection, or fewer if the broker
        allows fewer (its channel_max, as negotiated, less the spare channels)."""
        transport = getattr(connection, "transport", None)  # None while reconnecting
        tune = getattr(getattr(transport, "connection", None), "connection_tune", None)
        channel_max = getattr(tune, "channel_max", 0) or 65535  # 0: no limit
        return max(1, min(self.per_connection, channel_max - SPARE_CHANNELS))


class SlotConsumer:
    def __init__(
        self,
        connections: DispatchConnections,
        capacity: int,
        assign: AssignFn,
        prepare: PrepareFn,
        record: RecordFn,
        redelivered: RedeliveredFn | None = None,
    ) -> None:
        """`redelivered`: None offers a delivery that came back like any other."""
        self._connections = connections
        self._connection: aio_pika.abc.AbstractRobustConnection | None = None
        self.capacity = capacity
        self._assign = assign
        self._prepare = prepare
        self._record = record
        self._redelivered = redelivered
        # Taken attempts whose delivery waits for their start: (message, its fallback timer).
        self._awaiting: dict[tuple[str, int], tuple[AbstractIncomingMessage,
                                                    asyncio.TimerHandle]] = {}
        self._channel: AbstractChannel | None = None
        # Every queue the session consumes; None until a declare of it succeeded.
        self._queues: dict[str, AbstractQueue | None] = {}
        self._consumer_tags: dict[str, str] = {}
        # Queues that failed (node down, cancelled by the broker): probed before a new consume.
        self._down: set[str] = set()
        self._recovery: asyncio.Task | None = None
        self.recover_misses = 0  # tries in a row that left something unavailable
        self._prefetch = 0
        self._lock = asyncio.Lock()
        self.running: set[tuple[str, int]] = set()
        self._taken_at: dict[tuple[str, int], float] = {}
        self._ended_at: dict[tuple[str, int], float] = {}
        self.reserved = 0
        self.paused = False  # draining, or the session is going away
        self.held = False  # the worker declined a job: wait for its next heartbeat
        self.closed = False

    @property
    def free(self) -> int:
        return self.capacity - len(self.running) - self.reserved

    async def start(self, queue_names: list[str]) -> None:
        connection = await self._connections.acquire()
        # Why shielded: a channel.open cancelled half-way (the session left meanwhile) was
        # seen, under load, to make RabbitMQ close the whole connection ("CHANNEL_ERROR -
        # expected 'channel.open'"), with every other session's consumers on it.
        opening = asyncio.ensure_future(self._open_channel(connection))
        opening.add_done_callback(lambda done: done.cancelled() or done.exception())
        if await asyncio.shield(opening) is None:
            return
        for name in queue_names:
            await self._declare(name)
        await self.refresh()

    async def _open_channel(self, connection: aio_pika.abc.AbstractRobustConnection,
                            ) -> AbstractChannel | None:
        """The session's channel on `connection`; None, the place given back, when the
        session went away while it opened."""
        try:
            channel = await connection.channel()
        except BaseException:
            self._connections.release(connection)
            raise
        if self.closed:
            self._connections.release(connection)
            await channel.close()
            return None
        self._connection, self._channel = connection, channel
        channel.close_callbacks.add(self._on_channel_closed)
        if isinstance(channel, aio_pika.abc.AbstractRobustChannel):
            channel.reopen_callbacks.add(self._on_channel_reopened)
        await self._watch_cancels()
        return channel

    # --- taking the queues up again --------------------------------------------------------------

    async def _watch_cancels(self) -> None:
        """Hear the broker's basic.cancel on the channel as it is now (a new one each reopen)."""
        assert self._channel is not None
        underlay = await self._channel.get_underlay_channel()
        underlay.on_consumer_cancel_callbacks.add(self._on_consumer_cancelled)

    def _on_consumer_cancelled(self, frame: aiormq.spec.Basic.Cancel) -> None:
        # Called from aiormq's frame reader: no round trip here, the recovery task does them.
        for name, tag in list(self._consumer_tags.items()):
            if tag == frame.consumer_tag:
                del self._consumer_tags[name]
                self._mark_down(name, "consumer cancelled by the broker")

    def _on_channel_closed(self, _: Any, exc: BaseException | None) -> None:
        if self.closed:
            return
        # Its consumers are gone with it; aio-pika reopens the channel (or the connection).
        self._consumer_tags.clear()
        log.debug("a dispatch channel closed (%r); consuming again once it is back", exc)
        self._start_recovery()

    def _on_channel_reopened(self, _: Any) -> None:
        if self.closed:
            return
        self._consumer_tags.clear()

        async def resume() -> None:
            try:
                await self._watch_cancels()
                await self.refresh()
            except Exception as exc:  # noqa: BLE001 - the recovery task tries again
                log.info("consuming again after a reopen failed: %r", exc)
                self._start_recovery()

        self._spawn(resume())

    def _mark_down(self, name: str, why: str) -> None:
        if name not in self._down:
            log.warning("dispatch queue %s unavailable (%s); consuming it again once it "
                        "answers", name, why)
        self._down.add(name)
        self._start_recovery()

    def _spawn(self, coro: Awaitable[None]) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)  # type: ignore[arg-type]
        task.add_done_callback(lambda done: done.cancelled() or done.exception())
        return task

    def _start_recovery(self) -> None:
        if self.closed or (self._recovery is not None and not self._recovery.done()):
            return
        self._recovery = self._spawn(self._recover())

    async def _recover(self) -> None:
        """Until every queue is consumed again (or the session ends): wait, reopen the channel
        if aio-pika could not, probe the queues that failed, consume."""
        # Why a back-off: a queue whose node is down fails every try; without a pause the
        # session would hammer the broker (and each failed consume closes its channel).
        delay = RECOVER_FIRST_SECONDS
        while not self.closed:
            await asyncio.sleep(random.uniform(delay / 2, delay))
            delay = min(delay * 2, RECOVER_MAX_SECONDS)
            if self.closed or self._channel is None:
                return
            try:
                if self._channel.is_closed and isinstance(
                        self._channel, aio_pika.abc.AbstractRobustChannel):
                    await self._channel.restore()  # a no-op while the connection reconnects
                if not self._channel.is_closed:
                    for name in sorted(self._down):
                        if await self._probe(name):
                            self._down.discard(name)
                            if self._queues.get(name) is None:
                                await self._declare(name)
                    await self.refresh()
            except Exception as exc:  # noqa: BLE001 - counted, and tried again after a pause
                log.debug("dispatch recovery try failed: %r", exc)
            if not self._down and self._channel is not None and not self._channel.is_closed:
                if self.recover_misses:
                    log.info("dispatch queues consumed again after %d tries",
                             self.recover_misses + 1)
                self.recover_misses = 0
                return
            self.recover_misses += 1

    async def _probe(self, name: str) -> bool:
        """Whether the queue answers a passive declare, asked on a throwaway channel: a
        NOT_FOUND closes that one, not the session's with its other consumers."""
        assert self._channel is not None
        underlay = await self._channel.get_underlay_channel()

        async def ask() -> bool:
            async with self._connections.probes:
                probe = await underlay.connection.channel(publisher_confirms=False, timeout=5)
                try:
                    await probe.queue_declare(name, passive=True, timeout=5)
                    return True
                except aiormq.exceptions.ChannelNotFoundEntity:
                    return False
                finally:
                    if not probe.is_closed:
                        await probe.close()

        # Shielded as in start(): a channel.open cut half-way may close the whole connection.
        asking = asyncio.ensure_future(ask())
        asking.add_done_callback(lambda done: done.cancelled() or done.exception())
        return await asyncio.shield(asking)

    async def add_queue(self, name: str) -> None:
        if self.closed or name in self._queues:
            return
        await self._declare(name)
        await self.refresh()

    async def _declare(self, name: str) -> None:
        assert self._channel is not None
        self._queues.setdefault(name, None)
        try:
            # robust=False: a reconnecting connection must not declare it again, which fails
            # (NOT_FOUND) while its node is down and would keep the connection, with every
            # session's channel on it, from coming back. _recover takes it up instead.
            self._queues[name] = await self._channel.declare_queue(
                name, durable=True, arguments=dict(names.DISPATCH_QUEUE_ARGUMENTS),
                robust=False,
            )
        except (aiormq.exceptions.AMQPError, aiormq.exceptions.ChannelInvalidStateError,
                asyncio.TimeoutError) as exc:
            self._mark_down(name, f"declare failed: {exc!r}")

    async def close(self) -> None:
        """Stop consuming; deliveries not yet acknowledged go back to their queues."""
        self.closed = True
        if self._recovery is not None:
            self._recovery.cancel()
        for _, timer in self._awaiting.values():
            timer.cancel()
        self._awaiting.clear()
        connection, self._connection = self._connection, None
        try:
            if self._channel is not None and not self._channel.is_closed:
                await self._channel.close()
        finally:
            if connection is not None:
                self._connections.release(connection)

    def set_running(self, attempts: set[tuple[str, int]]) -> None:
        """Adopt the worker's own report of what it runs: it is the truth, but for attempts
        taken or ended so recently that the report may have left before."""
        now = time.monotonic()
        self._taken_at = {k: t for k, t in self._taken_at.items() if now - t < SETTLE_SECONDS}
        self._ended_at = {k: t for k, t in self._ended_at.items() if now - t < SETTLE_SECONDS}
        self.running = (set(attempts) - set(self._ended_at)) | set(self._taken_at)

    def took(self, job_id: str, attempt: int) -> None:
        if (job_id, attempt) in self._ended_at:
            return  # its end was relayed before its start
        self.running.add((job_id, attempt))
        self._taken_at[(job_id, attempt)] = time.monotonic()

    async def started(self, job_id: str, attempt: int) -> None:
        """The attempt's start is in RabbitMQ: its lease covers it, its delivery can go."""
        await self._settle((job_id, attempt))

    async def finished(self, job_id: str, attempt: int) -> None:
        self.running.discard((job_id, attempt))
        self._taken_at.pop((job_id, attempt), None)
        self._ended_at[(job_id, attempt)] = time.monotonic()
        await self._settle((job_id, attempt))  # an end relayed before its start settles it too
        await self.refresh()

    async def _settle(self, key: tuple[str, int]) -> None:
        waiting = self._awaiting.pop(key, None)
        if waiting is None:
            return
        message, timer = waiting
        timer.cancel()
        # Why the prefetch first: acknowledged under the old, higher prefetch, the delivery's
        # place would be filled by RabbitMQ at once, with a job the worker has no slot for.
        await self.refresh()
        if not self.closed and not message.processed:
            try:
                await message.ack()
            except (aiormq.exceptions.AMQPError, aiormq.exceptions.ChannelInvalidStateError):
                # Its channel closed meanwhile: RabbitMQ requeued the delivery, and the copy
                # is dropped on arrival (the attempt is taken: Assigner.still_wanted).
                log.info("job %s: its delivery's channel closed before the ack", key[0])

    def _not_started(self, key: tuple[str, int], job: JobAssignment) -> None:
        async def record() -> None:
            if key not in self._awaiting:
                return
            try:
                await self._record(job)
            except Exception:  # noqa: BLE001 - not covered yet: try again a moment later
                log.warning("could not record the assignment of job %s; retrying", job.job_id)
                message, _ = self._awaiting[key]
                later = asyncio.get_running_loop().call_later(
                    ASSIGNED_AFTER_SECONDS, self._not_started, key, job)
                self._awaiting[key] = (message, later)
                return
            await self._settle(key)

        asyncio.get_running_loop().create_task(record())

    async def refresh(self) -> None:
        """Consume while there is a free slot; cancel every consumer otherwise."""
        async with self._lock:
            if self.closed or self._channel is None or self._channel.is_closed:
                return
            # Unacknowledged: the attempts being offered, and those waiting for their start.
            prefetch = max(0, self.capacity - len(self.running)) + len(self._awaiting)
            # Why consume on while a full worker's attempts wait for their start: the prefetch
            # (exactly those deliveries) already stops RabbitMQ, and cancelling and consuming
            # again each time a short job ends cost two round trips every few jobs. A prefetch
            # of 0 would mean no limit: with nothing to wait for, the consumers are cancelled.
            want = prefetch > 0 and not self.paused and not self.held
            if want:
                if prefetch != self._prefetch:
                    await self._channel.set_qos(prefetch_count=prefetch, global_=True)
                    self._prefetch = prefetch
                for name, queue in list(self._queues.items()):
                    # Every queue, including one added since the last consume, but those
                    # unavailable: _recover probes them first.
                    if queue is None or name in self._consumer_tags or name in self._down:
                        continue
                    try:
                        # robust=False: taken up again by _recover, not by aio-pika.
                        self._consumer_tags[name] = await queue.consume(self._on_delivery,
                                                                        robust=False)
                    except (aiormq.exceptions.AMQPError,
                            aiormq.exceptions.ChannelInvalidStateError,
                            asyncio.TimeoutError) as exc:
                        # The channel is closing with it: the others are consumed again
                        # once aio-pika reopened it, this one once it answers a probe.
                        self._mark_down(name, f"consume failed: {exc!r}")
                        return
            elif self._consumer_tags:
                for name, tag in list(self._consumer_tags.items()):
                    queue = self._queues[name]
                    try:
                        if queue is not None:
                            await queue.cancel(tag)
                    except (aiormq.exceptions.AMQPError,
                            aiormq.exceptions.ChannelInvalidStateError):
                        break  # the channel closed meanwhile, and its consumers with it
                self._consumer_tags.clear()

    async def _on_delivery(self, message: AbstractIncomingMessage) -> None:
        if self.closed or self.paused or self.held or self.free <= 0:
            # Raced with a cancel: give it back for this or another worker.
            metrics.REQUEUED.labels(reason="no_slot").inc()
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
            if message.redelivered and self._redelivered is not None:
                await self._redelivered(assignment, message)
                return
            prepared = await self._prepare(assignment, message)
            if prepared is None:
                await message.ack()  # cancelled while queued, superseded, unrunnable: never starts
                return
            if await self._assign(prepared):
                key = (assignment.job_id, assignment.attempt)
                self.took(*key)
                timer = asyncio.get_running_loop().call_later(
                    ASSIGNED_AFTER_SECONDS, self._not_started, key, assignment)
                self._awaiting[key] = (message, timer)
            else:
                metrics.REQUEUED.labels(reason="not_taken").inc()
                await message.nack(requeue=True)
        except Exception:
            log.exception("assigning job %s failed; requeueing it", assignment.job_id)
            if not message.processed:
                metrics.REQUEUED.labels(reason="error").inc()
                await message.nack(requeue=True)
        finally:
            self.reserved -= 1
            await self.refresh()


@dataclass
class _Check:
    """A delivered attempt to look up, and the answer (Assigner.still_wanted)."""

    job: JobAssignment
    wanted: bool = False


def _still_queued(doc: dict | None, job: JobAssignment) -> bool:
    """Whether the job as stored (`doc`, None: no such job) still waits for this attempt."""
    if doc is None or doc.get("tenant_id") != job.tenant_id or doc["attempt"] != job.attempt:
        return False
    attempts = doc.get("attempts") or []
    taken = len(attempts) >= job.attempt and attempts[job.attempt - 1].get("worker")
    return doc["status"] == JobStatus.queued.value and not taken


class Assigner:
    """Decides whether a delivered attempt still runs, and hands it to the worker."""

    def __init__(self, db: AsyncDatabase, secretbox: SecretBox, assign_timeout: float,
                 call: Callable[..., Awaitable[Any]],
                 publish_unrunnable: Callable[[JobAssignment, str], Awaitable[None]],
                 publish_settle: Callable[[AbstractIncomingMessage], Awaitable[None]],
                 revocations: Revocations | None = None) -> None:
        """`revocations`: None reads every delivered attempt's job."""
        self.db = db
        self.revocations = revocations
        self.secretbox = secretbox
        self.assign_timeout = assign_timeout
        self._call = call
        self._publish_unrunnable = publish_unrunnable
        self._publish_settle = publish_settle
        # Why a group commit: deliveries to many sessions arrive together (a relay batch
        # confirmed frees their slots at once); one `{_id: {$in}}` read answers them all.
        self._checks: GroupCommit[_Check] = GroupCommit(self._check_many, max_batch=100)

    async def still_wanted(self, job: JobAssignment) -> bool:
        """Still queued at this attempt, and not yet taken by a worker (a duplicate delivery)."""
        check = _Check(job)
        await self._checks.submit(check)
        return check.wanted

    async def _check_many(self, checks: list[_Check]) -> None:
        """One read for the deliveries of every session that arrived together."""
        # An id that is no ObjectId names no job: that delivery is dropped, the others read.
        ids = list({ObjectId(check.job.job_id) for check in checks
                    if ObjectId.is_valid(check.job.job_id)})
        cursor = self.db[names.JOBS_COLLECTION].find(
            {"_id": {"$in": ids}},
            {"tenant_id": 1, "status": 1, "attempt": 1, "attempts.worker": 1},
        )
        docs = {str(doc["_id"]): doc async for doc in cursor}
        for check in checks:
            check.wanted = _still_queued(docs.get(check.job.job_id), check.job)

    async def redelivered(self, job: JobAssignment, message: AbstractIncomingMessage) -> None:
        """A delivery that came back to its queue: its master or worker session went away
        before acknowledging it, so a worker may have taken it and not yet reported that. Why
        not offer it now: that report (confirmed but not yet applied, or resent by the worker
        once it reconnects) would land after the check, and the attempt would run twice. Still
        queued, it waits out the settle time in the settle queue and comes back as a new
        delivery; otherwise it is dropped. Acknowledged only once it is there, or dropped."""
        if await self.still_wanted(job):
            await self._publish_settle(message)
            metrics.REDELIVERIES_SETTLED.inc()
            log.info("job %s attempt %s came back to its queue: offered again after the settle "
                     "time", job.job_id, job.attempt)
        await message.ack()

    async def prepare(self, job: JobAssignment, message: AbstractIncomingMessage
                      ) -> JobAssignment | None:
        """The assignment to send, its secrets decrypted; None if it must not run.

        Whether it still runs: from the revocation list when that vouches for the delivery (a
        first copy, queued while this master heard every cancel), else from MongoDB.
        """
        if self.vouched(message):
            metrics.DISPATCH_CHECKS.labels(by="revocations").inc()
            assert self.revocations is not None
            if self.revocations.revoked(job.job_id, job.attempt):
                return None
        else:
            metrics.DISPATCH_CHECKS.labels(by="database").inc()
            if not await self.still_wanted(job):
                return None
        try:
            return secrets.reveal(job, self.secretbox)
        except secrets.SecretUnreadable as exc:
            log.error("job %s attempt %s cannot run: %s", job.job_id, job.attempt, exc)
            # Why: only the API writes job state; this event ends the job there, with the
            # reason, instead of the job being offered to worker after worker in vain.
            await self._publish_unrunnable(job, str(exc))
            return None

    def vouched(self, message: AbstractIncomingMessage) -> bool:
        """Whether the revocation list alone says if this delivery still runs."""
        headers = message.headers or {}
        if (self.revocations is None or message.redelivered or headers.get(names.COPY_HEADER)
                or names.DEATH_HEADER in headers):
            return False  # a copy of it may have run: only the job as stored can tell
        queued_ms = headers.get(names.QUEUED_AT_HEADER)
        if not isinstance(queued_ms, int) or isinstance(queued_ms, bool):
            return False  # published by an older API, or by hand
        return self.revocations.vouch(queued_ms / 1000)

    async def offer(self, sid: str, worker_id: str, job: JobAssignment) -> AssignAck | None:
        """Send `job:assign`; the worker's answer, or None when it gave none in time."""
        try:
            reply = await self._call(names.EV_JOB_ASSIGN, secrets.worker_payload(job), to=sid,
                                     timeout=self.assign_timeout)
        except (socketio.exceptions.TimeoutError, socketio.exceptions.SocketIOError) as exc:
            log.warning("worker %s did not take job %s: %r", worker_id, job.job_id, exc)
            return None
        try:
            return AssignAck.model_validate(reply)
        except ValidationError:
            log.warning("worker %s sent a malformed job:assign ack: %r", worker_id, reply)
            return None
