"""dispatch: a session's consumers sized to its worker's slots (SlotConsumer), and whether a
delivered attempt still runs, read for many deliveries at once (Assigner)."""

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import aio_pika
import pytest
from bson import ObjectId
from pymongo.asynchronous.database import AsyncDatabase

from jobrunner_master import metrics
from jobrunner_master.dispatch import Assigner, DispatchConnections, SlotConsumer
from jobrunner_master.revocations import Revocations
from jobrunner_shared import amqp, names
from jobrunner_shared.messages import JobAssignment
from jobrunner_shared.secretbox import DEV_KEY, SecretBox

pytestmark = pytest.mark.integration


async def until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within 10 s: {what}")


async def test_a_full_session_consumes_on_while_its_attempts_wait_for_their_start(
    rabbitmq_url: str,
) -> None:
    # Given a session of capacity 2 on a queue holding three jobs
    pool = DispatchConnections(lambda: amqp.connect(rabbitmq_url))
    await pool.start()
    queue = f"jobrunner.dispatch.test-{uuid.uuid4().hex[:8]}._"
    taken: list[str] = []

    async def assign(job: JobAssignment) -> bool:
        taken.append(job.job_id)
        return True

    async def prepare(job: JobAssignment, _: object) -> JobAssignment:
        return job

    async def record(job: JobAssignment) -> None:
        return None

    session = SlotConsumer(pool, capacity=2, assign=assign, prepare=prepare, record=record)
    async with await aio_pika.connect(rabbitmq_url) as observer:
        channel = await observer.channel()

        async def counts() -> tuple[int, int]:
            declared = await channel.declare_queue(queue, passive=True)
            return (declared.declaration_result.message_count,
                    declared.declaration_result.consumer_count)

        try:
            await session.start([queue])
            for i in range(3):
                await channel.default_exchange.publish(aio_pika.Message(assignment(
                    f"job-{i}").model_dump_json().encode()), routing_key=queue)
            # When the worker took two, whose deliveries wait for their start
            await until(lambda: len(taken) == 2, "two jobs taken")
            await asyncio.sleep(0.3)  # what a prefetch too high would have delivered by now
            # Then the session still consumes, and RabbitMQ keeps the third: the prefetch is
            # exactly the two waiting deliveries (no cancel and consume again per short job)
            assert await counts() == (1, 1)
            assert taken == ["job-0", "job-1"]
            # When one of them ends (a short job's `job:ran`), the third comes at once
            await session.finished("job-0", 1)
            await until(lambda: len(taken) == 3, "the third job taken")
            # And once both running attempts started (their deliveries acknowledged), nothing
            # is left for a prefetch to count: the consumer is cancelled
            await session.started("job-1", 1)
            await session.started("job-2", 1)
            assert await counts() == (0, 0)
        finally:
            await session.close()
            await channel.queue_delete(queue)
            await pool.close()


def assignment(job_id: str, tenant_id: str = "t1", attempt: int = 1) -> JobAssignment:
    return JobAssignment(job_id=job_id, tenant_id=tenant_id, attempt=attempt, command="true",
                         max_log_bytes=1024)


def assigner(db: AsyncDatabase, publish_settle=None,  # noqa: ANN001
             revocations: Revocations | None = None) -> Assigner:
    async def unused(*_: object, **__: object) -> None:
        raise AssertionError("not called here")

    return Assigner(db, SecretBox(DEV_KEY), 1.0, unused, unused, publish_settle or unused,
                    revocations)


@dataclass
class Delivery:
    """What Assigner.prepare reads of a delivery."""

    headers: dict
    redelivered: bool = False


def checks(by: str) -> float:
    return metrics.DISPATCH_CHECKS.labels(by=by)._value.get()


