"""Passwords, access tokens and API keys. Only hashes of passwords and keys are stored."""

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

import jwt
from pwdlib import PasswordHash

from jobrunner_shared.messages import utcnow

_passwords = PasswordHash.recommended()
ALGORITHM = "HS256"
KEY_PREFIXES = {"worker": "jrw_", "submit": "jrs_"}


def hash_password(password: str) -> str:
    return _passwords.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    return _passwords.verify(password, password_hash)


@dataclass(frozen=True)
class TokenClaims:
    user_id: str
    tenant_id: str
    platform_admin: bool


def create_access_token(claims: TokenClaims, secret: str, minutes: int) -> str:
    payload = {
        "sub": claims.user_id,
        "tenant": claims.tenant_id,
        "padm": claims.platform_admin,
        "exp": utcnow() + timedelta(minutes=minutes),
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def decode_access_token(token: str, secret: str) -> TokenClaims | None:
    try:
        payload = jwt.decode(token, secret, algorithms=[ALGORITHM])
        return TokenClaims(payload["sub"], payload["tenant"], bool(payload.get("padm")))
    except (jwt.PyJWTError, KeyError):
        return None


def new_api_key(kind: Literal["worker", "submit"]) -> tuple[str, str]:
    """A fresh key and the prefix shown in listings."""
    key = KEY_PREFIXES[kind] + secrets.token_urlsafe(32)
    return key, key[:12]
