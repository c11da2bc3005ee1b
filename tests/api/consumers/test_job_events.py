"""The job-events consumer: reports of attempts become job state, once, in order per job."""

import asyncio
from datetime import timedelta

import pytest

from jobrunner_api import logs
from jobrunner_api.consumers import job_events
from jobrunner_api.documents import Job
from jobrunner_shared import amqp, names
from jobrunner_shared.messages import (
    JobEventBatch,
    JobFinishedEvent,
    JobRanEvent,
    JobStartedEvent,
    LogLine,
    utcnow,
)
from tests.api.consumers.conftest import eventually, read_job, stored_job

pytestmark = pytest.mark.integration


def ref(job, worker="w-1") -> dict:
    return {"job_id": str(job.id), "tenant_id": job.tenant_id, "worker_id": worker,
            "worker_name": worker, "attempt": job.attempt}


async def test_a_start_and_an_end_move_the_job_and_reach_the_live_feed(consumer) -> None:
    broker, _, seen = await consumer(job_events)
    job = await stored_job()
    # When the job's start, then its end, are reported
    await broker.publish(JobStartedEvent(**ref(job), pid=7), exchange=amqp.JOBS,
                         routing_key=names.JOB_STARTED_KEY, persist=True)
    running = await eventually(lambda: _with_status(job, "running"))
    assert running.current.worker == "w-1" and running.lease.worker == "w-1"
    await broker.publish(JobFinishedEvent(**ref(job), status="succeeded", exit_code=0,
                                          last_seq=0), exchange=amqp.JOBS,
                         routing_key=names.JOB_FINISHED_KEY, persist=True)
    done = await eventually(lambda: _with_status(job, "succeeded"))
    # Then it is final, its lease gone, and each change went to the live feed
    assert done.exit_code == 0 and done.lease is None and done.version == job.version + 2
    batch = await seen.wait("changes")
    assert batch["tenant_id"] == job.tenant_id and batch["changes"][0]["job_id"] == str(job.id)


async def test_a_batch_is_applied_in_order_per_job(consumer) -> None:
    broker, _, _ = await consumer(job_events)
    one, two = await stored_job(), await stored_job(max_retries=1)
    later = utcnow() + timedelta(milliseconds=5)
    # Given one message with both jobs' starts and ends, one's end failing (a retry is due)
    batch = JobEventBatch(events=[
        JobStartedEvent(**ref(one), pid=1), JobStartedEvent(**ref(two), pid=2),
        JobFinishedEvent(**ref(one), status="succeeded", exit_code=0, at=later),
        JobFinishedEvent(**ref(two), status="failed", exit_code=1, at=later),
    ])
    await broker.publish(batch, exchange=amqp.JOBS, routing_key=names.JOB_EVENTS_BATCH_KEY,
                         persist=True)
    # Then each job went through started before finished
    first = await eventually(lambda: _with_status(one, "succeeded"))
    assert first.started_at < first.finished_at
    second = await eventually(lambda: _with_attempt(two, 2))
    assert second.status == "queued" and second.attempts[0].status == "failed"


async def test_a_stale_report_is_ignored_and_its_worker_told_to_stop(consumer) -> None:
    broker, _, seen = await consumer(job_events)
    job = await stored_job()
    await broker.publish(JobStartedEvent(**ref(job, "w-1"), pid=1), exchange=amqp.JOBS,
                         routing_key=names.JOB_STARTED_KEY, persist=True)
    await eventually(lambda: _with_status(job, "running"))
    # When a second worker reports the same attempt started
    await broker.publish(JobStartedEvent(**ref(job, "w-2"), pid=2), exchange=amqp.JOBS,
                         routing_key=names.JOB_STARTED_KEY, persist=True)
    # Then that copy is told to stop, and the job stays the first worker's
    cancel = await seen.wait("control")
    assert (cancel["kind"], cancel["worker_id"], cancel["attempt"]) == ("cancel", "w-2", 1)
    assert (await read_job(job.id)).current.worker == "w-1"


async def test_a_malformed_event_is_dead_lettered_with_the_reason(consumer) -> None:
    broker, _, seen = await consumer(job_events)
    await broker.publish(b'{"kind": "started", "job_id": "x"}', exchange=amqp.JOBS,
                         routing_key=names.JOB_STARTED_KEY, persist=True)
    dead = await seen.wait("dead-letter")
    assert "invalid message" in dead["headers"][names.REJECT_REASON_HEADER]


async def _with_status(job, status: str):
    current = await read_job(job.id)
    return current if current.status == status else None


async def _with_attempt(job, attempt: int):
    current = await read_job(job.id)
    return current if current.attempt == attempt else None


