"""`GET /api/v1/events`: Server-Sent Events of the tenant's job and worker changes.

Each stream looks at MongoDB every EVENTS_POLL_SECONDS for jobs changed since its last look and
for workers whose state changed, so it works the same behind any number of API processes.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from jobrunner_api import workers
from jobrunner_api.deps import CallerDep, PlatformDep
from jobrunner_api.documents import Job, Worker
from jobrunner_api.schemas import JobOut, WorkerOut
from jobrunner_shared.messages import utcnow

router = APIRouter(tags=["events"])
BATCH = 200
# A job's updated_at is taken before its write lands, and writes of different jobs land out of
# order, so each look reaches this far back (and remembers what it sent) to miss none.
LOOKBACK = timedelta(seconds=10)


class JobChanges:
    """Which changed jobs a stream has still to send: each (job, updated_at) once."""

    def __init__(self, start: datetime) -> None:
        self.since = start - LOOKBACK
        self.sent: dict[str, datetime] = {}

    def fresh(self, jobs: list[Job]) -> list[Job]:
        """The jobs (sorted by updated_at) newer than what this stream sent of them."""
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


@router.get("/events", response_class=EventSourceResponse)
async def events(request: Request, caller: CallerDep, platform: PlatformDep) -> EventSourceResponse:
    """`job` events (a job as `GET /jobs/{id}` shows it) and `worker` events (as in the list).

    A `ready` event opens the stream. A job may be sent again with the same state; clients
    keep the newest by `updated_at`.
    """
    settings = platform.settings

    async def stream() -> AsyncIterator[ServerSentEvent]:
        changes = JobChanges(utcnow())
        seen_workers: dict[str, str] = {}
        first = True
        yield ServerSentEvent(data="{}", event="ready")  # the client knows it is live
        while not await request.is_disconnected():
            began = utcnow()
            for job in changes.fresh(await changed_jobs(caller.tenant_id, changes.since)):
                yield ServerSentEvent(data=JobOut.of(job).model_dump_json(), event="job")
            changes.looked(began)
            async for worker in Worker.find(Worker.tenant_id == caller.tenant_id):
                out = WorkerOut.of(worker, workers.status(
                    worker, settings.worker_offline_after_seconds))
                state = json.dumps([out.status, out.running, out.labels, out.capacity])
                if seen_workers.get(worker.id) != state:
                    seen_workers[worker.id] = state
                    if not first:
                        yield ServerSentEvent(data=out.model_dump_json(), event="worker")
            first = False
            await asyncio.sleep(settings.events_poll_seconds)

    return EventSourceResponse(stream(), ping=15)
