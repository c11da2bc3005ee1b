"""The worker's Socket.IO session with the master (SPEC §5): connect, reconnect, dispatch.

Reconnecting is done here, not by python-socketio (its own reconnection is off): a dropped
connection, a refused one (bad or revoked key) and a master that is down are all retried by
`_connect_forever`, which tries each master of MASTER_URL in turn (several, comma-separated;
one behind a load balancer) and backs off, doubling with jitter up to RECONNECT_DELAY_MAX, once
it went round all of them without success. So a worker whose master is lost is on another
within moments, and one with a bad key knocks at a slowly growing interval, never in a tight
loop. A key the master refuses WORKER_MAX_REFUSALS times in a row (bad or revoked) ends the
worker instead: `refused` says why, and the entry point exits non-zero with it.
"""

import asyncio
import contextlib
import logging
import random
import socket
import time
import uuid
from typing import Any

import socketio
from jobrunner_shared import names, sio_packet
from jobrunner_shared.messages import AssignAck, AttemptRef, JobAssignment, WorkerAuth
from pydantic import ValidationError

from .attempts import Attempts
from .heartbeat import Heartbeater
from .outbox import Outbox
from .settings import WorkerSettings
from .spill import SpillStore

log = logging.getLogger(__name__)

NS = names.WORKERS_NAMESPACE
# A connection that lasted this long resets the backoff; a shorter one (accepted, then cut
# right away) keeps growing it.
STABLE_CONNECTION_SECONDS = 10.0
# After a second signal: how long finished events may still take to reach the master.
HURRIED_FLUSH_SECONDS = 5.0


