"""FastAPI dependencies as Annotated aliases.

All `async def`: FastAPI runs a plain `def` dependency in a thread pool, a hop that cost more
than the dependency itself on every request.
"""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer

from jobrunner_api.platform import Platform
from jobrunner_api.security import TokenClaims, decode_access_token

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_platform(request: Request) -> Platform:
    return request.app.state.platform


PlatformDep = Annotated[Platform, Depends(get_platform)]


@dataclass(frozen=True)
class Caller:
    user_id: str
    tenant_id: str
    platform_admin: bool


async def get_caller(platform: PlatformDep, token: Annotated[str | None, Depends(oauth2)]) -> Caller:
    claims: TokenClaims | None = (
        decode_access_token(token, platform.settings.secret_key) if token else None
    )
    if claims is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="missing, invalid or expired token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return Caller(claims.user_id, claims.tenant_id, claims.platform_admin)


CallerDep = Annotated[Caller, Depends(get_caller)]


async def get_platform_admin(caller: CallerDep) -> Caller:
    if not caller.platform_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="platform admin only")
    return caller


PlatformAdminDep = Annotated[Caller, Depends(get_platform_admin)]
