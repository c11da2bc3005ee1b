"""How API keys are hashed: the API stores the hash, the master looks keys up by it."""

import hashlib


def hash_api_key(key: str) -> str:
    # Keys carry 256 random bits, so a fast hash is enough (there is no dictionary to attack).
    return hashlib.sha256(key.encode()).hexdigest()
