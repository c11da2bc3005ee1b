"""Access tokens: verified once, then remembered until they expire; never past that."""

import pytest

from jobrunner_api import security
from jobrunner_api.security import TokenClaims, create_access_token, decode_access_token

SECRET = "s" * 32
CLAIMS = TokenClaims("user-1", "tenant-1", 2)


def test_a_token_decodes_to_its_claims_every_time() -> None:
    token = create_access_token(CLAIMS, SECRET, minutes=5)
    assert decode_access_token(token, SECRET) == CLAIMS
    assert decode_access_token(token, SECRET) == CLAIMS  # the second from memory


def test_a_token_of_another_secret_or_altered_is_refused() -> None:
    token = create_access_token(CLAIMS, SECRET, minutes=5)
    assert decode_access_token(token, SECRET) == CLAIMS
    assert decode_access_token(token, "t" * 32) is None
    assert decode_access_token(token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), SECRET) is None


def test_a_remembered_token_is_refused_once_expired(monkeypatch: pytest.MonkeyPatch) -> None:
    token = create_access_token(CLAIMS, SECRET, minutes=1)
    assert decode_access_token(token, SECRET) == CLAIMS
    now = security.time.time()
    monkeypatch.setattr(security.time, "time", lambda: now + 61)
    assert decode_access_token(token, SECRET) is None


def test_an_expired_token_is_refused() -> None:
    assert decode_access_token(create_access_token(CLAIMS, SECRET, minutes=-1), SECRET) is None
