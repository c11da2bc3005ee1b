"""Upgrading from an earlier version in place: what its queues and collections left behind.

Run by every API process at start; each step is idempotent and safe with several at once.
- Retired queues (names.RETIRED_QUEUES): unbound, so that nothing new arrives, then every
  message left in one is published again to the exchange it came through (so it reaches the
  queue that replaced it), then the queue is deleted.
- Retired collections (outbox, idempotency_keys, log_indexes): an attempt in the old outbox becomes a
  job due to be published; an old idempotency key becomes the job's `idempotency_scope`; then
  the collection is dropped.
"""

import logging

import aio_pika
from aio_pika.exceptions import ChannelClosed
from beanie import PydanticObjectId
from faststream.rabbit import RabbitBroker
from pymongo.asynchronous.database import AsyncDatabase

from jobrunner_shared import amqp, names
from jobrunner_shared.messages import JobStatus, utcnow

log = logging.getLogger(__name__)
# Each retired queue: the exchange and routing key it was bound with, and its successor.
_QUEUES = {
    "jobrunner.api.job-events": (amqp.JOBS, names.JOB_EVENTS_PATTERN, amqp.JOB_EVENTS_QUEUE),
    "jobrunner.api.logs": (amqp.LOGS, names.LOGS_PATTERN, amqp.LOGS_QUEUE),
    "jobrunner.api.heartbeats": (amqp.HEARTBEATS, names.HEARTBEATS_PATTERN, amqp.HEARTBEATS_QUEUE),
}
assert set(_QUEUES) == set(names.RETIRED_QUEUES)


async def retire_queues(broker: RabbitBroker, url: str) -> None:
    # The successors first: a message moved must have a queue to land in.
    for exchange, key, successor in _QUEUES.values():
        queue = await broker.declare_queue(successor)
        await queue.bind(await broker.declare_exchange(exchange), key)
    connection = await amqp.connect(url)
    async with connection:
        for name, (exchange, key, _) in _QUEUES.items():
            channel = await connection.channel()
            try:
                old = await channel.declare_queue(name, passive=True)
            except ChannelClosed:
                continue  # not there (a new installation, or moved already): the usual case
            await old.unbind(exchange.name, key)
            target = await channel.get_exchange(exchange.name)
            moved = 0
            while (message := await old.get(fail=False)) is not None:
                await target.publish(
                    aio_pika.Message(
                        message.body, headers=message.headers, content_type=message.content_type,
                        message_id=message.message_id, delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    ),
                    routing_key=message.routing_key or "",
                )
                await message.ack()  # after the publish was confirmed: nothing is lost
                moved += 1
            try:
                await old.delete(if_unused=False, if_empty=True)
            except ChannelClosed:
                pass  # another API process is moving its last messages: it deletes it
            log.info("retired queue %s: %d messages moved to %s", name, moved, exchange.name)


async def retire_collections(db: AsyncDatabase) -> None:
    present = set(await db.list_collection_names())
    jobs = db[names.JOBS_COLLECTION]
    if "outbox" in present:
        async for entry in db["outbox"].find():
            if PydanticObjectId.is_valid(entry.get("job_id", "")):
                await jobs.update_one(
                    {"_id": PydanticObjectId(entry["job_id"]), "attempt": entry.get("attempt"),
                     "status": JobStatus.queued.value},
                    {"$set": {"publish_due_at": utcnow()}},
                )
    if "idempotency_keys" in present:
        async for key in db["idempotency_keys"].find():
            if PydanticObjectId.is_valid(key.get("job_id", "")):
                await jobs.update_one({"_id": PydanticObjectId(key["job_id"])},
                                      {"$set": {"idempotency_scope": key["_id"]}})
    for name in ("outbox", "idempotency_keys", "log_indexes"):
        if name in present:
            await db.drop_collection(name)
            log.info("dropped the collection %s of an earlier version", name)
