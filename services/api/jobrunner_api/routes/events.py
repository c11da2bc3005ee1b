"""`GET /api/v1/events`: Server-Sent Events of the tenant's job and worker changes.

Each stream looks at MongoDB every EVENTS_POLL_SECONDS for jobs changed since its last look and
for workers whose state changed, so it works the same behind any number of API processes.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime

from fastapi import APIRouter, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from jobrunner_api import workers
from jobrunner_api.deps import CallerDep, PlatformDep
from jobrunner_api.documents import Job, Worker
from jobrunner_api.schemas import JobOut, WorkerOut
from jobrunner_shared.messages import utcnow

router = APIRouter(tags=["events"])
BATCH = 200


@router.get("/events", response_class=EventSourceResponse)
async def events(request: Request, caller: CallerDep, platform: PlatformDep) -> EventSourceResponse:
    """`job` events (a job as `GET /jobs/{id}` shows it) and `worker` events (as in the list)."""
    settings = platform.settings

    async def stream() -> AsyncIterator[ServerSentEvent]:
        since: datetime = utcnow()
        at_since: set[str] = set()  # jobs already sent with updated_at == since
        seen_workers: dict[str, str] = {}
        first = True
        yield ServerSentEvent(data="{}", event="ready")  # the client knows it is live
        while not await request.is_disconnected():
            # >= and a memory of the boundary: stored times have millisecond precision.
            changed = await Job.find(
                Job.tenant_id == caller.tenant_id, Job.updated_at >= since
            ).sort(+Job.updated_at).limit(BATCH).to_list()
            for job in changed:
                key = f"{job.id}"
                if job.updated_at == since and key in at_since:
                    continue
                if job.updated_at > since:
                    since, at_since = job.updated_at, set()
                at_since.add(key)
                yield ServerSentEvent(data=JobOut.of(job).model_dump_json(), event="job")
            async for worker in Worker.find(Worker.tenant_id == caller.tenant_id):
                out = WorkerOut.of(worker, workers.status(
                    worker, settings.worker_offline_after_seconds))
                state = json.dumps([out.status, out.running, out.labels, out.capacity])
                if seen_workers.get(worker.id) != state:
                    seen_workers[worker.id] = state
                    if not first:
                        yield ServerSentEvent(data=out.model_dump_json(), event="worker")
            first = False
            if len(changed) < BATCH:
                await asyncio.sleep(settings.events_poll_seconds)

    return EventSourceResponse(stream(), ping=15)
