"""Worker Socket.IO sessions (SPEC §5) translated into RabbitMQ consumers and topic messages.

Each worker event is acknowledged only after RabbitMQ confirmed the message it became, so a
worker resends whatever the master could not pass on.
"""

import asyncio
import json
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

import aio_pika
import socketio
from bson import ObjectId
from faststream.rabbit import RabbitBroker
from pydantic import BaseModel, ValidationError
from pymongo.asynchronous.database import AsyncDatabase

from jobrunner_master import metrics, secrets
from jobrunner_master.keys import worker_key_owner
from jobrunner_master.settings import Settings
from jobrunner_master.slots import SlotConsumer
from jobrunner_shared import amqp, names
from jobrunner_shared.messages import (
    AssignAck,
    AttemptUnrunnable,
    EventAck,
    Heartbeat,
    JobAssignedEvent,
    JobAssignment,
    JobFinished,
    JobFinishedEvent,
    JobLog,
    JobStarted,
    JobStartedEvent,
    JobStatus,
    LogBatchEvent,
    WorkerAuth,
    WorkerEvent,
)
from jobrunner_shared.secretbox import SecretBox

log = logging.getLogger(__name__)


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

    def event(self, kind: str) -> WorkerEvent:
        return WorkerEvent(
            event=kind,
            tenant_id=self.tenant_id,
            worker_id=self.worker_id,
            worker_name=self.auth.name,
            api_key_id=self.api_key_id,
            labels=self.auth.labels,
            capacity=self.auth.capacity,
            version=self.auth.version,
            hostname=self.auth.hostname,
            running=[{"job_id": j, "attempt": a} for j, a in sorted(self.slots.running)],
            draining=self.draining,
        )


def _ack(ok: bool, error: str | None = None) -> dict[str, Any]:
    return EventAck(ok=ok, error=error).model_dump()


