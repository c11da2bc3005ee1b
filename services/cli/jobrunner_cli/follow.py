"""Following a job's output live: `GET /jobs/{id}/logs/stream` (Server-Sent Events, httpx-sse).

The stream sends `log` events (id = the last line's seq), an `attempt` event when a retry
starts (its lines count from 1 again), and one `end` event with the final status. A stream
that breaks is resumed after the last line printed (`Last-Event-ID`), so no line is printed
twice or skipped; it gives up after FOLLOW_RETRIES failures in a row with no event between.
"""

import json
import time
from typing import Any

import httpx
from httpx_sse import SSEError, connect_sse

from .client import Api
from .errors import CliError, Unreachable
from .output import is_terminal, note, print_lines

FOLLOW_RETRIES = 10
# The API sends a keep-alive comment every 15 s: a connection silent for this long is dead.
READ_TIMEOUT_SECONDS = 60.0


def backoff(failures: int) -> float:
    return min(5.0, 0.2 * 2 ** (failures - 1))


def follow(api: Api, job_id: str) -> dict[str, Any]:
    """Print the job's output as it comes until it ends; return the `end` event's data."""
    api.require_token()
    last_id: str | None = None
    failures = 0
    connected = False
    timeout = httpx.Timeout(api.timeout, read=READ_TIMEOUT_SECONDS)
    while True:
        headers = {"Last-Event-ID": last_id} if last_id else {}
        try:
            with connect_sse(api.http, "GET", f"/jobs/{job_id}/logs/stream", headers=headers,
                             timeout=timeout) as source:
                if source.response.status_code >= 400:
                    source.response.read()
                    api.check(source.response)
                connected = True
                for event in source.iter_sse():
                    failures = 0
                    data = parse(event.data, job_id)
                    if event.event == "end":
                        return data
                    if event.event == "log":
                        print_lines(data.get("lines") or [])
                        if event.id:
                            last_id = event.id
                    elif event.event == "attempt":
                        last_id = "0"  # the new attempt's lines count from 1
                        if is_terminal():
                            note(f"jobrunner: attempt {data.get('attempt')} of job {job_id}")
            reason = "the stream ended before the job did"
        except SSEError as exc:
            raise CliError(f"the log stream of job {job_id} is not an event stream: {exc}")
        except httpx.TransportError as exc:
            if not connected:  # never reached the API at all: say so now, do not retry
                with api.translated():
                    raise
            reason = str(exc) or type(exc).__name__
        failures += 1
        if failures > FOLLOW_RETRIES:
            raise Unreachable(f"lost the log stream of job {job_id}: {reason}")
        time.sleep(backoff(failures))


def parse(data: str, job_id: str) -> dict[str, Any]:
    try:
        value = json.loads(data) if data else {}
    except ValueError:
        raise CliError(f"unreadable event in the log stream of job {job_id}") from None
    return value if isinstance(value, dict) else {}
