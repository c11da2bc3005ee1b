"""The API application: FastAPI routes plus FastStream consumers on one RabbitMQ broker.

The broker runs beside the FastAPI app (started in its lifespan), not through FastStream's
FastAPI integration: that one wraps every consumed message in FastAPI's request machinery,
which cost more CPU than the handlers themselves (make bench, py-spy). Consumers take their
dependencies from the Platform object instead.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, status
from fastapi.responses import HTMLResponse, JSONResponse
from faststream.specification import AsyncAPI
from faststream.specification.asyncapi.site import get_asyncapi_html
from pymongo.errors import PyMongoError

from jobrunner_api import bootstrap, db, migrations
from jobrunner_api.consumers import build_routers
from jobrunner_api.feed import Hub
from jobrunner_api.httpmetrics import HttpMetrics
from jobrunner_api.jobstore import InvalidSubmission
from jobrunner_api.platform import Platform
from jobrunner_api.responses import errors
from jobrunner_api.routes import api_keys, auth, events, health, jobs, logs, secrets, tenants
from jobrunner_api.routes import audit, schedules, stats, users, workers
from jobrunner_api.settings import Settings, get_settings
from jobrunner_api.sweeper import Sweeper
from jobrunner_shared import amqp, dberrors, gctuning
from jobrunner_shared import logging as log_setup
from jobrunner_shared.secretbox import SecretBox

log = logging.getLogger(__name__)
API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    hub = Hub()
    broker = amqp.broker(
        settings.rabbitmq_url,
        middlewares=[amqp.ConsumeErrorPolicy],
        default_channel=amqp.channel(settings.consumer_prefetch),
        logger=log_setup.broker_logger(),
        # Why: "Received"/"Processed" for every message (heartbeats, log batches) drowns the
        # logs at INFO; failures are still logged as errors.
        log_level=logging.DEBUG,
        # Why: changes published while the connection was down never reached this process's
        # live-feed queue; its streams are ended, and their clients reconnect and catch up.
        on_reconnected=[hub.reset],
    )
    platform = Platform(settings=settings, broker=broker, hub=hub,
                        secretbox=SecretBox(settings.encryption_key))
    for router in build_routers(platform):
        broker.include_router(router)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = await db.connect(settings.mongodb_url, settings.mongodb_db)
        await bootstrap.ensure_admin(settings)
        await migrations.retire_collections(client[settings.mongodb_db])
        await broker.connect()
        await amqp.declare_topology(broker)
        await migrations.retire_queues(broker, settings.rabbitmq_url)
        await broker.start()
        app.state.platform = platform
        gctuning.settle_after_startup()  # per request and message: many short-lived objects
        sweeper = asyncio.create_task(Sweeper(platform).run(), name="sweeper")
        try:
            yield
        finally:
            sweeper.cancel()
            await platform.jobs.close()
            await platform.feed.close()
            await broker.stop()
            await client.close()

    app = FastAPI(
        title="jobrunner",
        version=health.VERSION,
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url=f"{API_PREFIX}/openapi.json",
    )
    # Jobs first: a request is matched against the routes in this order, and POST /jobs is
    # the commonest (35 us of its ~0.2 ms in FastAPI went to trying the others first).
    modules = (jobs, auth, tenants, users, api_keys, secrets, logs, workers, events, stats,
               audit, schedules)
    for module in modules:
        # What any route may answer: no or a bad token, a request that is not valid, MongoDB
        # away. What only some routes answer (403, 404, 409, 429) each declares itself.
        app.include_router(module.router, prefix=API_PREFIX, responses=errors(401, 422, 503))
    app.include_router(health.router)
    # Requests by route template, method and status class, and their latency (served by our
    # own /metrics).
    app.add_middleware(HttpMetrics, prefix=API_PREFIX,
                       routers=[module.router for module in modules])

    @app.exception_handler(InvalidSubmission)
    async def invalid_submission(_: Request, exc: InvalidSubmission) -> JSONResponse:
        return JSONResponse({"detail": exc.reason},
                            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)

    @app.exception_handler(PyMongoError)
    async def database_unavailable(_: Request, exc: PyMongoError) -> JSONResponse:
        if not dberrors.is_transient(exc):
            log.exception("database error", exc_info=exc)
            return JSONResponse({"detail": "internal error"}, status_code=500)
        log.warning("MongoDB unavailable: %s", exc)
        return JSONResponse(
            {"detail": "database unavailable, try again shortly"},
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "2"},
        )

    asyncapi = AsyncAPI(broker, title="jobrunner topics", version=health.VERSION)

    @app.get("/asyncapi", include_in_schema=False)
    async def asyncapi_page() -> HTMLResponse:
        return HTMLResponse(get_asyncapi_html(asyncapi.to_specification(), try_it_out_path=None))

    @app.get("/asyncapi.json", include_in_schema=False)
    async def asyncapi_json() -> JSONResponse:
        return JSONResponse(asyncapi.to_specification().to_jsonable())

    return app
