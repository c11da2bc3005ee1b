"""revocations: the attempts cancelled lately, and which deliveries that list vouches for."""

import asyncio
import time

import pytest

from jobrunner_master.revocations import (
    CLOCK_SLACK_SECONDS,
    HORIZON_SECONDS,
    MAX_REVOKED,
    Revocations,
)
from jobrunner_shared import amqp


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class CallbackList(list):
    def add(self, callback) -> None:  # noqa: ANN001 - aio-pika's CallbackCollection.add
        self.append(callback)


class Channel:
    """The two callback collections of aio-pika's robust channel that Revocations uses."""

    def __init__(self) -> None:
        self.close_callbacks = CallbackList()
        self.reopen_callbacks = CallbackList()

    def close(self) -> None:
        for callback in self.close_callbacks:
            callback(self, None)

    def reopen(self) -> None:
        for callback in self.reopen_callbacks:
            callback(self)


def following() -> tuple[Revocations, Clock, Channel]:
    clock, channel = Clock(), Channel()
    revocations = Revocations(clock)
    revocations.follow(channel)
    return revocations, clock, channel


def test_it_vouches_only_for_attempts_queued_while_it_listened_and_lately() -> None:
    revocations, clock, _ = following()
    listening_since = clock.now
    clock.now += 10
    assert revocations.vouch(clock.now - 1)
    # Queued before it listened (less the clocks' slack): a cancel may have been missed
    assert not revocations.vouch(listening_since)
    assert not revocations.vouch(listening_since + CLOCK_SLACK_SECONDS - 0.001)
    assert revocations.vouch(listening_since + CLOCK_SLACK_SECONDS)
    # Queued too long ago: the list may have forgotten its cancel
    clock.now += HORIZON_SECONDS * 2
    assert not revocations.vouch(clock.now - HORIZON_SECONDS - 1)
    assert revocations.vouch(clock.now - HORIZON_SECONDS + 1)
    # No queued time (an older API's message): never
    assert not revocations.vouch(None)
    # Never before it listens at all
    assert not Revocations(clock).vouch(clock.now)


def test_a_closed_control_channel_vouches_for_nothing_until_it_is_back() -> None:
    revocations, clock, channel = following()
    clock.now += 10
    queued = clock.now
    channel.close()
    assert not revocations.vouch(queued)
    clock.now += 5
    channel.reopen()
    # Cancels sent while it was closed are lost with its queue: only later attempts count
    assert not revocations.vouch(queued)
    clock.now += CLOCK_SLACK_SECONDS
    assert revocations.vouch(clock.now)


def test_a_cancel_is_remembered_as_long_as_a_delivery_it_vouches_for_can_need_it() -> None:
    revocations, clock, _ = following()
    clock.now += 10
    revocations.revoke("job-1", 1)
    assert revocations.revoked("job-1", 1)
    assert not revocations.revoked("job-1", 2) and not revocations.revoked("job-2", 1)
    # Still known at the end of the horizon of any attempt it could concern...
    clock.now += HORIZON_SECONDS + CLOCK_SLACK_SECONDS
    revocations.revoke("job-2", 1)
    assert revocations.revoked("job-1", 1)
    # ...and forgotten once no delivery it vouches for can be of that attempt any more
    clock.now += CLOCK_SLACK_SECONDS + 1
    revocations.revoke("job-3", 1)
    assert not revocations.revoked("job-1", 1)
    assert revocations.revoked("job-2", 1) and len(revocations) == 2


def test_a_full_list_starts_over_and_vouches_only_for_what_comes_after() -> None:
    revocations, clock, _ = following()
    clock.now += 10
    queued_before = clock.now
    for n in range(MAX_REVOKED):
        revocations.revoke(f"job-{n}", 1)
    assert len(revocations) == MAX_REVOKED
    clock.now += 1
    revocations.revoke("one-more", 1)
    assert len(revocations) == 1 and revocations.revoked("one-more", 1)
    # The cancels it dropped may be of attempts queued before: those are read again
    assert not revocations.vouch(queued_before)
    clock.now += CLOCK_SLACK_SECONDS
    assert revocations.vouch(clock.now)


@pytest.mark.integration
async def test_it_follows_the_real_channel_of_the_control_consumer(rabbitmq_url: str) -> None:
    # Given the list following the broker's default channel, where the control consumer is
    broker = amqp.broker(rabbitmq_url)
    await broker.start()
    try:
        channel = await broker.config.channel_manager.get_channel()
        revocations = Revocations()
        revocations.follow(channel)
        assert revocations.vouch(time.time() + CLOCK_SLACK_SECONDS)
        closed, reopened = asyncio.Event(), asyncio.Event()
        channel.close_callbacks.add(lambda *_: closed.set())
        channel.reopen_callbacks.add(lambda *_: reopened.set())
        # When RabbitMQ closes it under us (as after a nacked publish, or a lost connection)
        underlay = await channel.get_underlay_channel()
        await underlay.close()
        await asyncio.wait_for(closed.wait(), 5)
        # Then it vouches for nothing, and again once aio-pika reopened it (and its consumers)
        assert not revocations.vouch(time.time() + CLOCK_SLACK_SECONDS)
        await asyncio.wait_for(reopened.wait(), 10)
        assert revocations.vouch(time.time() + CLOCK_SLACK_SECONDS)
    finally:
        await broker.stop()