async def test_a_batch_on_a_job_another_process_changed_meanwhile_is_decided_again(
    consumer,
) -> None:
    broker, platform, _ = await consumer(job_events)
    one, two = await stored_job(), await stored_job()
    # Given job one started here (this process keeps that version of it)
    await broker.publish(JobStartedEvent(**ref(one), pid=1), exchange=amqp.JOBS,
                         routing_key=names.JOB_STARTED_KEY, persist=True)
    await eventually(lambda: _with_status(one, "running"))
    # When another process ends it first, and then a batch says it failed here
    await Job.get_pymongo_collection().update_one(
        {"_id": one.id}, {"$set": {"status": "succeeded", "attempts.0.status": "succeeded"},
                          "$inc": {"version": 1}})
    batch = JobEventBatch(events=[
        JobFinishedEvent(**ref(one), status="failed", exit_code=1),
        JobStartedEvent(**ref(two), pid=2),
    ])
    await broker.publish(batch, exchange=amqp.JOBS, routing_key=names.JOB_EVENTS_BATCH_KEY,
                         persist=True)
    # Then the other job's start lands, and job one keeps what the other process wrote
    await eventually(lambda: _with_status(two, "running"))
    assert (await read_job(one.id)).status == "succeeded"
    assert platform.jobs._cache[str(two.id)].status == "running"


async def test_two_batches_deciding_on_one_version_of_a_job_both_land(consumer) -> None:
    _, platform, _ = await consumer(job_events)
    jobs = platform.jobs
    job = await stored_job()
    jobs._remember(job)  # both batches decide on this version
    later = utcnow() + timedelta(milliseconds=5)
    start = JobStartedEvent(**ref(job), pid=1)
    end = JobFinishedEvent(**ref(job), status="succeeded", exit_code=0, at=later)
    # When two batches write the same job at once, from the same version
    await asyncio.gather(
        jobs.apply_many([(start.job_id, start.tenant_id,
                          job_events.decider(start, jobs.timing))]),
        jobs.apply_many([(end.job_id, end.tenant_id, job_events.decider(end, jobs.timing))]),
    )
    # Then neither change is lost: the one that lost the race was decided again
    done = await read_job(job.id)
    assert done.status == "succeeded" and done.current.exit_code == 0
    assert jobs._cache[str(job.id)].version == done.version


async def test_a_short_attempt_in_one_event_stores_its_lines_then_ends_the_job(consumer) -> None:
    broker, _, seen = await consumer(job_events)
    one, two = await stored_job(), await stored_job()
    lines = [LogLine(seq=n, stream="stdout", text=f"line {n}", ts=utcnow()) for n in (1, 2)]
    # When one job's whole attempt comes alone, and another's inside a batch, each sent twice
    ran_one = JobRanEvent(**ref(one), pid=3, status="succeeded", exit_code=0, last_seq=2,
                          duration_seconds=0.2, lines=lines)
    ran_two = JobRanEvent(**ref(two), pid=4, status="failed", exit_code=2, last_seq=2,
                          duration_seconds=0.1, lines=lines)
    for _ in range(2):
        await broker.publish(ran_one, exchange=amqp.JOBS, routing_key=names.JOB_RAN_KEY,
                             persist=True)
        await broker.publish(JobEventBatch(events=[ran_two]), exchange=amqp.JOBS,
                             routing_key=names.JOB_EVENTS_BATCH_KEY, persist=True)
    # Then each job ended with its worker's report, started before it ended
    first = await eventually(lambda: _with_status(one, "succeeded"))
    second = await eventually(lambda: _with_status(two, "failed"))
    assert first.started_at < first.finished_at and first.current.worker == "w-1"
    assert second.exit_code == 2 and second.current.last_seq == 2
    # And every line is stored once, counted once, and readable in order
    await asyncio.sleep(0.3)  # the repeats, applied by now, must have changed nothing
    for job in (one, two):
        stored = await logs.read_lines(str(job.id), 1, 0, 100)
        assert [line.text for line in stored] == ["line 1", "line 2"]
        assert (await read_job(job.id)).current.log_lines == 2
    assert (await seen.wait("changes"))["tenant_id"] == one.tenant_id


async def test_messages_handled_side_by_side_are_each_applied_once(consumer) -> None:
    broker, _, _ = await consumer(job_events)
    jobs = [await stored_job(max_retries=1) for _ in range(12)]
    # When each job's whole attempt comes in a message of its own, all at once, half failing
    await asyncio.gather(*(
        broker.publish(JobRanEvent(**ref(job), status="failed" if i % 2 else "succeeded",
                                   exit_code=i % 2, last_seq=0, duration_seconds=0.01),
                       exchange=amqp.JOBS, routing_key=names.JOB_RAN_KEY, persist=True)
        for i, job in enumerate(jobs)))
    # Then every job took exactly its own change: ended, or queued again for its retry
    for i, job in enumerate(jobs):
        if i % 2:
            again = await eventually(lambda job=job: _with_attempt(job, 2))
            assert again.status == "queued" and again.attempts[0].exit_code == 1
        else:
            done = await eventually(lambda job=job: _with_status(job, "succeeded"))
            assert done.version == job.version + 2
