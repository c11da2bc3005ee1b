"""RabbitMQ objects and the consume-error policy shared by the API and the master.

Imports FastStream, so the worker never imports this module.
"""

import asyncio
import itertools
import logging
import time
from typing import Any

import aio_pika
from aio_pika.abc import AbstractRobustConnection
from aio_pika.robust_connection import RobustConnection
from aiormq.exceptions import DeliveryError
from yarl import URL

from faststream import BaseMiddleware
from faststream.exceptions import AckMessage, HandlerException, NackMessage
from faststream.rabbit import (
    Channel,
    ExchangeType,
    QueueType,
    RabbitBroker,
    RabbitExchange,
    RabbitQueue,
)
from pydantic import ValidationError

from jobrunner_shared import dberrors, names

log = logging.getLogger(__name__)

JOBS = RabbitExchange(names.JOBS_EXCHANGE, type=ExchangeType.TOPIC, durable=True)
LOGS = RabbitExchange(names.LOGS_EXCHANGE, type=ExchangeType.TOPIC, durable=True)
HEARTBEATS = RabbitExchange(names.HEARTBEATS_EXCHANGE, type=ExchangeType.TOPIC, durable=True)
CONTROL = RabbitExchange(names.CONTROL_EXCHANGE, type=ExchangeType.TOPIC, durable=True)
DEAD_LETTERS = RabbitExchange(names.DEAD_LETTER_EXCHANGE, type=ExchangeType.FANOUT, durable=True)
CHANGES = RabbitExchange(names.CHANGES_EXCHANGE, type=ExchangeType.TOPIC, durable=True)
SETTLE = RabbitExchange(names.SETTLE_EXCHANGE, type=ExchangeType.FANOUT, durable=True)

# Every queue that can reject names a dead-letter target, so nothing rejected is dropped.
_DLX = {"x-dead-letter-exchange": names.DEAD_LETTER_EXCHANGE}

# Classic queues live on one node of a cluster. robust=False: a reconnecting connection does
# not declare them again, which fails (NOT_FOUND) while their node is down and would keep the
# whole connection from coming back; they are durable and declared at every start anyway.
DEAD_LETTER_QUEUE = RabbitQueue(names.DEAD_LETTER_QUEUE, durable=True, robust=False)
REJECTED_QUEUE = RabbitQueue(names.REJECTED_QUEUE, durable=True, robust=False)
# Why quorum with a delivery limit: a submission requeued on every try (a dependency that never
# comes back, a crash while handling it) is dead-lettered after that many deliveries instead of
# looping. Explicit, because RabbitMQ 4.x drops (not dead-letters) past its default limit of 20.
SUBMIT_DELIVERY_LIMIT = 20
SUBMIT_QUEUE = RabbitQueue(
    names.SUBMIT_QUEUE,
    queue_type=QueueType.QUORUM,
    durable=True,
    routing_key=names.SUBMIT_KEY,
    arguments={**_DLX, "x-delivery-limit": SUBMIT_DELIVERY_LIMIT},
)
# Why quorum: these queues carry every state change of every job; replicated on a RabbitMQ
# cluster, they survive the loss of a node. Any number of API processes consume them at once:
# each change is an atomic conditional update in MongoDB, so no ordering between consumers is
# needed. Why this delivery limit: a message requeued by a database outage comes back with a
# growing pause (ConsumeErrorPolicy: some 20 minutes of outage in all); only one that fails on
# every delivery for longer ends in the dead-letter queue (never dropped, as RabbitMQ
# 4.x would past its default limit of 20 without a dead-letter exchange).
EVENTS_DELIVERY_LIMIT = 200
_EVENTS = {**_DLX, "x-delivery-limit": EVENTS_DELIVERY_LIMIT}


def _events_queue(name: str, routing_key: str) -> RabbitQueue:
    return RabbitQueue(name, queue_type=QueueType.QUORUM, durable=True, routing_key=routing_key,
                       arguments=dict(_EVENTS))


JOB_EVENTS_QUEUE = _events_queue(names.JOB_EVENTS_QUEUE, names.JOB_EVENTS_PATTERN)
LOGS_QUEUE = _events_queue(names.LOGS_QUEUE, names.LOGS_PATTERN)
HEARTBEATS_QUEUE = _events_queue(names.HEARTBEATS_QUEUE, names.HEARTBEATS_PATTERN)
# Nobody consumes it: its messages expire back to their dispatch queues (names.SETTLE_QUEUE).
SETTLE_QUEUE = RabbitQueue(names.SETTLE_QUEUE, queue_type=QueueType.QUORUM, durable=True,
                           arguments=dict(names.SETTLE_QUEUE_ARGUMENTS))


# --- connecting: one RabbitMQ node, or any of a cluster's ------------------------------------


NEXT_NODE_SECONDS = 1.0  # with several nodes: the pause before trying the next one


