"""A nacked publish raises, and the broker goes on publishing on a fresh channel."""

import secrets

import pytest
from aiormq.exceptions import DeliveryError
from faststream.rabbit import RabbitExchange, RabbitQueue

from jobrunner_shared import amqp

pytestmark = pytest.mark.integration

DEFAULT_EXCHANGE = RabbitExchange("")  # routes by queue name


async def test_a_nacked_publish_raises_and_what_follows_goes_on_a_fresh_channel(
        rabbitmq_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(amqp, "FRESH_CHANNEL_SECONDS", 0.0)
    broker = amqp.broker(rabbitmq_url)
    await broker.connect()
    suffix = secrets.token_hex(3)
    # Classic: it nacks exactly when full (a quorum queue's reject-publish is looser).
    full = RabbitQueue(f"jobrunner.test.full-{suffix}", auto_delete=True,
                       arguments={"x-max-length": 1, "x-overflow": "reject-publish"})
    other = RabbitQueue(f"jobrunner.test.other-{suffix}", auto_delete=True)
    channel = await broker.config.channel_manager.get_channel()
    try:
        await broker.declare_queue(full)
        other_queue = await broker.declare_queue(other)
        before = await channel.get_underlay_channel()
        # Given a queue that takes no more
        await amqp.publish_event(broker, "one", DEFAULT_EXCHANGE, full.name)
        # When a publish to it is nacked
        with pytest.raises(DeliveryError):
            await amqp.publish_event(broker, "two", DEFAULT_EXCHANGE, full.name)
        # Then the broker publishes on a new channel, and what follows is confirmed
        after = await channel.get_underlay_channel()
        assert after is not before and not after.is_closed
        await amqp.publish_event(broker, "three", DEFAULT_EXCHANGE, other.name)
        assert (await other_queue.get(timeout=5)).body == b"three"
    finally:
        await channel.queue_delete(full.name)
        await broker.stop()
