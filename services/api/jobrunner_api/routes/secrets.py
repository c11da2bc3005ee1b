"""Tenants' secrets (SPEC §3, §6.7): set, list (names and dates), delete. Values never leave."""

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from jobrunner_api import secretstore
from jobrunner_api.deps import CallerDep, PlatformDep
from jobrunner_api.documents import Secret
from jobrunner_api.schemas import SecretIn, SecretOut
from jobrunner_shared.messages import ENV_NAME_RE

MAX_NAME_CHARS = 128


class NoEchoRoute(APIRoute):
    """A 422 of these routes never quotes what was sent: it may be a secret's value.

    Why: FastAPI's validation errors carry each offending `input`, answered to the caller and
    kept by whatever logs responses on the way.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                errors = [{k: v for k, v in e.items() if k != "input"} for e in exc.errors()]
                raise RequestValidationError(errors) from None

        return route


router = APIRouter(tags=["secrets"], route_class=NoEchoRoute)


def _check_name(name: str) -> None:
    if len(name) > MAX_NAME_CHARS or not ENV_NAME_RE.match(name):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=f"secret name {name[:MAX_NAME_CHARS]!r} is not valid: it becomes an environment "
            f"variable, so letters, digits and _, not starting with a digit, at most "
            f"{MAX_NAME_CHARS} characters",
        )


@router.put(
    "/secrets/{name}",
    responses={
        201: {"model": SecretOut, "description": "Created"},
        200: {"model": SecretOut,
              "description": "Replaced: attempts queued from now on get the new value"},
    },
    status_code=status.HTTP_201_CREATED,
)
async def put_secret(name: str, body: SecretIn, caller: CallerDep, platform: PlatformDep,
                     response: Response) -> SecretOut:
    """Create or replace a secret of the caller's tenant. The value is stored encrypted."""
    _check_name(name)
    secret, created = await secretstore.put(platform.secretbox, caller.tenant_id, name,
                                            body.value)
    if not created:
        response.status_code = status.HTTP_200_OK
    return SecretOut.of(secret)


@router.get("/secrets")
async def list_secrets(caller: CallerDep) -> list[SecretOut]:
    """The tenant's secrets by name: names and dates, never values."""
    found = Secret.find(Secret.tenant_id == caller.tenant_id).sort(+Secret.name)
    return [SecretOut.of(s) async for s in found]


@router.delete("/secrets/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_secret(name: str, caller: CallerDep) -> None:
    """Delete a secret. An attempt queued after this, of a job that names it, does not run:
    the job fails with `secret_missing: <name>`."""
    secret = await Secret.get(Secret.key(caller.tenant_id, name))
    if secret is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"secret {name} not found")
    await secret.delete()
