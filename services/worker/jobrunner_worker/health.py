"""The worker's health and metrics over HTTP, on WORKER_HEALTH_PORT (off by default).

- `GET /healthz`: 200 while connected to a master, and while it has been without one for at
  most WORKER_HEALTH_GRACE_SECONDS (starting up, moving to another master); 503 after that.
  The JSON body says which, and since when.
- `GET /metrics`: Prometheus text (prometheus-client, a registry of this worker's own).

How it knows without hooks of its own in the session: every connect and disconnect is told to
the session's outbox, and every attempt's end (`job:finished`, or `job:ran` for a short one)
goes through it, so the monitor watches the outbox's `connected`, `disconnected` and `put`.
"""

import logging
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web
from jobrunner_shared import names
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    ProcessCollector,
    generate_latest,
)

from .session import WorkerSession

log = logging.getLogger(__name__)

FINAL_STATUSES = ("succeeded", "failed", "timed_out", "cancelled")


class WorkerMonitor:
    def __init__(self, session: WorkerSession, grace_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.session = session
        self.grace_seconds = grace_seconds
        self.clock = clock
        self.connected = False
        self.connections = 0
        # Not connected yet: the grace counts from the start.
        self.without_master_since: float | None = clock()

        self.registry = CollectorRegistry()
        attempts, outbox = session.attempts, session.outbox
        self.jobs = Counter("jobrunner_worker_jobs", "Attempts this worker ran, by how they ended",
                            ["status"], registry=self.registry)
        for status in FINAL_STATUSES:
            self.jobs.labels(status=status)
        self.reconnects = Counter("jobrunner_worker_reconnects",
                                  "Connections to a master after the first one",
                                  registry=self.registry)
        gauges: dict[str, tuple[str, Callable[[], float]]] = {
            "jobrunner_worker_running": ("Attempts running now", lambda: len(attempts)),
            "jobrunner_worker_slots": ("Attempts it may run at once (WORKER_CAPACITY)",
                                       lambda: attempts.capacity),
            "jobrunner_worker_connected": ("1 while connected to a master",
                                           lambda: 1 if self.connected else 0),
            "jobrunner_worker_draining": ("1 once draining", lambda: 1 if attempts.draining else 0),
            "jobrunner_worker_key_refusals": ("Refusals of its key in a row (resets on connect)",
                                              lambda: session.refusals),
            "jobrunner_worker_outbox_entries": ("Events the master has not acknowledged yet",
                                                lambda: len(outbox)),
            "jobrunner_worker_outbox_bytes": ("Bytes of those events, in memory and on disk",
                                              lambda: outbox.pending_bytes),
        }
        for name, (documentation, read) in gauges.items():
            Gauge(name, documentation, registry=self.registry).set_function(read)
        ProcessCollector(registry=self.registry)
        self._watch(outbox)

    def _watch(self, outbox: Any) -> None:
        put, connected, disconnected = outbox.put, outbox.connected, outbox.disconnected

        def on_put(event: str, payload: Any) -> None:
            put(event, payload)
            if event in (names.EV_JOB_FINISHED, names.EV_JOB_RAN):
                self.jobs.labels(status=payload.status).inc()

        def on_connected(client: Any) -> None:
            connected(client)
            self.connections += 1
            if self.connections > 1:
                self.reconnects.inc()
            self.connected, self.without_master_since = True, None

        def on_disconnected() -> None:
            disconnected()
            if self.connected:
                self.connected, self.without_master_since = False, self.clock()

        outbox.put, outbox.connected, outbox.disconnected = on_put, on_connected, on_disconnected

    def health(self) -> tuple[bool, dict[str, Any]]:
        without = None if self.connected or self.without_master_since is None else \
            self.clock() - self.without_master_since
        healthy = without is None or without <= self.grace_seconds
        attempts = self.session.attempts
        return healthy, {
            "status": "ok" if healthy else "unhealthy",
            "connected": self.connected,
            "master": self.session.master_url,
            "without_master_seconds": None if without is None else round(without, 1),
            "grace_seconds": self.grace_seconds,
            "running": len(attempts),
            "capacity": attempts.capacity,
            "draining": attempts.draining,
            "key_refusals": self.session.refusals,
        }

    def metrics(self) -> bytes:
        return generate_latest(self.registry)


class HealthServer:
    """A tiny aiohttp server in the worker's own event loop."""

    def __init__(self, monitor: WorkerMonitor, host: str, port: int) -> None:
        self.monitor = monitor
        self.host, self.port = host, port
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)

    async def start(self) -> None:
        """Listen; an OSError (the port is taken, say) is the caller's to report."""
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, self.host, self.port).start()
        except OSError:
            await self._runner.cleanup()
            raise
        log.info("health on http://%s:%d/healthz and /metrics", self.host, self.port)

    async def stop(self) -> None:
        await self._runner.cleanup()

    async def _healthz(self, request: web.Request) -> web.Response:
        healthy, body = self.monitor.health()
        return web.json_response(body, status=200 if healthy else 503)

    async def _metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=self.monitor.metrics(),
                            headers={"Content-Type": CONTENT_TYPE_LATEST})
