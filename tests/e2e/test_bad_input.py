"""Bad input gets a clear 4xx, a refused connection or a dead letter; nothing breaks."""

import re
import time

import httpx
import pytest

from tests.support.platform import Tenant

pytestmark = pytest.mark.e2e


def test_an_invalid_job_body_is_a_422_naming_the_field(tenant: Tenant) -> None:
    with tenant.client() as client:
        response = client.post("/jobs", json={"command": "x", "timeout_seconds": -5})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "timeout_seconds"]
        both = client.post("/jobs", json={"command": "x", "argv": ["y"]})
        assert both.status_code == 422 and "exactly one" in both.text
        assert client.post("/jobs", content=b"{not json", headers={
            "content-type": "application/json"}).status_code == 422
        assert client.get("/jobs", params={"status": "sleeping"}).status_code == 422
        assert client.get("/jobs", params={"cursor": "nonsense"}).status_code == 422


def test_unknown_jobs_are_404(tenant: Tenant) -> None:
    with tenant.client() as client:
        for path in ("/jobs/6b0a0000000000000000abcd", "/jobs/not-an-id",
                     "/jobs/6b0a0000000000000000abcd/logs"):
            response = client.get(path)
            assert response.status_code == 404
            assert "not found" in response.json()["detail"]


def test_missing_or_bad_tokens_are_401(platform) -> None:
    base = f"{platform.api_url}/api/v1"
    assert httpx.get(f"{base}/jobs").status_code == 401
    bad = httpx.get(f"{base}/jobs", headers={"Authorization": "Bearer nonsense"})
    assert bad.status_code == 401 and bad.json()["detail"]
    wrong = httpx.post(f"{base}/auth/token", data={"username": "admin", "password": "nope"})
    assert wrong.status_code == 401


def test_a_worker_with_a_wrong_key_is_refused_and_backs_off(platform, start_worker) -> None:
    # WORKER_MAX_REFUSALS=0: retry forever (the default, 3, ends it: tests/worker/test_main.py)
    worker = start_worker("jrw_this-is-not-a-key", name="intruder", WORKER_MAX_REFUSALS="0")
    time.sleep(9)
    assert worker.alive
    refusals = re.findall(r"refused|invalid, revoked or expired", worker.output())
    # Backoff 1 s doubling (with jitter) to a cap: a handful of tries in 9 s, not hundreds.
    assert 2 <= len(refusals) <= 8, worker.output()
