"""The log consumer: each batch stored once, counted once, and its readers woken."""

import pytest

from jobrunner_api import logs as job_logs
from jobrunner_api.consumers import logs
from jobrunner_shared import amqp, names
from jobrunner_shared.messages import LogBatchEvent, LogBatches, LogLine, utcnow
from tests.api.consumers.conftest import eventually, read_job, stored_job

pytestmark = pytest.mark.integration


def batch(job, first: int, count: int) -> LogBatchEvent:
    lines = [LogLine(seq=s, stream="stdout", text=f"line {s}", ts=utcnow())
             for s in range(first, first + count)]
    return LogBatchEvent(job_id=str(job.id), attempt=1, tenant_id=job.tenant_id,
                         worker_id="w-1", worker_name="w-1", lines=lines)


async def test_a_resent_batch_is_stored_and_counted_once(consumer) -> None:
    broker, platform, seen = await consumer(logs)
    job = await stored_job()
    # When the worker's first batch comes twice (a resend) and then the second
    for message in (batch(job, 1, 3), batch(job, 1, 3), batch(job, 4, 2)):
        await broker.publish(message, exchange=amqp.LOGS, routing_key=names.LOG_BATCH_KEY,
                             persist=True)
    # Then five lines are stored, in order, and counted five times, not eight
    stored = await eventually(lambda: _lines(job, 5))
    assert [line.seq for line in stored] == [1, 2, 3, 4, 5]
    assert (await eventually(lambda: _counted(job, 5))).current.log_lines == 5
    change = await seen.wait("changes")
    assert change["changes"][0]["kind"] == "log" and change["changes"][0]["job_id"] == str(job.id)


async def test_several_batches_of_several_jobs_in_one_message(consumer) -> None:
    broker, _, _ = await consumer(logs)
    one, two = await stored_job(), await stored_job()
    message = LogBatches(batches=[batch(one, 1, 2), batch(two, 1, 1), batch(one, 3, 1)])
    await broker.publish(message, exchange=amqp.LOGS, routing_key=names.LOG_BATCHES_KEY,
                         persist=True)
    assert [ln.text for ln in await eventually(lambda: _lines(one, 3))] == [
        "line 1", "line 2", "line 3"]
    assert (await eventually(lambda: _counted(two, 1))).current.log_lines == 1


async def test_a_gap_stops_the_reader_until_the_missing_batch_comes(consumer) -> None:
    broker, _, _ = await consumer(logs)
    job = await stored_job()
    await broker.publish(batch(job, 3, 2), exchange=amqp.LOGS, routing_key=names.LOG_BATCH_KEY,
                         persist=True)
    await eventually(lambda: _counted(job, 2))
    # Lines 1-2 are still on their way: a reader gets nothing rather than skip them
    assert await job_logs.read_lines(str(job.id), 1, after=0, limit=100) == []
    await broker.publish(batch(job, 1, 2), exchange=amqp.LOGS, routing_key=names.LOG_BATCH_KEY,
                         persist=True)
    assert len(await eventually(lambda: _lines(job, 4))) == 4


async def _lines(job, count: int):
    lines = await job_logs.read_lines(str(job.id), 1, after=0, limit=100)
    return lines if len(lines) == count else None


async def _counted(job, count: int):
    current = await read_job(job.id)
    return current if current.current.log_lines == count else None
