"""`GET /api/v1/events`: Server-Sent Events of the tenant's job and worker changes."""

from collections.abc import AsyncIterator

from fastapi import APIRouter
from sse_starlette import EventSourceResponse, ServerSentEvent

from jobrunner_api.deps import CallerDep, PlatformDep

router = APIRouter(tags=["events"])


@router.get("/events", response_class=EventSourceResponse)
async def events(caller: CallerDep, platform: PlatformDep) -> EventSourceResponse:
    """`job` events (a job as `GET /jobs/{id}` shows it) and `worker` events (as in the list).

    A `ready` event opens the stream. A job may be sent again with the same state; clients
    keep the newest by `updated_at`. What changed before the stream opened is not sent.
    """

    async def stream() -> AsyncIterator[ServerSentEvent]:
        async with platform.changes.subscribe(caller.tenant_id) as queue:
            yield ServerSentEvent(data="{}", event="ready")  # the client knows it is live
            while (event := await queue.get()) is not None:
                yield event

    return EventSourceResponse(stream(), ping=15)
