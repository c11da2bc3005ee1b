"""The error answers a route may give, declared in its OpenAPI operation (SPEC §3: `{detail}`),
and a route class whose validation errors never quote what was sent."""

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel

REASONS = {
    400: "The request cannot be read",
    401: "Missing, invalid or expired token",
    403: "Your role may not do this",
    404: "Not found (or another tenant's)",
    409: "Conflicts with the object's state",
    422: "The request is not valid",
    429: "Too many requests: try again after Retry-After seconds",
    503: "The database is unavailable: try again after Retry-After seconds",
}


class ErrorOut(BaseModel):
    # A string, except FastAPI's own 422 which lists the fields at fault.
    detail: str | list[dict[str, Any]]


TEXT = {"text/plain": {"schema": {"type": "string"}}}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each code with its reason and the `{detail}` body."""
    return {code: {"model": ErrorOut, "description": REASONS[code]} for code in codes}


class NoEchoRoute(APIRoute):
    """A 422 of these routes never quotes what was sent: it may be a secret's value
    or a password.

    Why: FastAPI's validation errors carry each offending `input`, answered to the caller and
    kept by whatever logs responses on the way.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                scrubbed = [{k: v for k, v in e.items() if k != "input"} for e in exc.errors()]
                raise RequestValidationError(scrubbed) from None

        return route
