"""httpmetrics.HttpMetrics without servers: each request counted once by route template (the
router's prefix included, never an id), method and status class; streams and probes left out."""

import httpx
from fastapi import APIRouter, FastAPI, HTTPException
from prometheus_client import REGISTRY

from jobrunner_api.httpmetrics import HttpMetrics


def app_under_test() -> FastAPI:
    router = APIRouter()

    @router.get("/things/{thing_id}")
    async def thing(thing_id: str) -> dict:
        if thing_id == "missing":
            raise HTTPException(404, "no such thing")
        if thing_id == "broken":
            raise RuntimeError("a bug")
        return {"id": thing_id}

    @router.get("/things/{thing_id}/events")
    async def events(thing_id: str) -> dict:
        return {}

    app = FastAPI()
    app.include_router(router, prefix="/api/v9")

    @app.get("/healthz")
    async def healthz() -> dict:
        return {}

    app.add_middleware(HttpMetrics, prefix="/api/v9", routers=[router])
    return app


def requests(handler: str, method: str, status: str) -> float:
    return REGISTRY.get_sample_value(
        "http_requests_total", {"handler": handler, "method": method, "status": status}) or 0.0


def latencies(handler: str, method: str) -> float:
    return REGISTRY.get_sample_value(
        "http_request_duration_seconds_count", {"handler": handler, "method": method}) or 0.0


async def test_requests_are_counted_by_template_method_and_status_class() -> None:
    before = {
        "ok": requests("/api/v9/things/{thing_id}", "GET", "2xx"),
        "missing": requests("/api/v9/things/{thing_id}", "GET", "4xx"),
        "broken": requests("/api/v9/things/{thing_id}", "GET", "5xx"),
        "unmatched": requests("none", "GET", "4xx"),
        "latency": latencies("/api/v9/things/{thing_id}", "GET"),
    }
    transport = httpx.ASGITransport(app=app_under_test(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        # When requests of every outcome are made
        assert (await client.get("/api/v9/things/a1")).status_code == 200
        assert (await client.get("/api/v9/things/b2")).status_code == 200
        assert (await client.get("/api/v9/things/missing")).status_code == 404
        assert (await client.get("/api/v9/things/broken")).status_code == 500
        assert (await client.get("/api/v9/nowhere/c3")).status_code == 404
        assert (await client.get("/api/v9/things/a1/events")).status_code == 200
        assert (await client.get("/healthz")).status_code == 200
    # Then each is counted once under its template and status class
    assert requests("/api/v9/things/{thing_id}", "GET", "2xx") == before["ok"] + 2
    assert requests("/api/v9/things/{thing_id}", "GET", "4xx") == before["missing"] + 1
    assert requests("/api/v9/things/{thing_id}", "GET", "5xx") == before["broken"] + 1
    assert requests("none", "GET", "4xx") == before["unmatched"] + 1  # no path as a label
    assert latencies("/api/v9/things/{thing_id}", "GET") == before["latency"] + 4
    # And the streams and probes are not counted, nor any id
    assert requests("/api/v9/things/{thing_id}/events", "GET", "2xx") == 0
    assert requests("/healthz", "GET", "2xx") == 0
    labels = [sample.labels for metric in REGISTRY.collect() if metric.name == "http_requests"
              for sample in metric.samples]
    assert not any("a1" in label["handler"] or "c3" in label["handler"] for label in labels)
