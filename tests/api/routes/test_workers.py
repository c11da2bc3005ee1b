"""Removing a worker from the list: only an offline one, only the tenant's own."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.platform import Tenant

pytestmark = pytest.mark.e2e


async def test_an_offline_worker_is_removed_and_an_online_one_refused(
    platform, tenant: Tenant, pymongo_db, start_worker
) -> None:
    with tenant.client() as client:
        tenant_id = client.get("/me").json()["tenant"]["id"]
    gone = datetime.now(UTC) - timedelta(days=2)
    await pymongo_db.workers.insert_one(
        {"_id": "gone-worker", "tenant_id": tenant_id, "name": "gone", "labels": [],
         "capacity": 1, "running_jobs": ["a-job"], "connected": False, "draining": False,
         "version": "", "hostname": "", "last_heartbeat": gone})
    start_worker(tenant.worker_key(), name="alive")
    (alive,) = [w for w in tenant.wait_workers_online(1) if w["name"] == "alive"]
    other = platform.new_tenant()
    with tenant.client() as client, other.client() as stranger:
        listed = {w["name"]: w for w in client.get("/workers").json()}
        # An offline worker shows no running jobs, whatever it reported last
        assert listed["gone"]["status"] == "offline" and listed["gone"]["running"] == 0
        # Another tenant cannot see it, let alone remove it
        assert stranger.delete("/workers/gone-worker").status_code == 404
        # An online worker is not removed: it would be back at its next heartbeat
        refused = client.delete(f"/workers/{alive['id']}")
        assert refused.status_code == 409 and "offline" in refused.json()["detail"]
        # The offline one is
        assert client.delete("/workers/gone-worker").status_code == 204
        assert "gone" not in {w["name"] for w in client.get("/workers").json()}
        assert client.delete("/workers/gone-worker").status_code == 404
