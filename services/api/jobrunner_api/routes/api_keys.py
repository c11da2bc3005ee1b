"""API keys for workers and AMQP submitters; only a hash is stored."""

from beanie import PydanticObjectId
from fastapi import APIRouter, HTTPException, status

from jobrunner_api import audit
from jobrunner_api.deps import AdminDep, CallerDep, PlatformDep
from jobrunner_api.responses import errors
from jobrunner_api.documents import ApiKey
from jobrunner_api.schemas import ApiKeyCreated, ApiKeyIn, ApiKeyOut
from jobrunner_api.security import new_api_key
from jobrunner_shared import amqp, names
from jobrunner_shared.apikeys import hash_api_key
from jobrunner_shared.messages import ApiKeyRevoked, utcnow

router = APIRouter(tags=["api-keys"])


@router.post("/api-keys", status_code=status.HTTP_201_CREATED, responses=errors(403))
async def create_key(body: ApiKeyIn, caller: AdminDep) -> ApiKeyCreated:
    key, prefix = new_api_key(body.kind)
    doc = await ApiKey(
        tenant_id=caller.tenant_id, name=body.name, kind=body.kind, prefix=prefix,
        key_hash=hash_api_key(key), expires_at=body.expires_at,
    ).insert()
    await audit.record(caller, audit.Action.api_key_create, f"{doc.name} ({doc.kind}, {doc.prefix}…)")
    return ApiKeyCreated(**ApiKeyOut.of(doc).model_dump(), key=key)


@router.get("/api-keys")
async def list_keys(caller: CallerDep) -> list[ApiKeyOut]:
    keys = ApiKey.find(ApiKey.tenant_id == caller.tenant_id, ApiKey.revoked_at == None)  # noqa: E711
    return [ApiKeyOut.of(k) async for k in keys.sort(-ApiKey.created_at)]


@router.delete("/api-keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=errors(403, 404))
async def revoke_key(key_id: str, caller: AdminDep, platform: PlatformDep) -> None:
    key = await ApiKey.get(key_id) if PydanticObjectId.is_valid(key_id) else None
    if key is None or key.tenant_id != caller.tenant_id or key.revoked_at is not None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="API key not found")
    await key.set({ApiKey.revoked_at: utcnow()})
    # Why: masters cut live sessions using this key now, not at their next check.
    await amqp.publish_control(
        platform.broker,
        ApiKeyRevoked(tenant_id=caller.tenant_id, key_id=key_id),
        names.CONTROL_KEY_REVOKED_KEY,
    )
    await audit.record(caller, audit.Action.api_key_revoke, f"{key.name} ({key.kind}, {key.prefix}…)")
