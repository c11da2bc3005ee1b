"""The tenant's audit log (SPEC §3), newest first, for its admins."""

from typing import Annotated

from beanie import PydanticObjectId
from fastapi import APIRouter, HTTPException, Query, status

from jobrunner_api.audit import Action
from jobrunner_api.deps import AdminDep
from jobrunner_api.documents import AuditEntry
from jobrunner_api.responses import errors
from jobrunner_api.schemas import AuditOut, AuditPage

router = APIRouter(tags=["audit"])


@router.get("/audit", responses=errors(403))
async def list_audit(
    caller: AdminDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
    action: Annotated[Action | None, Query(description="Only this action.")] = None,
    actor: Annotated[str | None, Query(max_length=100, description="Only this user's.")] = None,
) -> AuditPage:
    query: dict = {"tenant_id": caller.tenant_id}
    if action is not None:
        query["action"] = action.value
    if actor:
        query["actor"] = actor
    if cursor:
        if not PydanticObjectId.is_valid(cursor):
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail="invalid cursor")
        query["_id"] = {"$lt": PydanticObjectId(cursor)}
    # Indexes (tenant_id, _id), (tenant_id, action, _id), (tenant_id, actor, _id).
    entries = await AuditEntry.find(query).sort(-AuditEntry.id).limit(limit + 1).to_list()
    next_cursor = str(entries[limit - 1].id) if len(entries) > limit else None
    return AuditPage(items=[AuditOut.of(e) for e in entries[:limit]], next_cursor=next_cursor)
