"""The master's Prometheus metrics, served by GET /metrics (app.py).

Labels stay low-cardinality on purpose: no tenant, job or worker ids.
"""

import asyncio

import aio_pika
from aio_pika.exceptions import ChannelNotFoundEntity
from prometheus_client import Counter, Gauge, Histogram
from pymongo.asynchronous.database import AsyncDatabase

from jobrunner_shared import names
from jobrunner_shared.throttle import Throttle

CONNECTED_WORKERS = Gauge(
    "jobrunner_connected_workers", "Worker sessions connected to this master."
)
WORKER_EVENTS = Counter(
    "jobrunner_worker_events", "Socket.IO events received from workers, by event name.", ["event"]
)
QUEUE_DEPTH = Gauge(
    "jobrunner_queue_depth",
    "Jobs ready in the dispatch queues of all tenants, waiting for a worker"
    " (read from RabbitMQ at most every METRICS_CACHE_SECONDS).",
)
for _event in (names.EV_JOB_STARTED, names.EV_JOB_LOG, names.EV_JOB_FINISHED, names.EV_HEARTBEAT):
    WORKER_EVENTS.labels(event=_event)  # shown at 0 from the start, so rates work at once
REQUEUED = Counter(
    "jobrunner_dispatch_requeued",
    "Dispatch deliveries given back to their queue, by why: the session was full or paused "
    "when it came (should stay near 0: the session's prefetch is its free slots), the worker "
    "declined or did not answer, or assigning failed.",
    ["reason"],
)
for _reason in ("no_slot", "not_taken", "error"):
    REQUEUED.labels(reason=_reason)
REDELIVERIES_SETTLED = Counter(
    "jobrunner_dispatch_redeliveries_settled",
    "Dispatch deliveries that came back to their queue still queued, sent to wait out "
    "REDELIVERY_SETTLE_SECONDS before they are offered again (names.SETTLE_QUEUE).",
)
DISPATCH_CHECKS = Counter(
    "jobrunner_dispatch_checks",
    "How the master knew that a delivered attempt still runs: from its list of attempts "
    "cancelled lately (revocations: a first copy, queued while it heard every cancel) or by "
    "reading the job (database: a delivery that came back, a copy published again, or one "
    "queued before this master listened or more than a minute ago).",
    ["by"],
)
for _by in ("revocations", "database"):
    DISPATCH_CHECKS.labels(by=_by)
DISPATCH_QUEUES = Gauge(
    "jobrunner_dispatch_queues", "Dispatch queues (one per tenant and label set)."
)
# How often the event loop's lag is sampled (watch_event_loop).
LAG_PROBE_SECONDS = 0.1
EVENT_LOOP_LAG = Histogram(
    "jobrunner_event_loop_lag_seconds",
    "How late the event loop wakes from a 0.1 s sleep: how long any callback (a worker's "
    "event, a job:assign, a heartbeat) waits behind the others. Sampled every 0.1 s.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)


async def watch_event_loop(interval: float = LAG_PROBE_SECONDS) -> None:
    """Observe, forever, how much later than asked a sleep of `interval` ends."""
    loop = asyncio.get_running_loop()
    while True:
        asked = loop.time() + interval
        await asyncio.sleep(interval)
        EVENT_LOOP_LAG.observe(max(0.0, loop.time() - asked))


class QueueDepth:
    """Sums the ready messages of every dispatch queue listed in MongoDB, by passive declares."""

    def __init__(self, db: AsyncDatabase,
                 connection: aio_pika.abc.AbstractRobustConnection) -> None:
        self.db = db
        self.connection = connection
        self.refresh = Throttle(self._count)

    async def _count(self) -> None:
        queues = [doc["queue"] async for doc in
                  self.db[names.DISPATCH_QUEUES_COLLECTION].find({}, {"queue": 1})]
        depth = 0
        channel = await self.connection.channel()
        try:
            for queue in queues:
                try:
                    # robust=False: nothing to re-declare after a reconnect.
                    declared = await channel.declare_queue(queue, passive=True, robust=False)
                except ChannelNotFoundEntity:
                    # Listed but not declared yet: the broker closed the channel; take another.
                    await channel.close()
                    channel = await self.connection.channel()
                    continue
                depth += declared.declaration_result.message_count or 0
        finally:
            await channel.close()
        QUEUE_DEPTH.set(depth)
        DISPATCH_QUEUES.set(len(queues))
