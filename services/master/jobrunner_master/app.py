"""The master's ASGI app: Socket.IO for workers, plus health and metrics over plain HTTP."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

import socketio
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pymongo import AsyncMongoClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from jobrunner_master import control
from jobrunner_master import metrics as master_metrics
from jobrunner_master.dispatch import DispatchConnections
from jobrunner_master.sessions import WorkersNamespace
from jobrunner_master.settings import Settings, get_settings
from jobrunner_shared import amqp, gctuning, sio_packet
from jobrunner_shared import logging as log_setup

log = logging.getLogger(__name__)
# The platform's version (the VERSION file, through the package's metadata), on /healthz.
VERSION = version("jobrunner-master")


def create_app(settings: Settings | None = None) -> socketio.ASGIApp:
    settings = settings or get_settings()
    broker = amqp.broker(
        settings.rabbitmq_url,
        middlewares=[amqp.ConsumeErrorPolicy],
        default_channel=amqp.channel(settings.consumer_prefetch),
        logger=log_setup.broker_logger(),
        # Why: "Received"/"Processed" for every message (heartbeats, log batches) drowns the
        # logs at INFO; failures are still logged as errors.
        log_level=logging.DEBUG,
    )
    mongo: AsyncMongoClient = AsyncMongoClient(
        settings.mongodb_url, tz_aware=True, serverSelectionTimeoutMS=5000
    )
    sio = socketio.AsyncServer(
        async_mode="asgi",
        cors_allowed_origins=[],
        max_http_buffer_size=settings.max_message_bytes,
        logger=False,
        engineio_logger=False,
        serializer=sio_packet.Packet,
    )
    state: dict[str, object] = {}

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        # Separate connections for dispatch consumers: their channels come and go with
        # worker sessions, and must not disturb the channel that publishes events.
        dispatch = DispatchConnections(lambda: amqp.connect(settings.rabbitmq_url))
        await dispatch.start()
        workers = WorkersNamespace(settings, broker, mongo[settings.mongodb_db], dispatch)
        sio.register_namespace(workers)
        broker.include_router(control.build_router(workers))
        await broker.start()
        await amqp.declare_topology(broker)
        # The control consumer is on the broker's default channel: while it is open, every
        # cancel is heard (revocations.py); when it closes, the revocation list vouches for
        # nothing until it is back.
        workers.revocations.follow(await broker.config.channel_manager.get_channel())
        state["workers"] = workers
        state["queue_depth"] = master_metrics.QueueDepth(mongo[settings.mongodb_db],
                                                         dispatch.first)
        master_metrics.CONNECTED_WORKERS.set_function(lambda: len(workers.sessions))
        # Why: a session is some 400 Python objects here; with the default threshold those
        # living a few seconds (a heartbeat's bookkeeping, timers, calls in flight) reached the
        # old generation, whose full collections held the event loop for 0.3-0.8 s at 1,000
        # sessions (seconds at 2,000).
        gctuning.settle_after_startup()
        lag = asyncio.create_task(master_metrics.watch_event_loop(), name="event-loop-lag")
        try:
            yield
        finally:
            lag.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await lag
            await workers.shutdown()
            await broker.stop()
            await dispatch.close()
            await mongo.close()

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "version": VERSION})

    async def readyz(_: Request) -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            await mongo[settings.mongodb_db].command("ping")
            checks["mongodb"] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            checks["mongodb"] = f"error: {exc}"[:200]
        try:
            checks["rabbitmq"] = "ok" if await broker.ping(timeout=2.0) else "error: no answer"
        except Exception as exc:  # noqa: BLE001
            checks["rabbitmq"] = f"error: {exc}"[:200]
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ok" if ready else "unavailable", "checks": checks},
            status_code=200 if ready else 503,
        )

    async def metrics(_: Request) -> Response:
        queue_depth = state.get("queue_depth")
        if isinstance(queue_depth, master_metrics.QueueDepth):
            await queue_depth.refresh(settings.metrics_cache_seconds)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    http = Starlette(
        routes=[Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", metrics)],
        lifespan=lifespan,
    )
    return socketio.ASGIApp(sio, other_asgi_app=http)
