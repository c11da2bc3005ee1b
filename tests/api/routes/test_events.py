"""GET /events without servers: live changes waiting together go out as one chunk, in order,
and the stream ends when the hub ends it (its client reconnects and catches up)."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from types import SimpleNamespace

from fastapi import FastAPI

from jobrunner_api.deps import Caller, get_caller, get_platform
from jobrunner_api.feed import Hub
from jobrunner_api.routes import events
from jobrunner_shared.messages import JobChange, WorkerChange


def app_with(hub: Hub) -> FastAPI:
    app = FastAPI()
    app.include_router(events.router)
    caller = Caller(user_id="u1", tenant_id="t1", username="ann", role="member",
                    platform_admin=False, address=None)
    app.dependency_overrides[get_caller] = lambda: caller
    app.dependency_overrides[get_platform] = lambda: SimpleNamespace(hub=hub)
    return app


async def body_chunks(app: FastAPI) -> list[bytes]:
    """The body chunks of one GET /events, as the server sent them, until it ended."""
    chunks: list[bytes] = []
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": "http", "path": "/events", "raw_path": b"/events", "query_string": b"",
             "root_path": "", "headers": [], "client": ("127.0.0.1", 1), "server": ("x", 80)}
    requested = False

    async def receive() -> dict:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await hub_done  # the client stays until the server ends the response
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.body" and message.get("body"):
            chunks.append(message["body"])

    hub_done = asyncio.get_running_loop().create_future()
    try:
        await asyncio.wait_for(app(scope, receive, send), 10)
    finally:
        if not hub_done.done():
            hub_done.set_result(None)
    return chunks


class FilledHub(Hub):
    """A hub whose stream finds these changes already waiting when it opens."""

    def __init__(self, waiting: list) -> None:
        super().__init__()
        self.waiting = waiting

    @contextlib.asynccontextmanager
    async def events(self, tenant_id: str) -> AsyncIterator[asyncio.Queue]:
        async with super().events(tenant_id) as queue:
            for change in self.waiting:
                queue.put_nowait(change)
            yield queue


async def test_changes_waiting_together_go_out_in_one_chunk_and_none_ends_the_stream() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    waiting = [JobChange(tenant_id="t1", job_id="j1", updated_at=at, data='{"id":"j1"}'),
               WorkerChange(tenant_id="t1", worker_id="w1", data='{"id":"w1"}'),
               JobChange(tenant_id="t1", job_id="j2", updated_at=at, data='{"id":"j2"}'),
               None,  # the hub ends the stream (the client fell behind, or the feed was lost)
               JobChange(tenant_id="t1", job_id="j3", updated_at=at, data='{"id":"j3"}')]
    chunks = await body_chunks(app_with(FilledHub(waiting)))
    assert b"event: ready" in chunks[0]
    live = [chunk for chunk in chunks[1:] if not chunk.startswith(b":")]  # pings aside
    assert len(live) == 1  # one chunk for the three
    text = live[0].decode()
    assert text.index('"j1"') < text.index('"w1"') < text.index('"j2"')
    assert text.count("event: job") == 2 and text.count("event: worker") == 1
    assert "id: 2026-01-01T00:00:00.000+00:00" in text
    assert '"j3"' not in text  # nothing after the end
