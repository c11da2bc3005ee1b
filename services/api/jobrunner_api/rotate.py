"""`python -m jobrunner_api.rotate`: re-encrypt every stored secret with ENCRYPTION_KEY's first key.

Rotating ENCRYPTION_KEY (docs/operations.md): put the new key first, `ENCRYPTION_KEY=new,old`,
on the API and every master; run this once; drop the old key once the attempts queued before
are dispatched. Reads the same settings as the API (MONGODB_URL, MONGODB_DB, ENCRYPTION_KEY).
Prints counts and the ids of secrets no key opens, never a value; exit status 1 if any.
"""

import asyncio
import sys

from jobrunner_api import db
from jobrunner_api.documents import Secret
from jobrunner_api.settings import get_settings
from jobrunner_shared.secretbox import SecretBox, SecretBoxError


async def rotate_all(box: SecretBox) -> tuple[int, list[str]]:
    """Re-encrypt each secret; returns (how many were rewritten, ids none of the keys opens)."""
    collection = Secret.get_pymongo_collection()
    rotated, unreadable = 0, []
    async for doc in collection.find({}, {"ciphertext": 1}):
        try:
            ciphertext = box.rotate(doc["ciphertext"])
        except SecretBoxError:
            unreadable.append(doc["_id"])
            continue
        # Only if unchanged since it was read: one set meanwhile is under the new key already.
        result = await collection.update_one(
            {"_id": doc["_id"], "ciphertext": doc["ciphertext"]},
            {"$set": {"ciphertext": ciphertext}},
        )
        rotated += result.modified_count
    return rotated, unreadable


async def run() -> int:
    settings = get_settings()
    box = SecretBox(settings.encryption_key)
    client = await db.connect(settings.mongodb_url, settings.mongodb_db)
    try:
        rotated, unreadable = await rotate_all(box)
    finally:
        await client.close()
    print(f"re-encrypted {rotated} secrets with the first of {box.key_count} keys of "
          "ENCRYPTION_KEY")
    if unreadable:
        print(f"{len(unreadable)} secrets no key of ENCRYPTION_KEY opens (left as they are): "
              f"{', '.join(unreadable)}", file=sys.stderr)
        return 1
    return 0


def main() -> None:
    sys.exit(asyncio.run(run()))


if __name__ == "__main__":
    main()
