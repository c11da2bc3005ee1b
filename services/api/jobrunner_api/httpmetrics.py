"""REST request metrics: `http_requests_total` and `http_request_duration_seconds`, by route
template (never an id), method and status class.

Why our own middleware and not prometheus-fastapi-instrumentator (which made these before): it
matched every request against every route a second time to find its template, a quarter of
the CPU of a `POST /jobs` in the API's own stack (cProfile). FastAPI has matched the route
already and leaves it in the scope; this reads it there.
"""

import re
import time
from collections.abc import Iterable

from fastapi import APIRouter
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter(
    "http_requests_total", "REST requests by route template, method and status class (2xx...).",
    ["handler", "method", "status"],
)
DURATION = Histogram(
    "http_request_duration_seconds", "REST requests' latency by route template and method.",
    ["handler", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
# Left out: the metrics scrape and health probes, and the streams (each lasts as long as its
# client stays; its duration says nothing about the API).
EXCLUDED = re.compile(r"^/(metrics|healthz|readyz)$|/stream$|/events$")
# A request that matched no route (a 404, a wrong method): one label for all of them, so that
# a scanner's paths cannot each make a new series.
UNMATCHED = "none"


class HttpMetrics:
    """ASGI middleware. `routers`: those included under `prefix`. FastAPI leaves the matched
    route in the scope without its router's prefix; any other route's path is its template."""

    def __init__(self, app: ASGIApp, prefix: str, routers: Iterable[APIRouter]) -> None:
        self.app = app
        # By id: the routes live as long as the app (and ours compare by value, without a hash).
        self.templates = {id(route): prefix + route.path  # type: ignore[attr-defined]
                          for router in routers for route in router.routes}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets when the app raises before answering

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            route = scope.get("route")
            handler = (UNMATCHED if route is None
                       else self.templates.get(id(route)) or getattr(route, "path", UNMATCHED))
            if not EXCLUDED.search(handler):
                method = scope["method"]
                REQUESTS.labels(handler, method, f"{status // 100}xx").inc()
                DURATION.labels(handler, method).observe(time.perf_counter() - started)
