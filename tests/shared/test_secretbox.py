"""Secrets at rest: encrypted with the first ENCRYPTION_KEY entry, readable with any of them."""

import pytest

from jobrunner_shared.secretbox import (
    DEV_KEY,
    SecretBox,
    SecretBoxError,
    checked_setting,
    fernet_key,
    production_problem,
    split_keys,
)

STRONG = "k1-" + "a" * 40
OTHER = "k2-" + "b" * 40


def test_a_value_comes_back_as_it_went_in_and_is_not_readable_in_between() -> None:
    box = SecretBox(STRONG)
    value = "tok-ünïcode\nsecond line"
    token = box.encrypt(value)
    assert value not in token and "second line" not in token
    assert box.decrypt(token) == value
    # Each encryption is fresh (random IV): equal values do not give equal ciphertexts.
    assert box.encrypt(value) != token


def test_any_string_gives_a_valid_fernet_key_and_different_strings_different_keys() -> None:
    assert len(fernet_key("x")) == 44  # URL-safe base64 of 32 bytes
    assert fernet_key(STRONG) != fernet_key(OTHER)
    assert fernet_key(STRONG) == fernet_key(STRONG)


def test_rotation_new_key_first_still_reads_old_values_and_encrypts_with_the_new() -> None:
    # Given a value stored under the old key
    old = SecretBox(STRONG).encrypt("v1")
    # When the new key is put first
    rotated = SecretBox(f"{OTHER}, {STRONG}")
    # Then the old value is still readable, and new values need the new key only
    assert rotated.decrypt(old) == "v1"
    fresh = rotated.encrypt("v2")
    assert SecretBox(OTHER).decrypt(fresh) == "v2"
    with pytest.raises(SecretBoxError):
        SecretBox(STRONG).decrypt(fresh)
    # And re-encrypting the old value frees it from the old key
    assert SecretBox(OTHER).decrypt(rotated.rotate(old)) == "v1"


def test_a_wrong_key_or_altered_data_fails_clearly() -> None:
    token = SecretBox(STRONG).encrypt("v")
    with pytest.raises(SecretBoxError, match="no key of ENCRYPTION_KEY opens it"):
        SecretBox(OTHER).decrypt(token)
    altered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(SecretBoxError):
        SecretBox(STRONG).decrypt(altered)
    with pytest.raises(SecretBoxError):
        SecretBox(STRONG).decrypt("not a token at all ✗")


def test_the_box_never_shows_its_keys() -> None:
    box = SecretBox(f"{STRONG},{OTHER}")
    assert STRONG not in repr(box) and repr(box) == "SecretBox(keys=2)"


def test_keys_are_split_on_commas_and_an_empty_setting_is_refused() -> None:
    assert split_keys(f" {STRONG} ,, {OTHER} ") == [STRONG, OTHER]
    with pytest.raises(ValueError, match="no key"):
        SecretBox(" , ")


@pytest.mark.parametrize(
    ("setting", "problem"),
    [
        ("", "missing"),
        (DEV_KEY, "default"),
        (f"{STRONG},changeme", "default"),
        ("short-key", "at least 32"),
        (f"{STRONG},short", "at least 32"),
    ],
)
def test_weak_settings_are_named_for_production(setting: str, problem: str) -> None:
    assert problem in (production_problem(setting) or "")


def test_strong_keys_pass_for_production() -> None:
    assert production_problem(f"{STRONG},{OTHER}") is None


def test_the_services_fill_in_the_dev_key_only_in_development() -> None:
    assert checked_setting("", dev_mode=True) == DEV_KEY
    assert checked_setting(STRONG, dev_mode=False) == STRONG
    with pytest.raises(ValueError, match="refusing to start outside development: ENCRYPTION_KEY"):
        checked_setting("", dev_mode=False)
