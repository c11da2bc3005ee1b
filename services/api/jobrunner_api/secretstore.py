"""Tenants' secrets in MongoDB: stored as ciphertext, looked up by `_id` = "<tenant>:<name>".

The API encrypts a value once, when it is set, and never decrypts it: a job's attempt carries
the ciphertexts to the master (JobAssignment.secrets), which decrypts them just before
`job:assign`. No value is ever logged.
"""

from datetime import datetime

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from jobrunner_api.documents import Secret
from jobrunner_shared.messages import utcnow
from jobrunner_shared.secretbox import SecretBox


async def put(box: SecretBox, tenant_id: str, name: str, value: str) -> tuple[Secret, bool]:
    """Create or replace a secret; returns (secret, created)."""
    key = Secret.key(tenant_id, name)
    ciphertext = box.encrypt(value)
    replaced = await _replace(key, ciphertext)
    if replaced is not None:
        return replaced, False
    now = _now()
    try:
        secret = await Secret(id=key, tenant_id=tenant_id, name=name, ciphertext=ciphertext,
                              created_at=now, updated_at=now).insert()
    except DuplicateKeyError:
        # Created by a concurrent request since: this one replaces it, as if it came second.
        replaced = await _replace(key, ciphertext)
        if replaced is None:  # and deleted again in between: create it after all
            return await put(box, tenant_id, name, value)
        return replaced, False
    return secret, True


def _now() -> datetime:
    """Now, to the millisecond MongoDB keeps: a 201 shows the dates a later read shows."""
    now = utcnow()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


async def _replace(key: str, ciphertext: str) -> Secret | None:
    """Replace the ciphertext of an existing secret; None when there is none."""
    doc = await Secret.get_pymongo_collection().find_one_and_update(
        {"_id": key},
        {"$set": {"ciphertext": ciphertext, "updated_at": _now()}},
        return_document=ReturnDocument.AFTER,
    )
    return None if doc is None else Secret.model_validate(doc)


async def sealed(tenant_id: str, names: list[str]) -> tuple[dict[str, str], list[str]]:
    """The ciphertext of each named secret, and the names that do not exist (in order)."""
    if not names:
        return {}, []
    keys = [Secret.key(tenant_id, name) for name in names]
    cursor = Secret.get_pymongo_collection().find({"_id": {"$in": keys}}, {"ciphertext": 1})
    stored = {doc["_id"]: doc["ciphertext"] async for doc in cursor}
    found = {name: stored[key] for name, key in zip(names, keys, strict=True) if key in stored}
    return found, [name for name in names if name not in found]