class WorkersNamespace(socketio.AsyncNamespace):
    # Socket.IO event names (SPEC §5) -> the handler method after "on_".
    HANDLERS = {
        names.EV_JOB_STARTED: "job_started",
        names.EV_JOB_LOG: "job_log",
        names.EV_JOB_FINISHED: "job_finished",
        names.EV_HEARTBEAT: "heartbeat",
    }

    def __init__(
        self, settings: Settings, broker: RabbitBroker, db: AsyncDatabase,
        dispatch_connection: aio_pika.abc.AbstractRobustConnection,
    ) -> None:
        super().__init__(names.WORKERS_NAMESPACE)
        self.settings = settings
        self.secretbox = SecretBox(settings.encryption_key)
        self.broker = broker
        self.db = db
        self.dispatch_connection = dispatch_connection
        self.sessions: dict[str, WorkerSession] = {}

    async def trigger_event(self, event: str, *args: Any) -> Any:
        if event in self.HANDLERS:  # known names only: a client cannot add label values
            metrics.WORKER_EVENTS.labels(event=event).inc()
        return await super().trigger_event(self.HANDLERS.get(event, event), *args)

    # --- connection lifecycle ------------------------------------------------------------------

    async def on_connect(self, sid: str, environ: dict, auth: Any = None) -> None:
        try:
            worker_auth = WorkerAuth.model_validate(auth or {})
        except ValidationError as exc:
            raise socketio.exceptions.ConnectionRefusedError(f"invalid auth: {exc}") from exc
        owner = await worker_key_owner(self.db, worker_auth.api_key)
        if owner is None:
            raise socketio.exceptions.ConnectionRefusedError("invalid or revoked API key")
        session = WorkerSession(
            sid=sid,
            auth=worker_auth,
            worker_id=worker_auth.worker_id or uuid.uuid4().hex,
            tenant_id=owner.tenant_id,
            api_key_id=owner.key_id,
            slots=None,  # type: ignore[arg-type]
        )
        session.slots = SlotConsumer(
            self.dispatch_connection,
            worker_auth.capacity,
            assign=lambda job: self._assign(session, job),
            prepare=self._prepare,
        )
        self.sessions[sid] = session
        await self._publish(session.event("connected"), amqp.HEARTBEATS, names.WORKER_CONNECTED_KEY)
        log.info("worker %s (%s) connected for tenant %s, capacity %s, labels %s",
                 worker_auth.name, session.worker_id, owner.tenant_id, worker_auth.capacity,
                 worker_auth.labels)
        self._spawn(session, self._start_dispatch(session))

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        session = self.sessions.pop(sid, None)
        if session is None:
            return
        await session.slots.close()
        for task in session.tasks:
            task.cancel()
        try:
            await self._publish(
                session.event("disconnected"), amqp.HEARTBEATS, names.WORKER_DISCONNECTED_KEY
            )
        except Exception:  # noqa: BLE001 - presence also expires by heartbeat age
            log.warning("could not publish the disconnect of %s", session.worker_id)
        log.info("worker %s (%s) disconnected: %s", session.auth.name, session.worker_id, reason)

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

    async def _still_wanted(self, job: JobAssignment) -> bool:
        """Still queued at this attempt, and not yet taken by a worker (a duplicate delivery)."""
        doc = await self.db[names.JOBS_COLLECTION].find_one(
            {"_id": ObjectId(job.job_id)},
            {"status": 1, "attempt": 1, "tenant_id": 1, "attempts.worker": 1},
        )
        if doc is None or doc["tenant_id"] != job.tenant_id or doc["attempt"] != job.attempt:
            return False
        attempts = doc.get("attempts") or []
        taken = len(attempts) >= job.attempt and attempts[job.attempt - 1].get("worker")
        return doc["status"] == JobStatus.queued.value and not taken

    async def _prepare(self, job: JobAssignment) -> JobAssignment | None:
        """The assignment to send, its secrets decrypted; None if it must not run."""
        if not await self._still_wanted(job):
            return None
        try:
            return secrets.reveal(job, self.secretbox)
        except secrets.SecretUnreadable as exc:
            log.error("job %s attempt %s cannot run: %s", job.job_id, job.attempt, exc)
            # Why: only the API writes job state; this event ends the job there, with the
            # reason, instead of the job being offered to worker after worker in vain.
            await self._publish(
                AttemptUnrunnable(job_id=job.job_id, tenant_id=job.tenant_id,
                                  attempt=job.attempt, error=str(exc)),
                amqp.JOBS, names.JOB_UNRUNNABLE_KEY,
            )
            return None

    async def _assign(self, session: WorkerSession, job: JobAssignment) -> bool:
        if job.tenant_id != session.tenant_id or not set(job.labels) <= set(session.auth.labels):
            log.error("refusing to send job %s to worker %s: tenant or labels differ",
                      job.job_id, session.worker_id)
            return False
        payload = secrets.worker_payload(job)
        try:
            reply = await self.call(
                names.EV_JOB_ASSIGN, payload, to=session.sid,
                timeout=self.settings.assign_timeout_seconds,
            )
        except (socketio.exceptions.TimeoutError, socketio.exceptions.SocketIOError) as exc:
            log.warning("worker %s did not take job %s: %r", session.worker_id, job.job_id, exc)
            return False
        try:
            ack = AssignAck.model_validate(reply)
        except ValidationError:
            log.warning("worker %s sent a malformed job:assign ack: %r", session.worker_id, reply)
            return False
        if not ack.accepted:
            log.info("worker %s declined job %s: %s", session.worker_id, job.job_id, ack.reason)
            # Why: the worker knows better than our count; offer nothing more until its next
            # heartbeat says what it runs, instead of requeueing in a tight loop.
            session.slots.held = True
            return False
        try:
            # Why: from here the attempt's lease covers it, even if the worker dies before
            # it could report the start.
            await self._publish(
                JobAssignedEvent(job_id=job.job_id, attempt=job.attempt, **_ref(session)),
                amqp.JOBS, names.JOB_ASSIGNED_KEY,
            )
        except Exception:  # noqa: BLE001 - the worker runs it; its start report covers it
            log.warning("could not record the assignment of job %s", job.job_id)
        return True

    # --- worker events ---------------------------------------------------------------------------

    async def _publish(self, message: BaseModel, exchange: Any, key: str) -> None:
        await amqp.publish_event(self.broker, message, exchange, key)

    async def _relay(self, sid: str, model: type[BaseModel], data: Any, build: Any,
                     exchange: Any, key: str) -> tuple[WorkerSession | None, Any, dict]:
        session = self.sessions.get(sid)
        if session is None:
            return None, None, _ack(False, "no session")
        try:
            event = model.model_validate(data)
        except ValidationError as exc:
            return session, None, await self._dead_letter(session, key, data, exc)
        try:
            await self._publish(build(session, event), exchange, key)
        except Exception as exc:  # noqa: BLE001 - the worker keeps the event and resends it
            log.warning("could not pass on an event of worker %s: %s", session.worker_id, exc)
            return session, None, _ack(False, "broker unavailable")
        return session, event, _ack(True)

    async def _dead_letter(self, session: WorkerSession, key: str, data: Any,
                           exc: ValidationError) -> dict:
        """A malformed event is kept in the dead-letter queue, and acknowledged.

        Why: resending it cannot help, and the worker would hold back all that follows it.
        """
        reason = f"invalid {key} from worker {session.worker_id}: {exc}"[:1000]
        try:
            await amqp.publish_dead_letter(
                self.broker, json.dumps(data, default=str).encode(), reason, key
            )
        except Exception:  # noqa: BLE001 - not stored: let the worker try again later
            return _ack(False, "broker unavailable")
        log.warning("dead-lettered a malformed event: %s", reason)
        return _ack(True, f"dead-lettered: {reason}")

    async def on_job_started(self, sid: str, data: Any) -> dict:
        session, event, ack = await self._relay(
            sid, JobStarted, data,
            lambda s, e: JobStartedEvent(**e.model_dump(), **_ref(s)),
            amqp.JOBS, names.JOB_STARTED_KEY,
        )
        if event is not None:
            session.slots.running.add((event.job_id, event.attempt))
        return ack

    async def on_job_log(self, sid: str, data: Any) -> dict:
        _, _, ack = await self._relay(
            sid, JobLog, data,
            lambda s, e: LogBatchEvent(**e.model_dump(), **_ref(s)),
            amqp.LOGS, names.LOG_BATCH_KEY,
        )
        return ack

    async def on_job_finished(self, sid: str, data: Any) -> dict:
        session, event, ack = await self._relay(
            sid, JobFinished, data,
            lambda s, e: JobFinishedEvent(**e.model_dump(), **_ref(s)),
            amqp.JOBS, names.JOB_FINISHED_KEY,
        )
        if event is not None:
            await session.slots.finished(event.job_id, event.attempt)
        return ack

    async def on_heartbeat(self, sid: str, data: Any) -> dict:
        session = self.sessions.get(sid)
        if session is None:
            return _ack(False, "no session")
        try:
            beat = Heartbeat.model_validate(data or {})
        except ValidationError as exc:
            return _ack(False, f"invalid payload: {exc}"[:500])
        session.slots.set_running({(r.job_id, r.attempt) for r in beat.running})
        session.slots.held = False
        if beat.draining and not session.draining:
            session.draining = session.slots.paused = True
        await session.slots.refresh()
        try:
            await self._publish(session.event("heartbeat"), amqp.HEARTBEATS, names.HEARTBEAT_KEY)
        except Exception:  # noqa: BLE001 - the next heartbeat carries the same news
            return _ack(False, "broker unavailable")
        return _ack(True)

    # --- control from the API ----------------------------------------------------------------------

    def _of_tenant(self, tenant_id: str) -> list[WorkerSession]:
        return [s for s in self.sessions.values() if s.tenant_id == tenant_id]

    async def cancel(self, tenant_id: str, job_id: str, attempt: int,
                     worker_id: str | None = None) -> None:
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
        for session in self._of_tenant(tenant_id):
            if set(labels) <= set(session.auth.labels):
                await session.slots.add_queue(queue)

    async def key_revoked(self, tenant_id: str, key_id: str) -> None:
        for session in self._of_tenant(tenant_id):
            if session.api_key_id == key_id:
                log.info("cutting worker %s: its API key was revoked", session.worker_id)
                await self.disconnect(session.sid)


def _ref(session: WorkerSession) -> dict[str, str]:
    return {
        "tenant_id": session.tenant_id,
        "worker_id": session.worker_id,
        "worker_name": session.auth.name,
    }
