"""The live feed: every change applied to MongoDB, fanned out to the streams of every API process.

- Publishing (`Feed`): whoever applied a change to a job or a worker (a consumer, a route, the
  sweeper) publishes it to the changes exchange once its write landed, with the object as the
  API shows it.
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
from jobrunner_shared.messages import Change, JobChange, LogChange, WorkerChange

log = logging.getLogger(__name__)
MAX_BACKLOG = 1000

# What an /events stream is handed: a change, or None (the stream must end).
StreamItem = JobChange | WorkerChange | None


class Feed:
    """Publishes changes (after they were written) to every API process."""

    def __init__(self, broker: RabbitBroker, offline_after: float) -> None:
        self._broker = broker
        self._offline_after = offline_after

    async def job(self, job: JobView) -> None:
        change = JobChange(tenant_id=job.tenant_id, job_id=str(job.id), updated_at=job.updated_at,
                           data=JobOut.of(job).model_dump_json())
        await self._publish(change, names.CHANGE_JOB_KEY_PREFIX, job.tenant_id)

    async def worker(self, worker: Worker) -> None:
        data = WorkerOut.of(worker, self._offline_after).model_dump_json()
        change = WorkerChange(tenant_id=worker.tenant_id, worker_id=worker.id, data=data)
        await self._publish(change, names.CHANGE_WORKER_KEY_PREFIX, worker.tenant_id)

    async def log(self, tenant_id: str, job_id: str, attempt: int, last_seq: int) -> None:
        change = LogChange(tenant_id=tenant_id, job_id=job_id, attempt=attempt,
                           last_seq=last_seq)
        await self._publish(change, names.CHANGE_LOG_KEY_PREFIX, tenant_id)

    async def _publish(self, change: JobChange | WorkerChange | LogChange, prefix: str,
                       tenant_id: str) -> None:
        try:
            await amqp.publish_change(self._broker, change, names.change_key(prefix, tenant_id))
        except Exception as exc:  # noqa: BLE001 - the change is stored; streams catch up
            # Why not fail the caller: the write it reports landed; a stream that missed it
            # gets it on its client's next (re)connect, and the dashboard's safety poll.
            log.warning("could not publish a %s change to the live feed: %r", change.kind, exc)


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
