"""Storing output batches and reading them back in order, without gaps or duplicates."""

import logging
from collections import Counter

from beanie import PydanticObjectId
from pymongo import UpdateOne
from pymongo.errors import BulkWriteError

from jobrunner_api.documents import Attempt, Job, LogChunk
from jobrunner_shared import dberrors
from jobrunner_shared.messages import LogBatchEvent, LogLine

log = logging.getLogger(__name__)
MAX_PAGE_BYTES = 4 * 1024 * 1024
CHUNKS_PER_READ = 64


def _chunk(batch: LogBatchEvent) -> dict:
    lines = sorted(batch.lines, key=lambda line: line.seq)
    return LogChunk(
        id=LogChunk.key(batch.job_id, batch.attempt, lines[0].seq),
        tenant_id=batch.tenant_id,
        job_id=batch.job_id,
        attempt=batch.attempt,
        first_seq=lines[0].seq,
        last_seq=lines[-1].seq,
        lines=lines,
    ).model_dump(by_alias=True)


async def store_batches(batches: list[LogBatchEvent]) -> list[LogBatchEvent]:
    """Store each batch as one chunk (one insert for all), then count its lines on its
    attempt; returns those not stored before.

    Why a resend is harmless: a chunk's `_id` is job:attempt:first seq, so a batch the worker
    sent again is a duplicate key, stored once and counted once.
    """
    stored = await insert_chunks(batches)
    # After the chunks: a crash in between leaves the count short, never the lines. An $inc of
    # a dotted path, one per attempt: state transitions never write this field.
    counts: Counter[tuple[str, int]] = Counter()
    for batch in stored:
        counts[(batch.job_id, batch.attempt)] += len(batch.lines)
    updates = [UpdateOne({"_id": PydanticObjectId(job_id)},
                         {"$inc": {Job.attempt_field(attempt, "log_lines"): n}})
               for (job_id, attempt), n in counts.items() if PydanticObjectId.is_valid(job_id)]
    if updates:
        await Job.get_pymongo_collection().bulk_write(updates, ordered=False)
    return stored


async def insert_chunks(batches: list[LogBatchEvent]) -> list[LogBatchEvent]:
    """Store each batch as one chunk (one insert for all), not counted; returns those not
    stored before (a resent batch is a duplicate `_id`)."""
    chunks = [_chunk(batch) for batch in batches]
    duplicates: set[int] = set()
    try:
        await LogChunk.get_pymongo_collection().insert_many(chunks, ordered=False)
    except BulkWriteError as exc:
        for error in exc.details.get("writeErrors", []):
            if error.get("code") != dberrors.DUPLICATE_KEY:
                raise
            duplicates.add(error["index"])
    return [batch for i, batch in enumerate(batches) if i not in duplicates]


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
