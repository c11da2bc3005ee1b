"""Relay: worker events (SPEC §5) -> topic messages on RabbitMQ.

Each worker event is acknowledged only after RabbitMQ confirmed the message it became, so a
worker resends whatever the master could not pass on. A malformed event is dead-lettered with
the reason and acknowledged: resending it cannot help, and the worker would hold back all that
follows it.

Job events, log batches and presence events are published by group commit
(jobrunner_shared.batching): one at once when the master is quiet; under load, what arrived
while the previous message was being confirmed goes as one message (JobEventBatch, LogBatches,
WorkerEventBatch), with one confirm for all of them. Heartbeats are the master's steadiest
load: 1,000 sessions beat 200 times a second, and one publish each was a third of its CPU.
"""

import json
import logging
from collections.abc import Callable
from typing import Any

from faststream.rabbit import RabbitBroker, RabbitExchange
from pydantic import BaseModel, ValidationError

from jobrunner_shared import amqp, names
from jobrunner_shared.batching import GroupCommit
from jobrunner_shared.messages import (EventAck, JobEventBatch, LogBatchEvent, LogBatches,
                                       WorkerEvent, WorkerEventBatch)

log = logging.getLogger(__name__)
# While busy, how long a batch waits for more events (jobrunner_shared.batching).
LINGER_SECONDS = 0.005


def ack(ok: bool, error: str | None = None) -> dict[str, Any]:
    return EventAck(ok=ok, error=error).model_dump()


class Relay:
    def __init__(self, broker: RabbitBroker) -> None:
        self.broker = broker
        self._job_events: GroupCommit[tuple[BaseModel, str]] = GroupCommit(
            self._flush_job_events, linger=LINGER_SECONDS)
        self._logs: GroupCommit[LogBatchEvent] = GroupCommit(self._flush_logs,
                                                             linger=LINGER_SECONDS)
        self._presence: GroupCommit[tuple[WorkerEvent, str]] = GroupCommit(
            self._flush_presence, linger=LINGER_SECONDS)

    async def publish(self, message: BaseModel, exchange: RabbitExchange, key: str) -> None:
        """Persistent and confirmed; job events, log batches and presence grouped with others."""
        if exchange is amqp.JOBS:
            await self._job_events.submit((message, key))
        elif exchange is amqp.HEARTBEATS and isinstance(message, WorkerEvent):
            await self._presence.submit((message, key))
        elif exchange is amqp.LOGS and isinstance(message, LogBatchEvent):
            await self._logs.submit(message)
        else:
            await amqp.publish_event(self.broker, message, exchange, key)

    async def _flush_job_events(self, events: list[tuple[BaseModel, str]]) -> None:
        if len(events) == 1:
            message, key = events[0]
        else:
            message = JobEventBatch(events=[event for event, _ in events])
            key = names.JOB_EVENTS_BATCH_KEY
        await amqp.publish_event(self.broker, message, amqp.JOBS, key)

    async def _flush_presence(self, events: list[tuple[WorkerEvent, str]]) -> None:
        if len(events) == 1:
            message, key = events[0]
        else:
            message = WorkerEventBatch(events=[event for event, _ in events])
            key = names.HEARTBEAT_BATCH_KEY
        await amqp.publish_event(self.broker, message, amqp.HEARTBEATS, key)

    async def _flush_logs(self, batches: list[LogBatchEvent]) -> None:
        if len(batches) == 1:
            await amqp.publish_event(self.broker, batches[0], amqp.LOGS, names.LOG_BATCH_KEY)
        else:
            await amqp.publish_event(self.broker, LogBatches(batches=batches), amqp.LOGS,
                                     names.LOG_BATCHES_KEY)

    async def relay(self, worker_id: str, model: type[BaseModel], data: Any,
                    build: Callable[[Any], BaseModel], exchange: RabbitExchange,
                    key: str) -> tuple[Any, dict]:
        """Validate `data` as `model`, publish `build(event)`: (the event or None, the ack)."""
        try:
            event = model.model_validate(data)
        except ValidationError as exc:
            return None, await self._dead_letter(worker_id, key, data, exc)
        try:
            await self.publish(build(event), exchange, key)
        except Exception as exc:  # noqa: BLE001 - the worker keeps the event and resends it
            log.warning("could not pass on an event of worker %s: %s", worker_id, exc)
            return None, ack(False, "broker unavailable")
        return event, ack(True)

    async def _dead_letter(self, worker_id: str, key: str, data: Any,
                           exc: ValidationError) -> dict:
        reason = f"invalid {key} from worker {worker_id}: {exc}"[:1000]
        try:
            await amqp.publish_dead_letter(
                self.broker, json.dumps(data, default=str).encode(), reason, key
            )
        except Exception:  # noqa: BLE001 - not stored: let the worker try again later
            return ack(False, "broker unavailable")
        log.warning("dead-lettered a malformed event: %s", reason)
        return ack(True, f"dead-lettered: {reason}")
