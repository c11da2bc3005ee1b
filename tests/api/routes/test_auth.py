"""Login throttling (SPEC §3): per username and per client address, across API processes."""

import secrets

import httpx
import pytest

from tests.support.platform import Tenant

pytestmark = pytest.mark.e2e


def try_login(api_url: str, username: str, password: str, address: str) -> httpx.Response:
    # The API trusts X-Forwarded-For from 127.0.0.1 (uvicorn's FORWARDED_ALLOW_IPS default),
    # so each test acts from an address of its own.
    return httpx.post(f"{api_url}/api/v1/auth/token",
                      data={"username": username, "password": password},
                      headers={"X-Forwarded-For": address})


def new_user(tenant: Tenant) -> tuple[str, str]:
    name, password = f"u-{secrets.token_hex(4)}", secrets.token_urlsafe(12)
    with tenant.client() as admin:
        admin.post("/users", json={"username": name, "password": password}).raise_for_status()
    return name, password


def test_repeated_failures_for_a_username_are_answered_429(tenant: Tenant) -> None:
    api = tenant.platform.api_url
    name, password = new_user(tenant)
    address = f"198.51.100.{secrets.randbelow(250) + 1}"
    for _ in range(5):  # LOGIN_MAX_FAILURES
        assert try_login(api, name, "wrong", address).status_code == 401
    # The right password is not even checked now, from any address
    for where in (address, "192.0.2.200"):
        throttled = try_login(api, name, password, where)
        assert throttled.status_code == 429, throttled.text
        assert 1 <= int(throttled.headers["Retry-After"]) <= 300
        assert "too many failed logins" in throttled.json()["detail"]
    # Other users log in as usual
    other, other_password = new_user(tenant)
    assert try_login(api, other, other_password, address).status_code == 200


def test_repeated_failures_from_an_address_are_answered_429(tenant: Tenant) -> None:
    api = tenant.platform.api_url
    name, password = new_user(tenant)
    address = f"203.0.113.{secrets.randbelow(250) + 1}"
    for n in range(50):  # LOGIN_MAX_FAILURES_PER_ADDRESS, each for another username
        assert try_login(api, f"nobody-{n}-{secrets.token_hex(3)}", "x", address).status_code \
            == 401
    assert try_login(api, name, password, address).status_code == 429
    assert try_login(api, name, password, "192.0.2.77").status_code == 200


def test_failed_and_successful_logins_are_audited(tenant: Tenant) -> None:
    api = tenant.platform.api_url
    name, password = new_user(tenant)
    assert try_login(api, name, "wrong", "192.0.2.9").status_code == 401
    assert try_login(api, name, password, "192.0.2.9").status_code == 200
    with tenant.client() as admin:
        entries = admin.get("/audit", params={"actor": name}).json()["items"]
    assert [(e["action"], e["address"]) for e in entries] == [
        ("login", "192.0.2.9"), ("login.failed", "192.0.2.9")]