def amqp_urls(setting: str) -> list[str]:
    """RABBITMQ_URL: one URL, or several comma-separated (the nodes of one cluster)."""
    urls = [url.strip() for url in setting.split(",") if url.strip()]
    if not urls:
        raise ValueError("RABBITMQ_URL is empty")
    return urls


def multi_host(urls: list[str]) -> type[RobustConnection]:
    """A robust connection that tries the next of `urls` on each (re)connect attempt.

    Why: aio-pika's robust connection reconnects to the URL it was made with; when that node
    of a cluster is gone, the services must go on with a surviving one. Each attempt begins by
    clearing the transport (aio-pika's RobustConnection), which is where the next URL is taken.
    """
    nodes = [URL(url) for url in urls]

    class MultiHostConnection(RobustConnection):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self._cycle = itertools.cycle(nodes)
            self._node = nodes[0]
            self._attempts = 0
            super().__init__(*args, **kwargs)

        @property  # type: ignore[override]
        def url(self) -> URL:
            return self._node

        @url.setter
        def url(self, value: URL) -> None:
            pass  # set by Connection.__init__; the cycle decides which node

        @property  # type: ignore[override]
        def transport(self) -> Any:
            return self.__dict__.get("_transport")

        @transport.setter
        def transport(self, value: Any) -> None:
            if value is None:
                # Cleared once by __init__, then before each connection attempt.
                if self._attempts:
                    self._node = next(self._cycle)
                self._attempts += 1
            self.__dict__["_transport"] = value

    return MultiHostConnection


def broker(rabbitmq_url: str, **options: Any) -> RabbitBroker:
    """The services' FastStream broker, on one node or on any of a cluster's."""
    urls = amqp_urls(rabbitmq_url)
    if len(urls) > 1:
        # One node down must not stop a service from starting: it waits for any of them, and
        # goes on to the next node soon.
        options.setdefault("fail_fast", False)
        options.setdefault("reconnect_interval", NEXT_NODE_SECONDS)
    made = RabbitBroker(urls[0], **options)
    if len(urls) > 1:
        # Why the private mapping: RabbitBroker takes one URL; these are the keyword arguments
        # of its aio_pika.connect_robust, which takes the connection class.
        made._connection_kwargs["connection_class"] = multi_host(urls)
    return made


async def connect(rabbitmq_url: str) -> AbstractRobustConnection:
    """A robust aio-pika connection of our own, on one node or on any of a cluster's."""
    urls = amqp_urls(rabbitmq_url)
    if len(urls) == 1:
        return await aio_pika.connect_robust(urls[0])
    return await aio_pika.connect_robust(urls[0], connection_class=multi_host(urls),
                                         fail_fast=False, reconnect_interval=NEXT_NODE_SECONDS)


def channel(prefetch: int) -> Channel:
    """The channel settings every service uses.

    - a bounded prefetch: a backlog never floods a consumer's memory or the database;
    - unroutable messages raise: a publish that reached no queue must not pass for success.
    """
    return Channel(prefetch_count=prefetch, on_return_raises=True)


def dispatch_queue(name: str, routing_key: str) -> RabbitQueue:
    # robust=False: as DEAD_LETTER_QUEUE (classic, on one node).
    return RabbitQueue(
        name, durable=True, routing_key=routing_key, robust=False,
        arguments=dict(names.DISPATCH_QUEUE_ARGUMENTS),
    )


async def declare_topology(broker: RabbitBroker) -> None:
    """Every exchange, and the dead-letter queues, before anything publishes or consumes."""
    for exchange in (JOBS, LOGS, HEARTBEATS, CONTROL, CHANGES):
        await broker.declare_exchange(exchange)
    dead_letters = await broker.declare_exchange(DEAD_LETTERS)
    queue = await broker.declare_queue(DEAD_LETTER_QUEUE)
    await queue.bind(dead_letters)
    await broker.declare_queue(REJECTED_QUEUE)
    settle = await broker.declare_exchange(SETTLE)
    await (await broker.declare_queue(SETTLE_QUEUE)).bind(settle)


async def publish_event(broker: RabbitBroker, message: Any, exchange: RabbitExchange, key: str,
                        **options: Any) -> None:
    """Persistent and confirmed: the call returns once RabbitMQ has the message on disk.

    A nack raises (the caller keeps the message) and gives the broker a fresh channel.
    """
    try:
        await broker.publish(message, exchange=exchange, routing_key=key, persist=True,
                             **options)
    except DeliveryError:
        await fresh_channel(broker)
        raise


# At most one fresh channel this often, however many nacks. Why not more often: the consumers
# share that channel, and their unacknowledged messages come again after each reopening.
FRESH_CHANNEL_SECONDS = 5.0
FRESH_CHANNEL_WAIT_SECONDS = 5.0
_fresh_at: dict[int, float] = {}