async def test_a_first_delivery_queued_while_the_master_listened_needs_no_read(
    pymongo_db: AsyncDatabase,
) -> None:
    # Given a master that has heard every cancel for a while, one of them of job "cancelled"
    revocations = Revocations()
    revocations.listening()
    revocations._since -= 10  # noqa: SLF001 - listening since 10 s ago
    revocations.revoke("cancelled", 1)
    checker = assigner(pymongo_db, revocations=revocations)
    now_ms = int(time.time() * 1000)
    fresh = {names.QUEUED_AT_HEADER: now_ms}
    # Deliveries of jobs MongoDB does not have: read, any of them would be dropped
    deliveries = {
        "first copy, queued just now": Delivery(fresh),
        "its cancel heard": Delivery(fresh),
        "a copy the sweeper published again": Delivery({**fresh, names.COPY_HEADER: True}),
        "back from the settle queue": Delivery({**fresh, names.DEATH_HEADER: [{}]}),
        "redelivered": Delivery(fresh, redelivered=True),
        "queued before the master listened": Delivery({names.QUEUED_AT_HEADER: now_ms - 10_000}),
        "from an older API": Delivery({}),
    }
    jobs = {name: assignment("cancelled" if name == "its cancel heard" else str(ObjectId()))
            for name in deliveries}
    read_before = checks("database")
    # When the master prepares each
    prepared = {name: await checker.prepare(jobs[name], delivery)  # type: ignore[arg-type]
                for name, delivery in deliveries.items()}
    # Then only the first copy, queued while it listened, runs without a read; its cancel
    # heard drops it; every other one is read (and dropped: no such job)
    assert {name: job is not None for name, job in prepared.items()} == {
        "first copy, queued just now": True, "its cancel heard": False,
        "a copy the sweeper published again": False, "back from the settle queue": False,
        "redelivered": False, "queued before the master listened": False,
        "from an older API": False,
    }
    assert checks("database") - read_before == 5


async def test_each_delivery_read_together_gets_its_own_answer(pymongo_db: AsyncDatabase
                                                               ) -> None:
    # Given jobs in every state a delivery can meet, under a collection of this test's own
    jobs = pymongo_db[names.JOBS_COLLECTION]
    ids = {name: ObjectId() for name in ("queued", "retry", "taken", "cancelled", "other")}
    await jobs.insert_many([
        {"_id": ids["queued"], "tenant_id": "t1", "status": "queued", "attempt": 1,
         "attempts": [{"n": 1}]},
        {"_id": ids["retry"], "tenant_id": "t1", "status": "queued", "attempt": 2,
         "attempts": [{"n": 1, "worker": "w1"}, {"n": 2}]},
        {"_id": ids["taken"], "tenant_id": "t1", "status": "queued", "attempt": 1,
         "attempts": [{"n": 1, "worker": "w1"}]},
        {"_id": ids["cancelled"], "tenant_id": "t1", "status": "cancelled", "attempt": 1,
         "attempts": [{"n": 1}]},
        {"_id": ids["other"], "tenant_id": "t2", "status": "queued", "attempt": 1,
         "attempts": [{"n": 1}]},
    ])
    deliveries = {
        "queued": assignment(str(ids["queued"])),
        "queued, again": assignment(str(ids["queued"])),  # the same job twice in one read
        "retry": assignment(str(ids["retry"]), attempt=2),
        "stale attempt": assignment(str(ids["retry"]), attempt=1),
        "taken": assignment(str(ids["taken"])),
        "cancelled": assignment(str(ids["cancelled"])),
        "another tenant's": assignment(str(ids["other"])),
        "unknown": assignment(str(ObjectId())),
        "not an id": assignment(uuid.uuid4().hex),
    }
    checker = assigner(pymongo_db)
    # When all of them are delivered at once
    answers = await asyncio.gather(*(checker.still_wanted(job) for job in deliveries.values()))
    # Then only the attempts still waiting run; the rest are dropped
    assert dict(zip(deliveries, answers, strict=True)) == {
        "queued": True, "queued, again": True, "retry": True, "stale attempt": False,
        "taken": False, "cancelled": False, "another tenant's": False, "unknown": False,
        "not an id": False,
    }
    await jobs.delete_many({"_id": {"$in": list(ids.values())}})


