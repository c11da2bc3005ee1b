"""The change feed behind `GET /api/v1/events`: one look at MongoDB per tenant, for every stream.

Each API process runs one poller per tenant that has an open stream; it looks every
EVENTS_POLL_SECONDS for jobs changed since its last look and workers whose state changed, and
hands the events to every stream of that tenant. So ten open dashboards cost one query a
second, not ten, and it works the same behind any number of API processes.
"""

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

from pymongo.errors import PyMongoError
from sse_starlette import ServerSentEvent

from jobrunner_api import metrics, workers
from jobrunner_api.documents import Job, Worker
from jobrunner_api.schemas import JobOut, WorkerOut
from jobrunner_shared.messages import utcnow

log = logging.getLogger(__name__)
BATCH = 200
# A job's updated_at is taken before its write lands, and writes of different jobs land out of
# order, so each look reaches this far back (and remembers what it sent) to miss none.
LOOKBACK = timedelta(seconds=10)
# A stream this far behind is cut; its client reconnects and refetches (the `ready` event).
MAX_BACKLOG = 1000


class JobChanges:
    """Which changed jobs a feed has still to send: each (job, updated_at) once."""

    def __init__(self, start: datetime) -> None:
        self.since = start - LOOKBACK
        self.sent: dict[str, datetime] = {}

    def fresh(self, jobs: list[Job]) -> list[Job]:
        """The jobs (sorted by updated_at) newer than what this feed sent of them."""
        out = []
        for job in jobs:
            key = str(job.id)
            last = self.sent.get(key)
            if last is None or job.updated_at > last:
                self.sent[key] = job.updated_at
                out.append(job)
        return out

    def looked(self, at: datetime) -> None:
        """A look that began at `at` is done: the next one reaches back from there."""
        self.since = at - LOOKBACK
        self.sent = {key: ts for key, ts in self.sent.items() if ts >= self.since}


async def changed_jobs(tenant_id: str, since: datetime) -> list[Job]:
    """Every job of the tenant with updated_at >= since, oldest change first, in pages."""
    jobs: list[Job] = []
    cursor = since
    while True:
        page = await Job.find(
            Job.tenant_id == tenant_id, Job.updated_at >= cursor
        ).sort(+Job.updated_at).limit(BATCH).to_list()
        jobs.extend(page)
        if len(page) < BATCH or page[-1].updated_at == cursor:
            return jobs
        cursor = page[-1].updated_at


class TenantFeed:
    """The poller of one tenant and the queues of its open streams."""

    def __init__(self, tenant_id: str, poll_seconds: float, offline_after: float) -> None:
        self.tenant_id = tenant_id
        self.poll_seconds = poll_seconds
        self.offline_after = offline_after
        self.streams: set[asyncio.Queue[ServerSentEvent | None]] = set()
        self.task: asyncio.Task[None] | None = None

    def _send(self, event: ServerSentEvent) -> None:
        for queue in list(self.streams):
            if queue.qsize() >= MAX_BACKLOG:
                self.streams.discard(queue)
                queue.put_nowait(None)  # ends that stream; its client reconnects
            else:
                queue.put_nowait(event)

    async def run(self) -> None:
        changes = JobChanges(utcnow())
        seen_workers: dict[str, str] = {}
        first = True
        while self.streams:
            began = utcnow()
            try:
                for job in changes.fresh(await changed_jobs(self.tenant_id, changes.since)):
                    self._send(ServerSentEvent(data=JobOut.of(job).model_dump_json(), event="job"))
                changes.looked(began)
                async for worker in Worker.find(Worker.tenant_id == self.tenant_id):
                    out = WorkerOut.of(worker, workers.status(worker, self.offline_after))
                    state = json.dumps([out.status, out.running, out.labels, out.capacity])
                    if seen_workers.get(worker.id) != state:
                        seen_workers[worker.id] = state
                        if not first:
                            self._send(ServerSentEvent(data=out.model_dump_json(), event="worker"))
                first = False
            except PyMongoError as exc:
                # Why: the next look reaches back over this one (LOOKBACK), so nothing is lost.
                log.warning("change feed of tenant %s: a look failed: %s", self.tenant_id, exc)
            await asyncio.sleep(self.poll_seconds)

    def ended(self, task: asyncio.Task[None]) -> None:
        """The poller died of a bug: end its streams, whose clients reconnect to a new one."""
        if task.cancelled() or task.exception() is None:
            return
        log.error("change feed of tenant %s failed", self.tenant_id, exc_info=task.exception())
        for queue in self.streams:
            queue.put_nowait(None)
        self.streams.clear()


class ChangeFeeds:
    """Every tenant's feed in this process, started by the first stream, ended by the last."""

    def __init__(self, poll_seconds: float, offline_after: float) -> None:
        self.poll_seconds = poll_seconds
        self.offline_after = offline_after
        self.feeds: dict[str, TenantFeed] = {}

    @contextlib.asynccontextmanager
    async def subscribe(self, tenant_id: str) -> AsyncIterator[asyncio.Queue[ServerSentEvent | None]]:
        feed = self.feeds.get(tenant_id)
        if feed is None:
            feed = self.feeds[tenant_id] = TenantFeed(
                tenant_id, self.poll_seconds, self.offline_after)
        queue: asyncio.Queue[ServerSentEvent | None] = asyncio.Queue()
        feed.streams.add(queue)
        metrics.EVENT_STREAMS.inc()
        metrics.CHANGE_FEEDS.set(len(self.feeds))
        if feed.task is None or feed.task.done():
            feed.task = asyncio.create_task(feed.run(), name=f"change-feed-{tenant_id}")
            feed.task.add_done_callback(feed.ended)
        try:
            yield queue
        finally:
            metrics.EVENT_STREAMS.dec()
            feed.streams.discard(queue)
            if not feed.streams and self.feeds.get(tenant_id) is feed:
                del self.feeds[tenant_id]
                feed.task.cancel()
            metrics.CHANGE_FEEDS.set(len(self.feeds))
