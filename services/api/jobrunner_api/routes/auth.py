"""Log in (SPEC §3: OAuth2 password form), change one's password, and who am I."""

from typing import Annotated

from beanie import PydanticObjectId
from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from pymongo import ReturnDocument

from jobrunner_api import audit
from jobrunner_api.deps import CallerDep, PlatformDep, client_address
from jobrunner_api.documents import Tenant, User
from jobrunner_api.login_throttle import Limit
from jobrunner_api.responses import NoEchoRoute, errors
from jobrunner_api.schemas import MeOut, PasswordChange, TenantOut, TokenOut
from jobrunner_api.security import (
    TokenClaims, create_access_token, hash_password, password_problem, verify_password,
)

router = APIRouter(tags=["auth"], route_class=NoEchoRoute)


@router.post("/auth/token", responses=errors(429))
async def login(
    request: Request, platform: PlatformDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> TokenOut:
    settings = platform.settings
    address = client_address(request)
    by_user = Limit(f"user:{form.username}", settings.login_max_failures)
    limits = [by_user]
    if address:
        limits.append(Limit(f"addr:{address}", settings.login_max_failures_per_address))
    wait = await platform.login_throttle.retry_after(limits)
    if wait is not None:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS,
                            detail=f"too many failed logins; try again in {wait} s",
                            headers={"Retry-After": str(wait)})
    user = await User.find_one(User.username == form.username)
    if user is None or not verify_password(form.password, user.password_hash):
        await platform.login_throttle.failed(limits)
        if user is not None:
            await audit.record_login(user.tenant_id, user.username, address, succeeded=False)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="wrong username or password")
    await platform.login_throttle.succeeded(by_user)
    await audit.record_login(user.tenant_id, user.username, address, succeeded=True)
    claims = TokenClaims(str(user.id), user.tenant_id, user.token_generation)
    return TokenOut(
        access_token=create_access_token(
            claims, settings.secret_key, settings.access_token_minutes
        )
    )


@router.post("/auth/password", responses=errors(403))
async def change_password(
    body: PasswordChange, caller: CallerDep, platform: PlatformDep
) -> TokenOut:
    """Change your own password. Tokens issued before it are refused from then on; the answer
    is a new one."""
    user = await User.get(PydanticObjectId(caller.user_id))
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="the user no longer exists")
    if not verify_password(body.current_password, user.password_hash):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="the current password is wrong")
    if problem := password_problem(body.new_password, user.username):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=problem)
    # $inc: of two changes at once, each ends the tokens of the other.
    changed = await User.get_pymongo_collection().find_one_and_update(
        {"_id": user.id}, {"$set": {"password_hash": hash_password(body.new_password)},
                           "$inc": {"token_generation": 1}},
        return_document=ReturnDocument.AFTER)
    platform.accounts.forget(caller.user_id)
    await audit.record(caller, audit.Action.password_change, caller.username)
    settings = platform.settings
    claims = TokenClaims(caller.user_id, caller.tenant_id, changed["token_generation"])
    return TokenOut(access_token=create_access_token(
        claims, settings.secret_key, settings.access_token_minutes))


@router.get("/me")
async def me(caller: CallerDep) -> MeOut:
    tenant = await Tenant.get(PydanticObjectId(caller.tenant_id))
    if tenant is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="the tenant no longer exists")
    return MeOut(username=caller.username, role=caller.role,
                 platform_admin=caller.platform_admin, tenant=TenantOut.of(tenant))
