"""Storing output batches and reading them back in order, without gaps or duplicates."""

import asyncio
import bisect
import logging
from collections import defaultdict
from collections.abc import AsyncIterator

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from jobrunner_api.documents import Attempt, Job, LogChunk, LogIndex
from jobrunner_api.locks import job_lock
from jobrunner_shared.messages import LogBatchEvent, LogLine

log = logging.getLogger(__name__)
MAX_PAGE_BYTES = 4 * 1024 * 1024


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
    first = lines[0].seq
    async with job_lock(batch.job_id):
        # Index first: a crash before the chunk is written leaves an entry that readers treat
        # as "not here yet", and the worker's resend then writes the chunk.
        await LogIndex.get_pymongo_collection().update_one(
            {"_id": LogIndex.key(batch.job_id, batch.attempt)},
            {"$addToSet": {"starts": first}},
            upsert=True,
        )
        try:
            await LogChunk(
                id=LogChunk.key(batch.job_id, batch.attempt, first),
                tenant_id=batch.tenant_id,
                job_id=batch.job_id,
                attempt=batch.attempt,
                first_seq=first,
                last_seq=lines[-1].seq,
                lines=lines,
            ).insert()
        except DuplicateKeyError:
            return False  # Why: the worker resends unacknowledged batches; once is enough.
        await Job.get_pymongo_collection().update_one(
            {"_id": PydanticObjectId(batch.job_id)},
            {"$inc": {Job.attempt_field(batch.attempt, "log_lines"): len(lines)}},
        )
    return True


async def _chunks_from(job_id: str, attempt: int, after: int) -> AsyncIterator[LogChunk]:
    """The stored chunks holding seq after+1 onwards, in order, up to the first gap."""
    index = await LogIndex.get(LogIndex.key(job_id, attempt))
    if index is None:
        return
    starts = sorted(index.starts)
    at = bisect.bisect_right(starts, after + 1) - 1
    if at < 0:
        return
    expected = after + 1
    for start in starts[at:]:
        if start > expected:
            return  # a batch still on its way: wait for it rather than skip it
        chunk = await LogChunk.get(LogChunk.key(job_id, attempt, start))
        if chunk is None:
            return
        yield chunk
        expected = max(expected, chunk.last_seq + 1)


async def read_lines(job_id: str, attempt: int, after: int, limit: int) -> list[LogLine]:
    """Up to `limit` lines with seq > after, in order, stopping at the first gap.

    A page also ends past MAX_PAGE_BYTES of text, so a log of very long lines comes in
    pieces a client can take, instead of one response of hundreds of megabytes.
    """
    out: list[LogLine] = []
    size = 0
    expected = after + 1
    async for chunk in _chunks_from(job_id, attempt, after):
        for line in chunk.lines:
            if line.seq == expected:
                out.append(line)
                size += len(line.text)
                expected += 1
                if len(out) >= limit or size >= MAX_PAGE_BYTES:
                    return out
    return out


def complete(attempt: Attempt, next_seq: int) -> bool:
    """Whether every line of the attempt is stored and read up to `next_seq`."""
    if not attempt.status.is_final:
        return False
    return attempt.last_seq is None or next_seq >= attempt.last_seq
