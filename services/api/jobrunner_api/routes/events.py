"""`GET /api/v1/events`: Server-Sent Events of the tenant's job and worker changes."""

import itertools
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Header, Query
from sse_starlette import EventSourceResponse, ServerSentEvent

from jobrunner_api.deps import CallerDep, PlatformDep
from jobrunner_api.documents import Job, JobView, Worker
from jobrunner_api.schemas import JobOut, WorkerOut
from jobrunner_shared.messages import JobChange, WorkerChange

router = APIRouter(tags=["events"])
# At most this many changed jobs are replayed to a stream that reconnects; a client further
# behind gets a `reset` event and refetches what it shows.
BACKFILL_MAX = 1000
# Writes of different jobs land in a slightly different order than their stamps: reach back.
BACKFILL_SLACK = timedelta(seconds=2)
# Live changes written to a stream at once at most.
CHANGES_PER_WRITE = 200


def _event_id(updated_at: datetime) -> str:
    return updated_at.isoformat(timespec="milliseconds")


@router.get("/events", response_class=EventSourceResponse)
async def events(
    caller: CallerDep,
    platform: PlatformDep,
    since: Annotated[datetime | None, Query(
        description="Also send the jobs changed since then (as Last-Event-ID does).")] = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> EventSourceResponse:
    """`job` events (a job as `GET /jobs/{id}` shows it) and `worker` events (as in the list).

    A `ready` event opens the stream. A job may be sent more than once; clients keep the one
    with the highest `version`. Each job event's id is its `updated_at`: a client that
    reconnects with `Last-Event-ID` (or `?since=`) first gets every job changed since then and
    every worker, then the live changes; one that is too far behind gets a `reset` event
    (refetch what you show). Without either, what changed before the stream opened is not sent.
    """
    if last_event_id:
        try:
            since = datetime.fromisoformat(last_event_id)
        except ValueError:
            pass  # not one of ours: no backfill

    async def stream() -> AsyncIterator[ServerSentEvent]:
        # Subscribed before the backfill is read, so that nothing falls between the two.
        async with platform.hub.events(caller.tenant_id) as queue:
            yield ServerSentEvent(data="{}", event="ready")  # the client knows it is live
            if since is not None:
                async for event in _backfill(platform, caller.tenant_id, since):
                    yield event
            while True:
                # Why together: a feed message brings many changes at once under load; one
                # chunk (one pass through the ASGI stack, one write) carries all that wait.
                changes = [await queue.get()]
                while not queue.empty() and len(changes) < CHANGES_PER_WRITE:
                    changes.append(queue.get_nowait())
                live = list(itertools.takewhile(lambda change: change is not None, changes))
                if live:
                    yield b"".join(_sse(change).encode() for change in live)
                if len(live) < len(changes):
                    return  # None: this stream must end (hub.Hub.deliver, Hub.reset)

    return EventSourceResponse(stream(), ping=15)


def _sse(change: JobChange | WorkerChange) -> ServerSentEvent:
    if isinstance(change, JobChange):
        return ServerSentEvent(data=change.data, event="job", id=_event_id(change.updated_at))
    return ServerSentEvent(data=change.data, event="worker")


async def _backfill(platform: PlatformDep, tenant_id: str,
                    since: datetime) -> AsyncIterator[ServerSentEvent]:
    """The jobs changed since `since` (index tenant_id, updated_at), then every worker."""
    docs = await Job.get_pymongo_collection().find(
        {"tenant_id": tenant_id, "updated_at": {"$gte": since - BACKFILL_SLACK}}
    ).sort("updated_at", 1).limit(BACKFILL_MAX + 1).to_list()
    if len(docs) > BACKFILL_MAX:
        yield ServerSentEvent(data="{}", event="reset")
    else:
        for doc in docs:
            job = JobView.model_validate(doc)
            yield ServerSentEvent(data=JobOut.of(job).model_dump_json(), event="job",
                                  id=_event_id(job.updated_at))
    offline_after = platform.settings.worker_offline_after_seconds
    async for worker in Worker.find(Worker.tenant_id == tenant_id):
        yield ServerSentEvent(data=WorkerOut.of(worker, offline_after).model_dump_json(),
                              event="worker")
