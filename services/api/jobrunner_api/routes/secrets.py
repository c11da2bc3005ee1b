"""Tenants' secrets (SPEC §3, §6.7): set, list (names and dates), delete. Values never leave."""

from fastapi import APIRouter, HTTPException, Response, status

from jobrunner_api import audit, secretstore
from jobrunner_api.deps import AdminDep, CallerDep, PlatformDep
from jobrunner_api.responses import NoEchoRoute, errors
from jobrunner_api.documents import Secret
from jobrunner_api.schemas import SecretIn, SecretOut
from jobrunner_shared.messages import ENV_NAME_RE

MAX_NAME_CHARS = 128


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
        **errors(403),
    },
    status_code=status.HTTP_201_CREATED,
)
async def put_secret(name: str, body: SecretIn, caller: AdminDep, platform: PlatformDep,
                     response: Response) -> SecretOut:
    """Create or replace a secret of the caller's tenant. The value is stored encrypted."""
    _check_name(name)
    secret, created = await secretstore.put(platform.secretbox, caller.tenant_id, name,
                                            body.value)
    if not created:
        response.status_code = status.HTTP_200_OK
    await audit.record(caller, audit.Action.secret_set, name)
    return SecretOut.of(secret)


@router.get("/secrets")
async def list_secrets(caller: CallerDep) -> list[SecretOut]:
    """The tenant's secrets by name: names and dates, never values."""
    found = Secret.find(Secret.tenant_id == caller.tenant_id).sort(+Secret.name)
    return [SecretOut.of(s) async for s in found]


@router.delete("/secrets/{name}", status_code=status.HTTP_204_NO_CONTENT,
               responses=errors(403, 404))
async def delete_secret(name: str, caller: AdminDep) -> None:
    """Delete a secret. An attempt queued after this, of a job that names it, does not run:
    the job fails with `secret_missing: <name>`."""
    secret = await Secret.get(Secret.key(caller.tenant_id, name))
    if secret is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"secret {name} not found")
    await secret.delete()
    await audit.record(caller, audit.Action.secret_delete, name)
