"""Worker Socket.IO sessions (SPEC §5): the master's orchestrator.

A session is authenticated (auth.py), gets its dispatch consumers (dispatch.py), and has its
events relayed to the topics (relay.py); what the API asks of a session arrives on the control
topic (control.py) and is carried out here.
"""

import asyncio
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import socketio
from aio_pika.abc import AbstractIncomingMessage
from faststream.rabbit import RabbitBroker
from pydantic import BaseModel, ValidationError
from pymongo.asynchronous.database import AsyncDatabase

from jobrunner_master import metrics
from jobrunner_master.auth import authenticate
from jobrunner_master.dispatch import Assigner, DispatchConnections, SlotConsumer
from jobrunner_master.relay import Relay, ack
from jobrunner_master.revocations import Revocations
from jobrunner_master.settings import Settings
from jobrunner_shared import amqp, names
from jobrunner_shared.messages import (
    AttemptUnrunnable,
    Heartbeat,
    JobAssignedEvent,
    JobAssignment,
    JobFinished,
    JobFinishedEvent,
    JobLog,
    JobRan,
    JobRanEvent,
    JobStarted,
    JobStartedEvent,
    LogBatchEvent,
    WorkerAuth,
    WorkerEvent,
    utcnow,
)
from jobrunner_shared.secretbox import SecretBox

log = logging.getLogger(__name__)
# Sessions adding a new dispatch queue at once (queue_added).
QUEUE_ADDED_AT_ONCE = 64


@dataclass
class WorkerSession:
    sid: str
    auth: WorkerAuth
    worker_id: str
    tenant_id: str
    api_key_id: str
    slots: SlotConsumer
    draining: bool = False
    tasks: set[asyncio.Task] = field(default_factory=set)
    expiry: asyncio.TimerHandle | None = None  # cuts the session when its key expires

    def ref(self) -> dict[str, str]:
        return {"tenant_id": self.tenant_id, "worker_id": self.worker_id,
                "worker_name": self.auth.name}

    def event(self, kind: str) -> WorkerEvent:
        return WorkerEvent(
            event=kind,
            **self.ref(),
            api_key_id=self.api_key_id,
            labels=self.auth.labels,
            capacity=self.auth.capacity,
            version=self.auth.version,
            hostname=self.auth.hostname,
            running=[{"job_id": j, "attempt": a} for j, a in sorted(self.slots.running)],
            draining=self.draining,
        )


