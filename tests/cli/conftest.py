"""The `jobrunner` CLI in process, against a fake REST API (respx routes on httpx)."""

import json
import time
from collections.abc import Iterator

import httpx
import pytest
import respx
from jobrunner_cli.app import main

API_URL = "http://api.test"
TOKEN = "tok-1"


@pytest.fixture(autouse=True)
def cli_env(monkeypatch, tmp_path):
    """A config directory of the test's own, no login, the fake API's URL, UTC times."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for name in ("JOBRUNNER_TOKEN", "JOBRUNNER_PROFILE", "JOBRUNNER_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JOBRUNNER_API_URL", API_URL)
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def token(monkeypatch) -> str:
    monkeypatch.setenv("JOBRUNNER_TOKEN", TOKEN)
    return TOKEN


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=f"{API_URL}/api/v1", assert_all_called=False) as router:
        yield router


def jobrunner(*argv: str) -> int:
    return main(list(argv))


class EventStream(httpx.SyncByteStream):
    """A text/event-stream body; `then_break` ends it like a dropped connection."""

    def __init__(self, events: list[tuple[str, str | None, dict]], then_break: bool = False):
        self.events = events
        self.then_break = then_break

    def __iter__(self):
        yield b": keep-alive\n\n"
        for event, event_id, data in self.events:
            head = f"event: {event}\n" + (f"id: {event_id}\n" if event_id else "")
            yield (head + f"data: {json.dumps(data)}\n\n").encode()
        if self.then_break:
            raise httpx.RemoteProtocolError("peer closed connection without sending complete "
                                            "message body")


def sse(events: list[tuple[str, str | None, dict]], then_break: bool = False) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "text/event-stream"},
                          stream=EventStream(events, then_break))


def job(**fields) -> dict:
    body = {
        "id": "job-1", "name": None, "status": "queued", "command": "true", "argv": None,
        "labels": [], "env": {}, "secrets": [], "timeout_seconds": None, "max_retries": 0,
        "priority": 0, "exit_code": None, "error": None, "worker": None, "worker_name": None,
        "attempt": 1, "attempts": [], "created_at": "2026-11-27T09:00:00Z", "started_at": None,
        "finished_at": None, "log_lines": 0, "log_truncated": False, "rerun_of": None,
    }
    body.update(fields)
    return body