async def fresh_channel(broker: RabbitBroker) -> None:
    """Replace the channel the broker publishes on (aio-pika's robust channel reopens itself).

    Why: RabbitMQ 3.10 keeps a quorum queue's client state per channel; a channel that first
    published to a quorum queue while its leader was being elected (a node lost) can nack
    every later publish to that queue for minutes, while a new channel is served at once.
    """
    now = time.monotonic()
    if now - _fresh_at.get(id(broker), -FRESH_CHANNEL_SECONDS) < FRESH_CHANNEL_SECONDS:
        return
    _fresh_at[id(broker)] = now
    try:
        # The default channel, the one broker.publish uses (FastStream keeps it per broker).
        channel = await broker.config.channel_manager.get_channel()
        underlay = await channel.get_underlay_channel()
        await underlay.close()
        log.warning("a publish was nacked: publishing on a fresh channel")
        async with asyncio.timeout(FRESH_CHANNEL_WAIT_SECONDS):
            while channel.is_closed or await channel.get_underlay_channel() is underlay:
                await asyncio.sleep(0.01)  # the robust channel reopens from its close callback
    except Exception as exc:  # noqa: BLE001 - a closed or reconnecting one is reopened anyway
        log.info("the publishing channel is not back yet: %r", exc)


async def publish_dead_letter(broker: RabbitBroker, body: bytes, reason: str, routing_key: str,
                              headers: dict[str, Any] | None = None, **options: Any) -> None:
    """Keep a message nobody can process in the dead-letter queue, with the reason."""
    await broker.publish(
        body,
        queue=names.DEAD_LETTER_QUEUE,
        persist=True,
        headers={
            **(headers or {}),
            names.REJECT_REASON_HEADER: reason,
            "x-original-routing-key": routing_key,
        },
        **options,
    )


async def publish_change(broker: RabbitBroker, message: Any, key: str) -> None:
    """To the live feed of every API process: transient, and no route (no stream open
    anywhere) is no error. Why not persistent: a feed queue lives only as long as its API
    process, and a stream that (re)connects backfills from MongoDB."""
    await broker.publish(message, exchange=CHANGES, routing_key=key, mandatory=False)


async def publish_control(broker: RabbitBroker, message: Any, key: str) -> None:
    """To every master; with none running there is nobody to tell, so no route is no error."""
    await broker.publish(
        message, exchange=CONTROL, routing_key=key, persist=True, mandatory=False
    )


class TransientError(Exception):
    """A dependency is unavailable; the message is fine and must be retried later."""


class ConsumeErrorPolicy(BaseMiddleware):
    """Exception types decide what happens to a consumed message.

    - invalid payload: dead-lettered at once with the reason, never retried;
    - database or dependency unavailable: requeued after a pause, so nothing is lost;
    - any other error: dead-lettered with the reason, so a poison message cannot loop.
    """

    retry_pause_seconds = 1.0
    max_retry_pause_seconds = 6.0
    # Exceptions that mean "this message is malformed"; the FastAPI integration adds its own.
    invalid_errors: tuple[type[Exception], ...] = (ValidationError,)

    async def consume_scope(self, call_next: Any, msg: Any) -> Any:
        try:
            return await call_next(msg)
        except HandlerException:
            raise
        except self.invalid_errors as exc:
            await self._dead_letter(msg, f"invalid message: {_short(exc)}")
        except Exception as exc:  # noqa: BLE001 - decided by the kind of failure, below
            if isinstance(exc, TransientError) or dberrors.is_transient(exc):
                # Why: the message is valid; requeue it, to be stored once the dependency is back.
                log.warning("requeueing after a transient failure: %s", exc)
                await asyncio.sleep(self.retry_pause(msg))
                raise NackMessage(requeue=True) from exc
            # Why: anything else would fail again on every delivery; a poison message must
            # not loop, so it is kept with the reason instead.
            log.exception("dead-lettering a message that failed to process")
            await self._dead_letter(msg, f"{type(exc).__name__}: {exc}"[:500])
        raise AckMessage()

    def retry_pause(self, msg: Any) -> float:
        """1 s, 2 s, ... up to 6 s by the message's deliveries so far (quorum queues count them):
        EVENTS_DELIVERY_LIMIT deliveries ride out some 20 minutes of outage."""
        headers = getattr(msg.raw_message, "headers", None) or {}
        count = headers.get("x-delivery-count") or 0
        count = count if isinstance(count, int) else 0
        return min(self.max_retry_pause_seconds, self.retry_pause_seconds * (1 + count))

    async def _dead_letter(self, msg: Any, reason: str) -> None:
        raw = msg.raw_message
        await publish_dead_letter(
            self.context.get("broker"),
            raw.body,
            reason,
            raw.routing_key or "",
            headers={
                # Why: dead letters are read by operators; an API key must never be kept there.
                **{k: v for k, v in (raw.headers or {}).items()
                   if k.lower() != names.API_KEY_HEADER},
                "x-original-exchange": raw.exchange or "",
            },
            content_type=raw.content_type,
            message_id=raw.message_id,
        )
        log.warning("dead-lettered message %s: %s", raw.message_id, reason)


def _short(exc: Any) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ())) or "body"
        parts.append(f"{where}: {err.get('msg')}")
    return "; ".join(parts)
