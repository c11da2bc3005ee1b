"""Passwords, access tokens and API keys. Only hashes of passwords and keys are stored."""

import secrets
import time
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
    """Who a token is for. Role and the rest are read from the user at each request (cached
    briefly, accounts.py), so that a change of role or a deleted user takes effect at once."""

    user_id: str
    tenant_id: str
    # The user's token generation when it was issued: a password change starts a new one.
    generation: int = 0


def create_access_token(claims: TokenClaims, secret: str, minutes: int) -> str:
    payload = {
        "sub": claims.user_id,
        "tenant": claims.tenant_id,
        "gen": claims.generation,
        "exp": utcnow() + timedelta(minutes=minutes),
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


# Tokens verified lately: (secret, token) -> (claims, expiry as a POSIX time). Why: a client
# sends the same token with every request, and verifying it was 3 % of the API's CPU under load.
VERIFIED_TOKENS = 10_000
_verified: dict[tuple[str, str], tuple[TokenClaims, float]] = {}


def decode_access_token(token: str, secret: str) -> TokenClaims | None:
    """The token's claims, or None when it is not valid (signature, form, or expired)."""
    hit = _verified.get((secret, token))
    if hit is not None:
        claims, expires = hit
        return claims if time.time() < expires else None
    try:
        payload = jwt.decode(token, secret, algorithms=[ALGORITHM],
                             options={"require": ["exp"]})
        claims = TokenClaims(payload["sub"], payload["tenant"], int(payload.get("gen", 0)))
        expires = float(payload["exp"])
    except (jwt.PyJWTError, KeyError, TypeError, ValueError):
        return None
    if len(_verified) >= VERIFIED_TOKENS:  # bounded memory whatever tokens are presented
        _verified.clear()
    _verified[(secret, token)] = (claims, expires)
    return claims


PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 200


def password_problem(password: str, username: str) -> str | None:
    """Why a new password is refused (SPEC §3's policy), or None."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return f"the password must have at least {PASSWORD_MIN_LENGTH} characters"
    if len(password) > PASSWORD_MAX_LENGTH:
        return f"the password must have at most {PASSWORD_MAX_LENGTH} characters"
    if username.casefold() in password.casefold():
        return "the password must not contain the username"
    return None


def new_api_key(kind: Literal["worker", "submit"]) -> tuple[str, str]:
    """A fresh key and the prefix shown in listings."""
    key = KEY_PREFIXES[kind] + secrets.token_urlsafe(32)
    return key, key[:12]
