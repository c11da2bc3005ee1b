"""The master's dispatch connections: session channels spread so none passes channel_max.

RabbitMQ (2047 channels per connection by default) closes a whole connection whose client
opens one channel too many, cutting every session's consumers on it; the master spreads its
sessions' channels over as many connections as it takes to stay below that.
"""

import asyncio
import contextlib
import logging
import uuid
from types import SimpleNamespace

import aio_pika
import pytest

from jobrunner_master import dispatch
from jobrunner_master.dispatch import DispatchConnections, SlotConsumer
from jobrunner_shared import amqp, names
from jobrunner_shared.messages import JobAssignment


def consumer(pool: DispatchConnections, taken: list[int], index: int) -> SlotConsumer:
    async def assign(job: JobAssignment) -> bool:
        taken.append(index)
        return True

    async def prepare(job: JobAssignment, _: object) -> JobAssignment:
        return job

    async def record(job: JobAssignment) -> None:
        return None

    return SlotConsumer(pool, capacity=1, assign=assign, prepare=prepare, record=record)


@pytest.mark.integration
async def test_sessions_beyond_a_connection_s_share_go_to_another_and_all_consume(
    rabbitmq_url: str,
) -> None:
    # Given connections that take two session channels each, and five sessions of capacity 1
    pool = DispatchConnections(lambda: amqp.connect(rabbitmq_url), per_connection=2)
    await pool.start()
    queue = f"jobrunner.dispatch.test-{uuid.uuid4().hex[:8]}._"
    taken: list[int] = []
    sessions = [consumer(pool, taken, i) for i in range(5)]
    try:
        for session in sessions:
            await session.start([queue])
        # Then they are spread two, two and one over three connections
        assert pool.in_use() == [2, 2, 1]
        assert [len(c.transport.connection.channels) for c in pool.connections] == [2, 2, 1]
        # And every one of them consumes: five jobs go to five different sessions
        async with await aio_pika.connect(rabbitmq_url) as publisher:
            channel = await publisher.channel()
            for i in range(5):
                job = JobAssignment(job_id=f"job-{i}", tenant_id="t", attempt=1, command="true")
                await channel.default_exchange.publish(
                    aio_pika.Message(job.model_dump_json().encode()), routing_key=queue)
        for _ in range(100):
            if len(taken) == 5:
                break
            await asyncio.sleep(0.05)
        assert sorted(taken) == [0, 1, 2, 3, 4]
        # When two sessions of the first connection go, a new session takes a freed place
        await sessions[0].close()
        await sessions[1].close()
        assert pool.in_use() == [0, 2, 1]
        sessions.append(consumer(pool, taken, 5))
        await sessions[-1].start([queue])
        assert pool.in_use() == [1, 2, 1] and len(pool.connections) == 3
    finally:
        for session in sessions:
            await session.close()
        async with await aio_pika.connect(rabbitmq_url) as cleaner:
            await (await cleaner.channel()).queue_delete(queue)
        await pool.close()
    assert pool.in_use() == [0, 0, 0]


@pytest.mark.integration
async def test_a_session_gone_before_its_channel_opened_gives_its_place_back(
    rabbitmq_url: str,
) -> None:
    pool = DispatchConnections(lambda: amqp.connect(rabbitmq_url), per_connection=2)
    await pool.start()
    try:
        session = consumer(pool, [], 0)
        await session.close()  # the worker left while its dispatch was being set up
        await session.start([names.dispatch_queue("t", [])])
        assert pool.in_use() == [0]
        assert len(pool.first.transport.connection.channels) == 0
    finally:
        await pool.close()


@pytest.mark.integration
async def test_a_connection_s_share_is_read_from_the_broker(rabbitmq_url: str) -> None:
    pool = DispatchConnections(lambda: amqp.connect(rabbitmq_url), per_connection=100_000)
    await pool.start()
    try:
        channel_max = pool.first.transport.connection.connection_tune.channel_max
        assert 0 < channel_max < 100_000  # RabbitMQ's default is 2047
        assert pool.share(pool.first) == channel_max - dispatch.SPARE_CHANNELS
    finally:
        await pool.close()


@pytest.mark.integration
async def test_a_session_leaving_while_its_channel_opens_lets_the_open_finish(
    rabbitmq_url: str, caplog: pytest.LogCaptureFixture,
) -> None:
    pool = DispatchConnections(lambda: amqp.connect(rabbitmq_url), per_connection=2)
    await pool.start()
    try:
        for _ in range(20):
            # Given a session whose channel.open is on its way to RabbitMQ
            session = consumer(pool, [], 0)
            starting = asyncio.create_task(session.start([]))
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            # When the worker leaves then (the master closes the session, cancels its tasks)
            with caplog.at_level(logging.WARNING, logger="aiormq"):
                await session.close()
                starting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await starting
                for _ in range(100):
                    if not pool.first.transport.connection.channels:
                        break
                    await asyncio.sleep(0.02)
            # Then the open was not cut short (a half-open channel can make RabbitMQ close the
            # whole connection): it finished, and the channel was closed and its place freed
            assert not [r for r in caplog.records if "cancelled" in r.getMessage()]
            assert pool.in_use() == [0]
            assert not pool.first.transport.connection.channels
        assert len(pool.connections) == 1 and not pool.first.is_closed
    finally:
        await pool.close()


async def test_a_connection_s_share_stays_below_the_channel_max_the_broker_allows() -> None:
    # Given a broker that allows 20 channels per connection (its negotiated channel_max)
    def connection() -> SimpleNamespace:
        tune = SimpleNamespace(channel_max=20)
        return SimpleNamespace(transport=SimpleNamespace(
            connection=SimpleNamespace(connection_tune=tune)))

    opened: list[SimpleNamespace] = []

    async def connect() -> SimpleNamespace:
        opened.append(connection())
        return opened[-1]

    pool = DispatchConnections(connect)  # type: ignore[arg-type]
    # When 1 + 2 x (20 - SPARE_CHANNELS) sessions take a place
    share = 20 - dispatch.SPARE_CHANNELS
    for _ in range(2 * share + 1):
        await pool.acquire()
    # Then each connection holds its share and no more, spares kept for short-lived channels
    assert pool.in_use() == [share, share, 1]
    assert len(opened) == 3