async def test_a_delivery_that_came_back_waits_out_the_settle_time_and_runs_only_if_queued(
    rabbitmq_url: str, pymongo_db: AsyncDatabase,
) -> None:
    # Given two queued jobs whose dispatch messages a session took, then lost (its master or
    # worker went away before the attempts' start was in RabbitMQ)
    jobs = pymongo_db[names.JOBS_COLLECTION]
    queued, reported = ObjectId(), ObjectId()
    await jobs.insert_many([{"_id": job_id, "tenant_id": "t1", "status": "queued", "attempt": 1,
                             "attempts": [{"n": 1}]} for job_id in (queued, reported)])
    settle_seconds = 0.5
    queue = f"jobrunner.dispatch.test-{uuid.uuid4().hex[:8]}._"
    key = f"job.dispatch.test-{queue.rsplit('.', 2)[1]}._"
    pool = DispatchConnections(lambda: amqp.connect(rabbitmq_url))
    await pool.start()
    async with await aio_pika.connect(rabbitmq_url) as connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(names.JOBS_EXCHANGE, "topic", durable=True)
        declared = await channel.declare_queue(queue, durable=True,
                                               arguments=dict(names.DISPATCH_QUEUE_ARGUMENTS))
        await declared.bind(exchange, key)
        settle = await channel.declare_exchange(names.SETTLE_EXCHANGE, "fanout", durable=True)
        settling = await channel.declare_queue(names.SETTLE_QUEUE, durable=True,
                                               arguments=amqp.SETTLE_QUEUE.arguments)
        await settling.bind(settle, names.SETTLE_QUEUE)

        async def publish_settle(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            await settle.publish(aio_pika.Message(
                message.body, priority=message.priority, delivery_mode=2,
                expiration=settle_seconds), routing_key=message.routing_key or "")

        checker = assigner(pymongo_db, publish_settle)
        first: list[str] = []
        second: list[tuple[str, float]] = []

        async def took_first(job: JobAssignment) -> bool:
            first.append(job.job_id)
            return True

        async def took_second(job: JobAssignment) -> bool:
            second.append((job.job_id, time.monotonic()))
            return True

        async def nothing(job: JobAssignment) -> None:
            return None

        lost = SlotConsumer(pool, capacity=2, assign=took_first, prepare=checker.prepare,
                            record=nothing, redelivered=checker.redelivered)
        again = SlotConsumer(pool, capacity=2, assign=took_second, prepare=checker.prepare,
                             record=nothing, redelivered=checker.redelivered)
        try:
            await lost.start([queue])
            for job_id in (queued, reported):
                await exchange.publish(aio_pika.Message(assignment(str(job_id)).model_dump_json(
                ).encode(), delivery_mode=2), routing_key=key)
            await until(lambda: len(first) == 2, "both taken by the first session")
            await lost.close()  # both go back to the queue, unacknowledged
            # And one of the two reports its start meanwhile
            await jobs.update_one({"_id": reported}, {"$set": {"attempts.0.worker": "w1"}})
            # When another session gets them again
            came_back = time.monotonic()
            await again.start([queue])
            # Then the one reported is dropped; the other is offered only after the settle time
            await until(lambda: len(second) == 1, "the queued job offered again")
            assert second[0][0] == str(queued)
            assert second[0][1] - came_back >= settle_seconds
            await asyncio.sleep(settle_seconds)  # what would have come back by now
            assert len(second) == 1
            assert (await declared.declare()).message_count == 0
        finally:
            await lost.close()
            await again.close()
            await channel.queue_delete(queue)
            await pool.close()
    await jobs.delete_many({"_id": {"$in": [queued, reported]}})