class WorkerSession:
    def __init__(self, settings: WorkerSettings, *, version: str = "0") -> None:
        self.settings = settings
        self.version = version
        # One identity per process: the master recognises this worker across reconnects.
        self.worker_id = uuid.uuid4().hex
        self.outbox = Outbox(
            window=settings.send_window,
            ack_timeout=settings.ack_timeout,
            retry_delay=settings.reconnect_delay,
            retry_delay_max=settings.reconnect_delay_max,
            memory_limit=settings.outbox_memory_bytes,
            spill=SpillStore(settings.outbox_path(self.worker_id)),
            batch_lines=settings.log_batch_lines,
            batch_bytes=settings.log_batch_bytes,
        )
        self.attempts = Attempts(settings, self.outbox)
        self.client = socketio.AsyncClient(
            reconnection=False,  # _connect_forever reconnects, to whichever master answers
            # engineio would otherwise take over SIGINT on the first connect (disconnect and
            # cancel everything); SIGINT/SIGTERM mean "drain" here, handled in main.py.
            handle_sigint=False,
            serializer=sio_packet.Packet,
        )
        self.heartbeat = Heartbeater(self.client, self.attempts, settings.heartbeat_interval)
        self.attempts.on_change = self.heartbeat.poke
        self.connect_errors = 0
        self.refusals = 0  # refusals in a row by a master that answered (a bad or revoked key)
        self.refused: str | None = None  # why the worker gave up, once it did
        self._last_connect_error: Any = None
        self.master_url = settings.master_urls[0]  # the one connected to (or last tried)
        self._stopping = False
        self._hurry = asyncio.Event()
        for event, handler in {
            "connect": self._on_connect,
            "disconnect": self._on_disconnect,
            "connect_error": self._on_connect_error,
            names.EV_JOB_ASSIGN: self._on_assign,
            names.EV_JOB_CANCEL: self._on_cancel,
            names.EV_WORKER_DRAIN: self._on_drain,
        }.items():
            self.client.on(event, handler, namespace=NS)

    def auth(self) -> dict[str, Any]:
        return WorkerAuth(
            api_key=self.settings.api_key,
            name=self.settings.worker_name,
            labels=self.settings.labels,
            capacity=self.settings.worker_capacity,
            version=self.version,
            hostname=socket.gethostname(),
            worker_id=self.worker_id,
        ).model_dump()

    # --- lifecycle ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect and serve until drained (`worker:drain`, or `drain()` from a signal)."""
        tasks = [
            asyncio.create_task(self.outbox.run(), name="outbox"),
            asyncio.create_task(self.heartbeat.run(), name="heartbeat"),
        ]
        connection = asyncio.create_task(self._connect_forever(), name="connection")
        try:
            await self.attempts.wait_drained()
            # What has finished must reach the master before the worker goes away.
            flushed = asyncio.create_task(self.outbox.wait_empty())
            hurry = asyncio.create_task(self._hurry.wait())
            await asyncio.wait({flushed, hurry}, return_when=asyncio.FIRST_COMPLETED)
            if not flushed.done():
                await asyncio.wait({flushed}, timeout=HURRIED_FLUSH_SECONDS)
            for task in (flushed, hurry):
                task.cancel()
            if len(self.outbox):
                log.warning("exiting with %d events the master did not acknowledge", len(self.outbox))
        finally:
            self._stopping = True
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            # Disconnecting first lets the connection loop see `_stopping` and end by itself
            # (cancelling it inside client.wait() would cancel the library's read loop too);
            # cancel only when that did not work: python-socketio swallows a cancellation at
            # some points of connect() and of its reconnect loop, hence the loop.
            while not connection.done():
                await self._shutdown_client()
                # client.wait() naps a second after a disconnect; once the client is shut
                # down, cancelling that nap is harmless.
                await asyncio.wait({connection}, timeout=0.1)
                if not connection.done():
                    connection.cancel()
                    await asyncio.wait({connection}, timeout=0.5)
            with contextlib.suppress(BaseException):
                connection.result()
            await self._shutdown_client()
            self.outbox.close()
            log.info("worker stopped")

    def drain(self) -> None:
        self.attempts.drain()
        asyncio.get_running_loop().create_task(self.heartbeat.beat())

    def stop_now(self) -> None:
        """Second signal: cancel what runs, report it briefly, exit."""
        log.warning("stopping now: cancelling %d running attempts", len(self.attempts))
        self.attempts.drain()
        self.attempts.cancel_all()
        self._hurry.set()

    async def _shutdown_client(self) -> None:
        try:
            await self.client.shutdown()
        except asyncio.CancelledError:
            if asyncio.current_task().cancelling():  # type: ignore[union-attr]
                raise
        except Exception as exc:  # noqa: BLE001 - best effort while stopping
            log.debug("while disconnecting: %r", exc)

    async def _connect_forever(self) -> None:
        urls = self.settings.master_urls
        failures = 0  # connections in a row that failed or did not last
        turn = 0  # which master is tried next
        while not self._stopping:
            url = self.master_url = urls[turn % len(urls)]
            started = time.monotonic()
            try:
                await self.client.connect(url, auth=self.auth, namespaces=[NS], wait_timeout=10)
            except socketio.exceptions.ConnectionError as exc:
                if self._stopping:
                    return
                # A failed namespace: the master answered and refused us (an unreachable
                # master fails before that and says nothing about the key).
                if NS in self.client.failed_namespaces and self._count_refusal(url):
                    return
                failures += 1
                turn += 1
                await self._backoff(failures, len(urls), f"cannot connect to {url}: {exc}")
                continue
            if self._stopping:
                await self.client.disconnect()
                return
            await self.client.wait()  # returns once the connection is gone
            if self._stopping:
                return
            failures = 0 if time.monotonic() - started > STABLE_CONNECTION_SECONDS else failures + 1
            turn += 1  # this master may be going away: the next one first
            await self._backoff(max(failures, 1), len(urls), f"disconnected from {url}")

    def _count_refusal(self, url: str) -> bool:
        """One more refusal in a row; True once there were WORKER_MAX_REFUSALS: give up."""
        self.refusals += 1
        limit = self.settings.worker_max_refusals
        if not limit or self.refusals < limit:
            return False
        data = self._last_connect_error
        reason = data.get("message", data) if isinstance(data, dict) else data
        self.refused = f"{url} refused the key {self.refusals} times in a row: {reason}"
        log.error("giving up: %s", self.refused)
        # Why stop at once rather than drain: with a refused key nothing it runs can be
        # reported any more; the platform gives those attempts to other workers.
        self.stop_now()
        return True

    async def _backoff(self, failures: int, masters: int, why: str) -> None:
        """A short pause before the next master; the growing one after a round of them all."""
        if failures % masters:
            delay = min(self.settings.reconnect_delay, 0.5) * random.uniform(0.5, 1.0)
        else:
            rounds = failures // masters
            base = self.settings.reconnect_delay * 2 ** min(rounds - 1, 30)
            delay = min(self.settings.reconnect_delay_max, base) * random.uniform(0.75, 1.25)
        log.warning("%s; retrying in %.1f s", why, delay)
        await asyncio.sleep(delay)

    # --- Socket.IO handlers -------------------------------------------------------------------

    async def _on_connect(self) -> None:
        log.info("connected to %s as %s (%s)", self.master_url, self.settings.worker_name,
                 self.worker_id)
        self.refusals = 0
        self.outbox.connected(self.client)
        asyncio.get_running_loop().create_task(self.heartbeat.beat())

    async def _on_disconnect(self, reason: Any = None) -> None:
        log.warning("disconnected from the master (%s)", reason)
        self.outbox.disconnected()

    async def _on_connect_error(self, data: Any = None) -> None:
        self.connect_errors += 1
        self._last_connect_error = data
        log.warning("master refused the connection or is unreachable: %s", data)

    async def _on_assign(self, data: Any) -> dict[str, Any]:
        try:
            assignment = JobAssignment.model_validate(data)
        except ValidationError as exc:
            # Why not the error itself: it would quote the payload, whose env holds secrets.
            log.warning("invalid job:assign payload: %s",
                        "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                                  for e in exc.errors(include_input=False)))
            ack = AssignAck(accepted=False, reason=f"invalid assignment: {exc.error_count()} errors")
            return ack.model_dump()
        return self.attempts.assign(assignment).model_dump()

    async def _on_cancel(self, data: Any) -> dict[str, Any]:
        try:
            ref = AttemptRef.model_validate(data)
        except ValidationError:
            return {"ok": False}
        return {"ok": self.attempts.cancel(ref.job_id, ref.attempt)}

    async def _on_drain(self, data: Any = None) -> dict[str, Any]:
        self.drain()
        return {"ok": True}
