"""Authentication of worker sessions: the `auth` payload and the worker API key it carries.

The master only ever sees keys' hashes in MongoDB. A refusal raises Socket.IO's
ConnectionRefusedError, which the worker receives as `connect_error` with the reason.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import socketio
from pydantic import ValidationError
from pymongo.asynchronous.database import AsyncDatabase

from jobrunner_shared import names
from jobrunner_shared.apikeys import hash_api_key
from jobrunner_shared.messages import WorkerAuth, utcnow


@dataclass(frozen=True)
class KeyOwner:
    key_id: str
    tenant_id: str
    expires_at: datetime | None = None  # the session is cut then (sessions.py)


async def worker_key_owner(db: AsyncDatabase, key: str) -> KeyOwner | None:
    """The tenant of a live worker key, or None for an unknown, revoked, expired or submit-only
    key."""
    doc = await db[names.API_KEYS_COLLECTION].find_one(
        {"key_hash": hash_api_key(key)},
        {"tenant_id": 1, "kind": 1, "revoked_at": 1, "expires_at": 1},
    )
    if doc is None or doc.get("revoked_at") is not None or doc.get("kind") != "worker":
        return None
    expires_at = doc.get("expires_at")
    if expires_at is not None and expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)  # stored in UTC; a client not tz_aware
    if expires_at is not None and expires_at <= utcnow():
        return None
    return KeyOwner(key_id=str(doc["_id"]), tenant_id=doc["tenant_id"], expires_at=expires_at)


async def authenticate(db: AsyncDatabase, payload: Any) -> tuple[WorkerAuth, KeyOwner]:
    """The worker's announced identity and its key's owner; refuses the connection otherwise."""
    try:
        worker_auth = WorkerAuth.model_validate(payload or {})
    except ValidationError as exc:
        raise socketio.exceptions.ConnectionRefusedError(f"invalid auth: {exc}") from exc
    owner = await worker_key_owner(db, worker_auth.api_key)
    if owner is None:
        raise socketio.exceptions.ConnectionRefusedError("invalid, revoked or expired API key")
    return worker_auth, owner
