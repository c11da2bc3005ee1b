"""A small Server-Sent Events parser (https://html.spec.whatwg.org/#event-stream-interpretation)."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class ServerEvent:
    event: str
    data: str
    id: str | None = None


def parse_events(lines: Iterable[str]) -> Iterator[ServerEvent]:
    """Events from the lines of a stream (line endings already removed)."""
    event, data, event_id = "", [], None
    for line in lines:
        if not line:
            if data:
                yield ServerEvent(event or "message", "\n".join(data), event_id)
            event, data, event_id = "", [], None
            continue
        if line.startswith(":"):
            continue  # a comment, e.g. a keep-alive
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
        elif name == "id" and "\0" not in value:
            event_id = value
