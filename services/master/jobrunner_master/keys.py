"""Worker API keys: the master only ever sees their hashes in MongoDB."""

from dataclasses import dataclass

from pymongo.asynchronous.database import AsyncDatabase

from jobrunner_shared import names
from jobrunner_shared.apikeys import hash_api_key


@dataclass(frozen=True)
class KeyOwner:
    key_id: str
    tenant_id: str


async def worker_key_owner(db: AsyncDatabase, key: str) -> KeyOwner | None:
    """The tenant of a live worker key, or None for an unknown, revoked or submit-only key."""
    doc = await db[names.API_KEYS_COLLECTION].find_one(
        {"key_hash": hash_api_key(key)}, {"tenant_id": 1, "kind": 1, "revoked_at": 1}
    )
    if doc is None or doc.get("revoked_at") is not None or doc.get("kind") != "worker":
        return None
    return KeyOwner(key_id=str(doc["_id"]), tenant_id=doc["tenant_id"])
