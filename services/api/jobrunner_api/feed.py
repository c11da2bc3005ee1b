"""The live feed: every change applied to MongoDB, fanned out to the streams of every API process.

- Publishing (`Feed`): whoever applied a change to a job or a worker (a consumer, a route, the
  sweeper) hands it over once its write landed, with the object as the API shows it; a few
  milliseconds' worth go to the changes exchange as one message per tenant.
- Receiving (`Hub`): each API process binds one exclusive, auto-delete queue to that exchange
  (consumers/changes.py) and hands each change to the /events streams of its tenant, and wakes
  the log streams of its job. MongoDB is read only to backfill a stream that (re)connects.

Why a stream may be ended: one that falls MAX_BACKLOG changes behind (its client reconnects
and catches up), and all of them when the connection to RabbitMQ was lost, because changes
published meanwhile never reached this process's queue (`Hub.reset`).
"""

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator

from faststream.rabbit import RabbitBroker

from jobrunner_api import metrics
from jobrunner_api.documents import JobView, Worker
from jobrunner_api.schemas import JobOut, WorkerOut
from jobrunner_shared import amqp, names
from jobrunner_shared.messages import Change, ChangeBatch, JobChange, LogChange, WorkerChange

log = logging.getLogger(__name__)
MAX_BACKLOG = 1000

# What an /events stream is handed: a change, or None (the stream must end).
StreamItem = JobChange | WorkerChange | None


class Feed:
    """Publishes changes (after they were written) to every API process.

    Changes are batched: what one process applies within FLUSH_SECONDS goes out as one message
    per tenant (ChangeBatch), in order. Why: a job changes four or five times in its life; one
    message per change cost RabbitMQ and every API process more than the changes themselves.
    """

    FLUSH_SECONDS = 0.02
    MAX_BATCH = 500

    def __init__(self, broker: RabbitBroker, offline_after: float) -> None:
        self._broker = broker
        self._offline_after = offline_after
        self._pending: dict[str, list[JobChange | WorkerChange | LogChange]] = {}
        self._count = 0
        self._flusher: asyncio.TimerHandle | None = None
        self._flushing: set[asyncio.Task[None]] = set()

    def job(self, job: JobView) -> None:
        self._add(JobChange(tenant_id=job.tenant_id, job_id=str(job.id),
                            updated_at=job.updated_at, data=JobOut.of(job).model_dump_json()))

    def worker(self, worker: Worker) -> None:
        data = WorkerOut.of(worker, self._offline_after).model_dump_json()
        self._add(WorkerChange(tenant_id=worker.tenant_id, worker_id=worker.id, data=data))

    def log(self, tenant_id: str, job_id: str, attempt: int, last_seq: int) -> None:
        self._add(LogChange(tenant_id=tenant_id, job_id=job_id, attempt=attempt,
                            last_seq=last_seq))

    def _add(self, change: JobChange | WorkerChange | LogChange) -> None:
        self._pending.setdefault(change.tenant_id, []).append(change)
        self._count += 1
        if self._count >= self.MAX_BATCH:
            self._flush()
        elif self._flusher is None:
            self._flusher = asyncio.get_running_loop().call_later(self.FLUSH_SECONDS, self._flush)

    def _flush(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            self._flusher = None
        pending, self._pending, self._count = self._pending, {}, 0
        for tenant_id, changes in pending.items():
            task = asyncio.get_running_loop().create_task(self._publish(tenant_id, changes))
            self._flushing.add(task)
            task.add_done_callback(self._flushing.discard)

    async def _publish(self, tenant_id: str, changes: list) -> None:
        try:
            await amqp.publish_change(self._broker, ChangeBatch(tenant_id=tenant_id,
                                                                changes=changes),
                                      names.change_key(tenant_id))
        except Exception as exc:  # noqa: BLE001 - the changes are stored; streams catch up
            # Why not fail anyone: the writes reported landed; a stream that missed them gets
            # them on its client's next (re)connect, and the dashboard's safety poll.
            log.warning("could not publish %d changes to the live feed: %r", len(changes), exc)

    async def close(self) -> None:
        """Publish what is pending (the process is stopping)."""
        self._flush()
        if self._flushing:
            await asyncio.wait(set(self._flushing), timeout=5)


class Hub:
    """This process's open streams: /events by tenant, log streams by job."""

    def __init__(self) -> None:
        self._streams: dict[str, set[asyncio.Queue[StreamItem]]] = defaultdict(set)
        self._log_waiters: dict[str, set[asyncio.Event]] = defaultdict(set)

    @contextlib.asynccontextmanager
    async def events(self, tenant_id: str) -> AsyncIterator[asyncio.Queue[StreamItem]]:
        queue: asyncio.Queue[StreamItem] = asyncio.Queue()
        self._streams[tenant_id].add(queue)
        metrics.EVENT_STREAMS.inc()
        try:
            yield queue
        finally:
            metrics.EVENT_STREAMS.dec()
            self._discard(self._streams, tenant_id, queue)

    @contextlib.contextmanager
    def log_waiter(self, job_id: str) -> Iterator[asyncio.Event]:
        """An event set whenever lines of the job were stored or its state changed."""
        event = asyncio.Event()
        self._log_waiters[job_id].add(event)
        try:
            yield event
        finally:
            self._discard(self._log_waiters, job_id, event)

    def deliver_batch(self, batch: ChangeBatch) -> None:
        for change in batch.changes:
            self.deliver(change)

    def deliver(self, change: Change) -> None:
        if isinstance(change, JobChange | LogChange):
            for event in self._log_waiters.get(change.job_id, ()):
                event.set()
        if isinstance(change, LogChange):
            return
        for queue in list(self._streams.get(change.tenant_id, ())):
            if queue.qsize() >= MAX_BACKLOG:
                self._discard(self._streams, change.tenant_id, queue)
                queue.put_nowait(None)  # ends that stream; its client reconnects
            else:
                queue.put_nowait(change)

    def reset(self, *_: object) -> None:
        """The feed's queue was lost with the connection: what was published meanwhile never
        came. End every /events stream (clients reconnect and refetch) and wake every log
        stream (each reads what is stored)."""
        log.warning("live feed reconnected: ending %d event streams", self.open_streams)
        for tenant_id, queues in list(self._streams.items()):
            for queue in list(queues):
                queue.put_nowait(None)
            self._streams.pop(tenant_id, None)
        for waiters in self._log_waiters.values():
            for event in waiters:
                event.set()

    @property
    def open_streams(self) -> int:
        return sum(len(queues) for queues in self._streams.values())

    @staticmethod
    def _discard(table: dict, key: str, item: object) -> None:
        members = table.get(key)
        if members is not None:
            members.discard(item)
            if not members:
                del table[key]
