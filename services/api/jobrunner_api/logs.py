"""Storing output batches and reading them back in order, without gaps or duplicates."""

import asyncio
import logging
from collections import defaultdict

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from jobrunner_api.documents import Attempt, Job, LogChunk
from jobrunner_shared.messages import LogBatchEvent, LogLine

log = logging.getLogger(__name__)


class LogNotifier:
    """Wakes this process's live readers of a job when a batch for it was stored here.

    Readers also poll, so batches stored by another API process reach them too.
    """

    def __init__(self) -> None:
        self._events: dict[str, set[asyncio.Event]] = defaultdict(set)

    def subscribe(self, job_id: str) -> asyncio.Event:
        event = asyncio.Event()
        self._events[job_id].add(event)
        return event

    def unsubscribe(self, job_id: str, event: asyncio.Event) -> None:
        waiters = self._events.get(job_id)
        if waiters is not None:
            waiters.discard(event)
            if not waiters:
                del self._events[job_id]

    def notify(self, job_id: str) -> None:
        for event in self._events.get(job_id, ()):
            event.set()


async def store_batch(batch: LogBatchEvent) -> bool:
    """Store one batch as one chunk. False when it was already stored (a resend)."""
    lines = sorted(batch.lines, key=lambda line: line.seq)
    chunk = LogChunk(
        tenant_id=batch.tenant_id,
        job_id=batch.job_id,
        attempt=batch.attempt,
        first_seq=lines[0].seq,
        last_seq=lines[-1].seq,
        lines=lines,
    )
    try:
        await chunk.insert()
    except DuplicateKeyError:
        return False  # Why: the worker resends unacknowledged batches; once is enough.
    await Job.find_one(
        Job.id == PydanticObjectId(batch.job_id), Job.attempt == batch.attempt
    ).update({"$inc": {"log_lines": len(lines), "version": 1}})
    return True


async def read_lines(job_id: str, attempt: int, after: int, limit: int) -> list[LogLine]:
    """Lines with seq > after, stopping at the first gap so a reader never skips a line."""
    out: list[LogLine] = []
    expected = after + 1
    chunks = LogChunk.find(
        LogChunk.job_id == job_id, LogChunk.attempt == attempt, LogChunk.last_seq > after
    ).sort(+LogChunk.first_seq)
    async for chunk in chunks:
        if chunk.first_seq > expected:
            break  # a batch still on its way: wait for it rather than skip it
        for line in chunk.lines:
            if line.seq == expected:
                out.append(line)
                expected += 1
                if len(out) >= limit:
                    return out
    return out


def complete(attempt: Attempt, next_seq: int) -> bool:
    """Whether every line of the attempt is stored and read up to `next_seq`."""
    if not attempt.status.is_final:
        return False
    return attempt.last_seq is None or next_seq >= attempt.last_seq
