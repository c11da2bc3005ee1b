"""Liveness, readiness with real dependency checks, and Prometheus metrics."""

from importlib.metadata import version
from typing import Literal

from fastapi import APIRouter, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from jobrunner_api import metrics as api_metrics
from jobrunner_api.deps import PlatformDep
from jobrunner_api.documents import Tenant
from jobrunner_api.responses import TEXT

router = APIRouter(tags=["health"])
# The platform's version (the VERSION file, through the package's metadata): the same for
# every jobrunner package.
VERSION = version("jobrunner-api")


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok", "version": VERSION}


class ReadyOut(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str]


@router.get("/readyz", response_model=ReadyOut, responses={
    503: {"model": ReadyOut, "description": "MongoDB or RabbitMQ does not answer"}})
async def readyz(platform: PlatformDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        await Tenant.get_pymongo_collection().database.command("ping")
        checks["mongodb"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        checks["mongodb"] = f"error: {exc}"[:200]
    try:
        ok = await platform.broker.ping(timeout=2.0)
        checks["rabbitmq"] = "ok" if ok else "error: no answer"
    except Exception as exc:  # noqa: BLE001
        checks["rabbitmq"] = f"error: {exc}"[:200]
    ready = all(v == "ok" for v in checks.values())
    code = status.HTTP_200_OK if ready else status.HTTP_503_SERVICE_UNAVAILABLE
    return JSONResponse({"status": "ok" if ready else "unavailable", "checks": checks}, code)


@router.get("/metrics", response_class=Response,
            responses={200: {"description": "Prometheus' text format", "content": TEXT}})
async def metrics(platform: PlatformDep) -> Response:
    await api_metrics.JOB_COUNTS(platform.settings.metrics_cache_seconds)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
