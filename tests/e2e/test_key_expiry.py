"""A worker key with `expires_at` (SPEC §3): refused from then on, like a revoked key, and the
live session using it is cut when it expires (issue 12)."""

import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.platform import Tenant

pytestmark = pytest.mark.e2e


def create_key(tenant: Tenant, expires_at: datetime) -> dict:
    with tenant.client() as client:
        response = client.post("/api-keys", json={"name": "expiring", "kind": "worker",
                                                  "expires_at": expires_at.isoformat()})
        assert response.status_code == 201, response.text
        return response.json()


def test_a_worker_is_cut_when_its_key_expires_and_refused_after(tenant: Tenant,
                                                                start_worker) -> None:
    # Given a worker connected with a key that expires in a few seconds (15: a loaded machine
    # was seen taking 10 s for a worker's first connect), running jobs
    expires_at = datetime.now(UTC) + timedelta(seconds=15)
    worker = start_worker(create_key(tenant, expires_at)["key"], name="expiring")
    tenant.wait_workers_online(1)
    job = tenant.submit(command="echo before-expiry")
    assert tenant.wait_final(job["id"])["status"] == "succeeded"
    assert datetime.now(UTC) < expires_at, "the worker took too long to start for this test"
    assert tenant.workers()[0]["status"] == "online"
    # When the key expires
    while datetime.now(UTC) < expires_at:
        time.sleep(0.1)
    # Then within 5 s the worker is offline, and stays out
    deadline = time.monotonic() + 5
    while tenant.workers()[0]["status"] != "offline":
        assert time.monotonic() < deadline, tenant.workers()
        time.sleep(0.1)
    # and its reconnects are refused with the reason, which names expiry; after its refusals
    # in a row (WORKER_MAX_REFUSALS, 3) it gives up, exit code 3
    deadline = time.monotonic() + 40
    while worker.alive:
        assert time.monotonic() < deadline, worker.output()[-2000:]
        time.sleep(0.2)
    assert worker.returncode == 3, worker.output()[-2000:]
    assert "invalid, revoked or expired API key" in worker.output()
    assert tenant.workers()[0]["status"] == "offline"
    # And a job submitted now waits for a worker with a valid key
    waiting = tenant.submit(command="echo after-expiry")
    time.sleep(1)
    assert tenant.job(waiting["id"])["status"] == "queued"


def test_a_key_that_expired_already_is_not_created(tenant: Tenant) -> None:
    with tenant.client() as client:
        past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
        response = client.post("/api-keys", json={"name": "late", "kind": "worker",
                                                  "expires_at": past})
        assert response.status_code == 422, response.text
        assert "future" in response.text
        assert client.get("/api-keys").json() == []
