"""FastAPI dependencies as Annotated aliases.

All `async def`: FastAPI runs a plain `def` dependency in a thread pool, a hop that cost more
than the dependency itself on every request.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer

from jobrunner_api.accounts import ROLE_RANK
from jobrunner_api.documents import Role
from jobrunner_api.platform import Platform
from jobrunner_api.security import decode_access_token

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_platform(request: Request) -> Platform:
    return request.app.state.platform


PlatformDep = Annotated[Platform, Depends(get_platform)]


@dataclass(frozen=True)
class Caller:
    user_id: str
    tenant_id: str
    username: str
    role: Role
    platform_admin: bool
    address: str | None  # the client's address, for the audit log

    def may(self, role: Role) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


def unauthorized(detail: str = "missing, invalid or expired token") -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail,
                         headers={"WWW-Authenticate": "Bearer"})


async def get_caller(
    request: Request, platform: PlatformDep, token: Annotated[str | None, Depends(oauth2)]
) -> Caller:
    return await caller_of(platform, token, request)


async def caller_of(platform: Platform, token: str | None, request: Request) -> Caller:
    """Who presents `token`; raises 401 when nobody valid does."""
    claims = decode_access_token(token, platform.settings.secret_key) if token else None
    if claims is None:
        raise unauthorized()
    account = await platform.accounts.get(claims.user_id)
    if account is None or account.tenant_id != claims.tenant_id:
        raise unauthorized("the user no longer exists")
    if account.token_generation != claims.generation:
        raise unauthorized("the token was issued before a password change; log in again")
    return Caller(account.user_id, account.tenant_id, account.username, account.role,
                  account.platform_admin, client_address(request))


def client_address(request: Request) -> str | None:
    """The client's address (behind a proxy, as uvicorn's FORWARDED_ALLOW_IPS lets it say)."""
    return request.client.host if request.client else None


CallerDep = Annotated[Caller, Depends(get_caller)]
"""Any user of the tenant, a viewer included: for what only reads."""


def require(role: Role) -> Callable[[Caller], Awaitable[Caller]]:
    """A dependency that lets through callers with `role` or one above it, others get 403."""

    async def check(caller: CallerDep) -> Caller:
        return allowed(caller, role)

    return check


def allowed(caller: Caller, role: Role) -> Caller:
    """The caller, if it has `role` or one above it; raises 403 otherwise."""
    if not caller.may(role):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            detail=f"your role ({caller.role}) may not do this; "
                            f"it needs {role} or above")
    return caller


MemberDep = Annotated[Caller, Depends(require("member"))]
"""A member or admin: submits, cancels and reruns jobs."""
AdminDep = Annotated[Caller, Depends(require("admin"))]
"""A tenant admin: keys, secrets, schedules, users, workers, the audit log."""


async def get_platform_admin(caller: CallerDep) -> Caller:
    if not caller.platform_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="platform admin only")
    return caller


PlatformAdminDep = Annotated[Caller, Depends(get_platform_admin)]
