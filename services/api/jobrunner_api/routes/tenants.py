"""Tenants: created by the platform admin, each with its own admin user."""

from fastapi import APIRouter, HTTPException, status

from jobrunner_api.deps import PlatformAdminDep
from jobrunner_api.responses import NoEchoRoute, errors
from jobrunner_api.documents import Tenant, User
from jobrunner_api.schemas import TenantIn, TenantOut
from jobrunner_api.security import hash_password, password_problem

router = APIRouter(tags=["tenants"], route_class=NoEchoRoute)


@router.post("/tenants", status_code=status.HTTP_201_CREATED, responses=errors(403, 409))
async def create_tenant(body: TenantIn, _: PlatformAdminDep) -> TenantOut:
    if await Tenant.find_one(Tenant.name == body.name):
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"tenant {body.name!r} exists")
    if await User.find_one(User.username == body.admin_username):
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail=f"username {body.admin_username!r} is taken"
        )
    if problem := password_problem(body.admin_password, body.admin_username):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=problem)
    tenant = await Tenant(name=body.name).insert()
    await User(
        username=body.admin_username,
        password_hash=hash_password(body.admin_password),
        tenant_id=str(tenant.id),
        role="admin",
    ).insert()
    return TenantOut.of(tenant)


@router.get("/tenants", responses=errors(403))
async def list_tenants(_: PlatformAdminDep) -> list[TenantOut]:
    """Every tenant, by name (platform admin only)."""
    return [TenantOut.of(t) async for t in Tenant.find_all().sort(+Tenant.name)]
