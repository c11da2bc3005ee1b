"""Storing output batches and reading them back in order, without gaps or duplicates."""

import logging

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from jobrunner_api.documents import Attempt, Job, LogChunk
from jobrunner_shared.messages import LogBatchEvent, LogLine

log = logging.getLogger(__name__)
MAX_PAGE_BYTES = 4 * 1024 * 1024
CHUNKS_PER_READ = 64


async def store_batch(batch: LogBatchEvent) -> bool:
    """Store one batch as one chunk. False when it was already stored (a resend)."""
    lines = sorted(batch.lines, key=lambda line: line.seq)
    chunk = LogChunk(
        id=LogChunk.key(batch.job_id, batch.attempt, lines[0].seq),
        tenant_id=batch.tenant_id,
        job_id=batch.job_id,
        attempt=batch.attempt,
        first_seq=lines[0].seq,
        last_seq=lines[-1].seq,
        lines=lines,
    )
    try:
        await LogChunk.get_pymongo_collection().insert_one(chunk.model_dump(by_alias=True))
    except DuplicateKeyError:
        return False  # Why: the worker resends unacknowledged batches; once is enough.
    # Why after the chunk: a crash in between leaves the count short, never the lines; the
    # resend finds the chunk stored and counts nothing twice. An $inc of a dotted path: state
    # transitions never write this field, so the two never overwrite each other.
    await Job.get_pymongo_collection().update_one(
        {"_id": PydanticObjectId(batch.job_id)},
        {"$inc": {Job.attempt_field(batch.attempt, "log_lines"): len(lines)}},
    )
    return True


async def read_lines(job_id: str, attempt: int, after: int, limit: int) -> list[LogLine]:
    """Up to `limit` lines with seq > after, in order, stopping at the first gap.

    A page also ends past MAX_PAGE_BYTES of text, so a log of very long lines comes in
    pieces a client can take, instead of one response of hundreds of megabytes.
    """
    out: list[LogLine] = []
    size = 0
    expected = after + 1
    collection = LogChunk.get_pymongo_collection()
    while True:
        # The chunks ending after the next seq wanted, in order (index job_id, attempt, last_seq).
        chunks = await collection.find(
            {"job_id": job_id, "attempt": attempt, "last_seq": {"$gte": expected}}
        ).sort("last_seq", 1).limit(CHUNKS_PER_READ).to_list()
        for doc in chunks:
            if doc["first_seq"] > expected:
                return out  # a batch still on its way: wait for it rather than skip it
            for raw in doc["lines"]:
                if raw["seq"] != expected:
                    continue
                out.append(LogLine.model_validate(raw))
                size += len(raw["text"])
                expected += 1
                if len(out) >= limit or size >= MAX_PAGE_BYTES:
                    return out
        if len(chunks) < CHUNKS_PER_READ:
            return out


def complete(attempt: Attempt, next_seq: int) -> bool:
    """Whether every line of the attempt is stored and read up to `next_seq`."""
    if not attempt.status.is_final:
        return False
    return attempt.last_seq is None or next_seq >= attempt.last_seq
