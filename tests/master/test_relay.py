"""The relay's group commit of presence events: one message at once when quiet, the events
that came in meanwhile as one WorkerEventBatch under load."""

import asyncio

from jobrunner_master import relay as relay_module
from jobrunner_master.relay import Relay
from jobrunner_shared import amqp, names
from jobrunner_shared.messages import WorkerEvent, WorkerEventBatch


def beat(n: int) -> WorkerEvent:
    return WorkerEvent(event="heartbeat", tenant_id="t", worker_id=f"w{n}", worker_name=f"w{n}")


async def test_heartbeats_that_arrive_during_a_publish_go_as_one_batch(monkeypatch) -> None:
    published: list[tuple[object, object, str]] = []
    release = asyncio.Event()

    async def publish_event(_broker, message, exchange, key) -> None:
        published.append((message, exchange, key))
        await release.wait()  # the confirm of the first message takes a while

    monkeypatch.setattr(relay_module.amqp, "publish_event", publish_event)
    relay = Relay(broker=None)  # type: ignore[arg-type]
    # Given a first heartbeat being published, when four more arrive meanwhile
    first = asyncio.create_task(relay.publish(beat(0), amqp.HEARTBEATS, names.HEARTBEAT_KEY))
    await asyncio.sleep(0)
    rest = [asyncio.create_task(relay.publish(beat(n), amqp.HEARTBEATS, names.HEARTBEAT_KEY))
            for n in range(1, 5)]
    await asyncio.sleep(0.05)
    release.set()
    await asyncio.gather(first, *rest)
    # Then the first went alone, the four together, in the order they came
    assert [key for _, _, key in published] == [names.HEARTBEAT_KEY, names.HEARTBEAT_BATCH_KEY]
    assert all(exchange is amqp.HEARTBEATS for _, exchange, _ in published)
    batch = published[1][0]
    assert isinstance(batch, WorkerEventBatch)
    assert [event.worker_id for event in batch.events] == ["w1", "w2", "w3", "w4"]
