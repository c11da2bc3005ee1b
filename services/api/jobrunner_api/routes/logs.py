"""A job's output: pages, a live Server-Sent Events stream, and a plain-text download."""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Request, status
from fastapi import Response
from fastapi.responses import StreamingResponse
from sse_starlette import EventSourceResponse, ServerSentEvent

from jobrunner_api import logs
from jobrunner_api.deps import CallerDep, PlatformDep
from jobrunner_api.documents import Attempt, JobView
from jobrunner_api.responses import TEXT, errors
from jobrunner_api.routes.jobs import tenant_job
from jobrunner_api.schemas import LogPage

router = APIRouter(tags=["logs"])
STREAM_BATCH = 1000


def pick_attempt(job: JobView, number: int | None) -> Attempt:
    if number is None:
        return job.current
    if not 1 <= number <= len(job.attempts):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"attempt {number} not found")
    return job.attempts[number - 1]


@router.get("/jobs/{job_id}/logs", responses=errors(404))
async def read_logs(
    job_id: str,
    caller: CallerDep,
    platform: PlatformDep,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
    attempt: Annotated[int | None, Query(ge=1)] = None,
) -> LogPage:
    job = await tenant_job(platform, job_id, caller.tenant_id)
    chosen = pick_attempt(job, attempt)
    lines = await logs.read_lines(job_id, chosen.number, after, limit)
    nxt = lines[-1].seq if lines else after
    return LogPage(lines=lines, next=nxt, complete=logs.complete(chosen, nxt))


@router.get("/jobs/{job_id}/logs/stream", response_class=EventSourceResponse,
            responses=errors(404))
async def stream_logs(
    job_id: str,
    request: Request,
    caller: CallerDep,
    platform: PlatformDep,
    after: Annotated[int | None, Query(ge=0)] = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> EventSourceResponse:
    """Stored lines after `Last-Event-ID` (or `?after=`), then live ones, then one `end`.

    Woken by the live feed whenever lines of the job were stored or its state changed (on any
    API process); it reads them from MongoDB by index.
    """
    job = await tenant_job(platform, job_id, caller.tenant_id)
    cursor = after or 0
    if last_event_id and last_event_id.isdigit():
        cursor = int(last_event_id)
    poll = platform.settings.log_poll_seconds

    async def events() -> AsyncIterator[ServerSentEvent]:
        nonlocal cursor, job
        attempt_no = job.attempt
        with platform.hub.log_waiter(job_id) as wake:
            while not await request.is_disconnected():
                wake.clear()
                lines = await logs.read_lines(job_id, attempt_no, cursor, STREAM_BATCH)
                if lines:
                    cursor = lines[-1].seq
                    payload = {"lines": [line.model_dump(mode="json") for line in lines]}
                    yield ServerSentEvent(data=json.dumps(payload), event="log", id=str(cursor))
                    continue
                job = await platform.jobs.get(job_id) or job
                if job.attempt != attempt_no and not job.status.is_final:
                    attempt_no, cursor = job.attempt, 0  # a retry: follow the new attempt
                    yield ServerSentEvent(
                        data=json.dumps({"attempt": attempt_no}), event="attempt"
                    )
                    continue
                if job.status.is_final and logs.complete(job.current, cursor):
                    end = {"status": job.status.value, "exit_code": job.exit_code}
                    yield ServerSentEvent(data=json.dumps(end), event="end")
                    return
                try:
                    await asyncio.wait_for(wake.wait(), timeout=poll)
                except TimeoutError:
                    pass

    return EventSourceResponse(events(), ping=15)


# response_class Response: the errors stay JSON in the schema, the 200 alone is text.
@router.get("/jobs/{job_id}/logs/download", response_class=Response, responses={
    200: {"description": "The attempt's whole log as text", "content": TEXT}, **errors(404)})
async def download_logs(
    job_id: str, caller: CallerDep, platform: PlatformDep,
    attempt: Annotated[int | None, Query(ge=1)] = None,
) -> StreamingResponse:
    job = await tenant_job(platform, job_id, caller.tenant_id)
    chosen = pick_attempt(job, attempt)

    async def body() -> AsyncIterator[bytes]:
        cursor = 0
        while True:
            lines = await logs.read_lines(job_id, chosen.number, cursor, 5000)
            if not lines:
                return
            cursor = lines[-1].seq
            yield ("\n".join(line.text for line in lines) + "\n").encode()

    filename = f"job-{job_id}-attempt-{chosen.number}.log"
    return StreamingResponse(
        body(),
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
