"""Tenants' secrets encrypted at rest (SPEC §6.7): Fernet with keys derived from ENCRYPTION_KEY.

ENCRYPTION_KEY holds one key or several, comma-separated. The first encrypts; every one of them
decrypts (MultiFernet), so a key is rotated by putting a new one first and dropping the old one
once nothing stored needs it (docs/operations.md). A key is any strong string: HKDF-SHA256
turns it into the 32 bytes Fernet needs.

For the API and the master only: `cryptography` comes with the `broker` extra, and the worker
never imports this module.
"""

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# What development mode fills in when ENCRYPTION_KEY is empty: the API and the master must
# agree on it, so it is defined once, here. Refused outside development.
DEV_KEY = "development-only-secret-change-me-0000"  # noqa: S105
MIN_KEY_CHARS = 32  # per key, outside development
WEAK_KEYS = frozenset({DEV_KEY, "changeme", "admin", "secret"})
# Fixed domain separation: the same ENCRYPTION_KEY used elsewhere yields other bytes here.
_SALT = b"jobrunner.secretbox"
_INFO = b"jobrunner tenant secrets v1"


class SecretBoxError(Exception):
    """A ciphertext that none of the keys opens: another ENCRYPTION_KEY, or altered data."""


def split_keys(setting: str) -> list[str]:
    """The keys of an ENCRYPTION_KEY setting, in order (blanks around commas ignored)."""
    return [key.strip() for key in setting.split(",") if key.strip()]


def production_problem(setting: str) -> str | None:
    """Why this ENCRYPTION_KEY must not be used outside development, or None when it is fine."""
    keys = split_keys(setting)
    if not keys:
        return "ENCRYPTION_KEY is missing"
    if any(key in WEAK_KEYS for key in keys):
        return "ENCRYPTION_KEY holds a default key"
    if any(len(key) < MIN_KEY_CHARS for key in keys):
        return f"each key in ENCRYPTION_KEY must be at least {MIN_KEY_CHARS} characters"
    return None


def checked_setting(setting: str, dev_mode: bool) -> str:
    """ENCRYPTION_KEY as the API and the master use it: the development key when empty in
    development; outside development, ValueError saying why a weak or missing one is refused."""
    if dev_mode:
        return setting or DEV_KEY
    problem = production_problem(setting)
    if problem:
        raise ValueError(
            f"refusing to start outside development: {problem}; set it (the same on the API and "
            "every master, e.g. `openssl rand -hex 32`), or ENVIRONMENT=development for a local "
            "setup"
        )
    return setting


def fernet_key(key: str) -> bytes:
    """The Fernet key (URL-safe base64 of 32 bytes) derived from one ENCRYPTION_KEY entry."""
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO).derive(
        key.encode()
    )
    return base64.urlsafe_b64encode(derived)


class SecretBox:
    """Encrypts with the first key of ENCRYPTION_KEY, decrypts with any of them."""

    def __init__(self, setting: str) -> None:
        keys = split_keys(setting)
        if not keys:
            raise ValueError("ENCRYPTION_KEY holds no key")
        self.key_count = len(keys)
        self._fernet = MultiFernet([Fernet(fernet_key(key)) for key in keys])

    def __repr__(self) -> str:  # never the keys
        return f"SecretBox(keys={self.key_count})"

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode()
        except (InvalidToken, UnicodeError) as exc:
            raise SecretBoxError(
                "cannot decrypt: no key of ENCRYPTION_KEY opens it (a different key, or "
                "altered data)"
            ) from exc

    def rotate(self, ciphertext: str) -> str:
        """The same value encrypted again with the first key (the old key may then go)."""
        try:
            return self._fernet.rotate(ciphertext.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError) as exc:
            raise SecretBoxError("cannot re-encrypt: no key of ENCRYPTION_KEY opens it") from exc
