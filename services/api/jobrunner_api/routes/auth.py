"""Log in (SPEC §3: OAuth2 password form) and who am I."""

from typing import Annotated

from beanie import PydanticObjectId
from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import OAuth2PasswordRequestForm

from jobrunner_api.deps import CallerDep, PlatformDep
from jobrunner_api.documents import Tenant, User
from jobrunner_api.schemas import MeOut, TenantOut, TokenOut
from jobrunner_api.security import TokenClaims, create_access_token, verify_password

router = APIRouter(tags=["auth"])


@router.post("/auth/token")
async def login(
    platform: PlatformDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> TokenOut:
    user = await User.find_one(User.username == form.username)
    if user is None or not verify_password(form.password, user.password_hash):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="wrong username or password")
    claims = TokenClaims(str(user.id), user.tenant_id, user.is_platform_admin)
    settings = platform.settings
    return TokenOut(
        access_token=create_access_token(
            claims, settings.secret_key, settings.access_token_minutes
        )
    )


@router.get("/me")
async def me(caller: CallerDep) -> MeOut:
    user = await User.get(PydanticObjectId(caller.user_id))
    tenant = await Tenant.get(PydanticObjectId(caller.tenant_id))
    if user is None or tenant is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="user no longer exists")
    return MeOut(
        username=user.username, platform_admin=user.is_platform_admin, tenant=TenantOut.of(tenant)
    )