class WorkersNamespace(socketio.AsyncNamespace):
    # Socket.IO event names (SPEC §5) -> the handler method after "on_".
    HANDLERS = {
        names.EV_JOB_STARTED: "job_started",
        names.EV_JOB_LOG: "job_log",
        names.EV_JOB_FINISHED: "job_finished",
        names.EV_JOB_RAN: "job_ran",
        names.EV_HEARTBEAT: "heartbeat",
    }

    def __init__(
        self, settings: Settings, broker: RabbitBroker, db: AsyncDatabase,
        dispatch_connections: DispatchConnections,
    ) -> None:
        super().__init__(names.WORKERS_NAMESPACE)
        self.settings = settings
        self.db = db
        self.dispatch_connections = dispatch_connections
        self.relay = Relay(broker)
        # Attempts cancelled lately, heard on the control topic (control.py, app.py follows
        # its channel): most deliveries need no read of their job (revocations.py).
        self.revocations = Revocations()
        self.assigner = Assigner(db, SecretBox(settings.encryption_key),
                                 settings.assign_timeout_seconds, self.call,
                                 self._publish_unrunnable, self._publish_settle,
                                 self.revocations)
        self.sessions: dict[str, WorkerSession] = {}
        self.shutting_down = False
        self._cuts: set[asyncio.Task] = set()  # disconnects of expired keys, under way

    async def trigger_event(self, event: str, *args: Any) -> Any:
        if event in self.HANDLERS:  # known names only: a client cannot add label values
            metrics.WORKER_EVENTS.labels(event=event).inc()
        return await super().trigger_event(self.HANDLERS.get(event, event), *args)

    # --- connection lifecycle ------------------------------------------------------------------

    async def on_connect(self, sid: str, environ: dict, auth: Any = None) -> None:
        worker_auth, owner = await authenticate(self.db, auth)
        session = WorkerSession(
            sid=sid,
            auth=worker_auth,
            worker_id=worker_auth.worker_id or uuid.uuid4().hex,
            tenant_id=owner.tenant_id,
            api_key_id=owner.key_id,
            slots=None,  # type: ignore[arg-type]
        )
        session.slots = SlotConsumer(
            self.dispatch_connections,
            worker_auth.capacity,
            assign=lambda job: self._assign(session, job),
            prepare=self.assigner.prepare,
            record=lambda job: self._record_assigned(session, job),
            redelivered=self.assigner.redelivered,
        )
        self.sessions[sid] = session
        if owner.expires_at is not None:
            self._cut_at_expiry(session, owner.expires_at)
        await self.relay.publish(session.event("connected"), amqp.HEARTBEATS,
                                 names.WORKER_CONNECTED_KEY)
        log.info("worker %s (%s) connected for tenant %s, capacity %s, labels %s",
                 worker_auth.name, session.worker_id, owner.tenant_id, worker_auth.capacity,
                 worker_auth.labels)
        self._spawn(session, self._start_dispatch(session))

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        session = self.sessions.pop(sid, None)
        if session is None:
            return
        if session.expiry is not None:
            session.expiry.cancel()
        await session.slots.close()
        for task in session.tasks:
            task.cancel()
        log.info("worker %s (%s) disconnected: %s", session.auth.name, session.worker_id, reason)
        if self.shutting_down:
            # Why not report it: the worker reconnects to another master (or this one, back)
            # and keeps its jobs; a disconnect would cut their leases to the reconnect grace.
            return
        try:
            await self.relay.publish(session.event("disconnected"), amqp.HEARTBEATS,
                                     names.WORKER_DISCONNECTED_KEY)
        except Exception:  # noqa: BLE001 - presence also expires by heartbeat age
            log.warning("could not publish the disconnect of %s", session.worker_id)

    async def shutdown(self) -> None:
        self.shutting_down = True
        for sid in list(self.sessions):
            await self.on_disconnect(sid, "master shutting down")

    def _spawn(self, session: WorkerSession, coro: Any) -> None:
        task = asyncio.create_task(coro)
        session.tasks.add(task)
        task.add_done_callback(session.tasks.discard)

    async def _start_dispatch(self, session: WorkerSession) -> None:
        # Why: the connect handler has returned but the CONNECT packet may not be out yet;
        # a job:assign sent before it would be lost.
        for _ in range(500):
            if self.server.manager.is_connected(session.sid, names.WORKERS_NAMESPACE):
                break
            await asyncio.sleep(0.01)
        queues = await self._eligible_queues(session)
        await session.slots.start(queues)

    async def _eligible_queues(self, session: WorkerSession) -> list[str]:
        have = set(session.auth.labels)
        cursor = self.db[names.DISPATCH_QUEUES_COLLECTION].find({"tenant_id": session.tenant_id})
        return [doc["queue"] async for doc in cursor if set(doc["labels"]) <= have]

    # --- dispatch --------------------------------------------------------------------------------

    async def _publish_settle(self, message: AbstractIncomingMessage) -> None:
        """To the settle queue as it came (its routing key, priority, headers), expiring after
        the settle time back to its dispatch queue (names.SETTLE_QUEUE)."""
        await amqp.publish_event(
            self.relay.broker, message.body, amqp.SETTLE, message.routing_key or "",
            priority=message.priority, headers=dict(message.headers or {}),
            message_id=message.message_id, content_type=message.content_type,
            expiration=self.settings.redelivery_settle_seconds,
        )

    async def _publish_unrunnable(self, job: JobAssignment, error: str) -> None:
        await self.relay.publish(
            AttemptUnrunnable(job_id=job.job_id, tenant_id=job.tenant_id, attempt=job.attempt,
                              error=error),
            amqp.JOBS, names.JOB_UNRUNNABLE_KEY,
        )

    async def _assign(self, session: WorkerSession, job: JobAssignment) -> bool:
        if job.tenant_id != session.tenant_id or not set(job.labels) <= set(session.auth.labels):
            log.error("refusing to send job %s to worker %s: tenant or labels differ",
                      job.job_id, session.worker_id)
            return False
        answer = await self.assigner.offer(session.sid, session.worker_id, job)
        if answer is None:
            return False
        if not answer.accepted:
            log.info("worker %s declined job %s: %s", session.worker_id, job.job_id,
                     answer.reason)
            # Why: the worker knows better than our count; offer nothing more until its next
            # heartbeat says what it runs, instead of requeueing in a tight loop.
            session.slots.held = True
            return False
        if self.revocations.revoked(job.job_id, job.attempt):
            # Its cancel came while it was offered (after the check, before it was running
            # here, so cancel() below did not see it): the worker stops it at once.
            await self.emit(names.EV_JOB_CANCEL, {"job_id": job.job_id, "attempt": job.attempt},
                            to=session.sid)
        return True

    async def _record_assigned(self, session: WorkerSession, job: JobAssignment) -> None:
        """The worker took the attempt but has not reported it started: from here its lease
        covers it, even if the worker dies before it could."""
        await self.relay.publish(
            JobAssignedEvent(job_id=job.job_id, attempt=job.attempt, **session.ref()),
            amqp.JOBS, names.JOB_ASSIGNED_KEY,
        )

    # --- worker events ---------------------------------------------------------------------------

    async def on_job_started(self, sid: str, data: Any) -> dict:
        session = self.sessions.get(sid)
        if session is None:
            return ack(False, "no session")
        event, reply = await self.relay.relay(
            session.worker_id, JobStarted, data,
            lambda e: JobStartedEvent(**e.model_dump(), **session.ref(),
                                      at=utcnow() - timedelta(seconds=e.held_seconds)),
            amqp.JOBS, names.JOB_STARTED_KEY,
        )
        if event is not None:
            session.slots.took(event.job_id, event.attempt)
            await session.slots.started(event.job_id, event.attempt)
        return reply

    async def on_job_log(self, sid: str, data: Any) -> dict:
        session = self.sessions.get(sid)
        if session is None:
            return ack(False, "no session")
        _, reply = await self.relay.relay(
            session.worker_id, JobLog, data,
            lambda e: LogBatchEvent(**e.model_dump(), **session.ref()),
            amqp.LOGS, names.LOG_BATCH_KEY,
        )
        return reply

    async def on_job_finished(self, sid: str, data: Any) -> dict:
        return await self._relay_end(sid, data, JobFinished, JobFinishedEvent,
                                     names.JOB_FINISHED_KEY)

    async def on_job_ran(self, sid: str, data: Any) -> dict:
        """A short attempt's start, output and end in one event: one message to the job-events
        topic (the API stores the lines, then applies the start and end as one change)."""
        return await self._relay_end(sid, data, JobRan, JobRanEvent, names.JOB_RAN_KEY)

    async def _relay_end(self, sid: str, data: Any, model: type[BaseModel],
                         topic_event: type[BaseModel], key: str) -> dict:
        """An attempt's end (job:finished, or job:ran) to the job-events topic; once there, its
        slot is free again and its delivery settled."""
        session = self.sessions.get(sid)
        if session is None:
            return ack(False, "no session")
        event, reply = await self.relay.relay(
            session.worker_id, model, data,
            lambda e: topic_event(**e.model_dump(), **session.ref()),
            amqp.JOBS, key,
        )
        if event is not None:
            await session.slots.finished(event.job_id, event.attempt)
        return reply

    async def on_heartbeat(self, sid: str, data: Any) -> dict:
        session = self.sessions.get(sid)
        if session is None:
            return ack(False, "no session")
        try:
            beat = Heartbeat.model_validate(data or {})
        except ValidationError as exc:
            return ack(False, f"invalid payload: {exc}"[:500])
        session.slots.set_running({(r.job_id, r.attempt) for r in beat.running})
        session.slots.held = False
        if beat.draining and not session.draining:
            session.draining = session.slots.paused = True
        await session.slots.refresh()
        try:
            await self.relay.publish(session.event("heartbeat"), amqp.HEARTBEATS,
                                     names.HEARTBEAT_KEY)
        except Exception:  # noqa: BLE001 - the next heartbeat carries the same news
            return ack(False, "broker unavailable")
        return ack(True)

    # --- control from the API ----------------------------------------------------------------------

    def _of_tenant(self, tenant_id: str) -> list[WorkerSession]:
        return [s for s in self.sessions.values() if s.tenant_id == tenant_id]

    async def cancel(self, tenant_id: str, job_id: str, attempt: int,
                     worker_id: str | None = None) -> None:
        if worker_id is None:
            # The job's own cancel (any other stop names the copy's worker): no delivery of
            # this attempt may run from now on.
            self.revocations.revoke(job_id, attempt)
        for session in self._of_tenant(tenant_id):
            if worker_id is not None and session.worker_id != worker_id:
                continue
            if (job_id, attempt) in session.slots.running:
                await self.emit(
                    names.EV_JOB_CANCEL, {"job_id": job_id, "attempt": attempt}, to=session.sid
                )

    async def drain(self, tenant_id: str, worker_id: str) -> None:
        for session in self._of_tenant(tenant_id):
            if session.worker_id == worker_id:
                session.draining = session.slots.paused = True
                await session.slots.refresh()
                await self.emit(names.EV_WORKER_DRAIN, {}, to=session.sid)

    async def queue_added(self, tenant_id: str, labels: list[str], queue: str) -> None:
        # Why side by side: each session adds the queue on its own channel (a declare and a
        # consume, two round trips); one session after the other, the last of 1,000 waited
        # seconds for a queue the others already consumed. One failure stops no other.
        gate = asyncio.Semaphore(QUEUE_ADDED_AT_ONCE)

        async def add(session: WorkerSession) -> None:
            async with gate:
                try:
                    await session.slots.add_queue(queue)
                except Exception:  # noqa: BLE001 - that session gets it when it reconnects
                    log.warning("could not add queue %s to worker %s", queue, session.worker_id)

        await asyncio.gather(*(add(session) for session in self._of_tenant(tenant_id)
                               if set(labels) <= set(session.auth.labels)))

    def _cut_at_expiry(self, session: WorkerSession, expires_at: datetime) -> None:
        """At its key's expires_at, end the session as a revocation does: its reconnects are
        refused (auth.py), so the worker sees the same reason, which names expiry."""
        def cut() -> None:
            if self.sessions.get(session.sid) is session:
                log.info("cutting worker %s: its API key expired", session.worker_id)
                # Not one of session.tasks: on_disconnect cancels those, this one included.
                task = asyncio.get_running_loop().create_task(self.disconnect(session.sid))
                self._cuts.add(task)
                task.add_done_callback(self._cuts.discard)

        delay = (expires_at - utcnow()).total_seconds()
        session.expiry = asyncio.get_running_loop().call_later(max(0.0, delay), cut)

    async def key_revoked(self, tenant_id: str, key_id: str) -> None:
        for session in self._of_tenant(tenant_id):
            if session.api_key_id == key_id:
                log.info("cutting worker %s: its API key was revoked", session.worker_id)
                await self.disconnect(session.sid)
