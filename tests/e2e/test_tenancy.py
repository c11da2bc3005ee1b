"""Tenants see nothing of each other, through any interface (SPEC §6.6)."""

import time

import pytest

from tests.support.platform import Tenant

pytestmark = pytest.mark.e2e


def test_a_tenants_jobs_run_only_on_its_own_workers(platform, start_worker) -> None:
    # Given two tenants, each with one worker
    a, b = platform.new_tenant(), platform.new_tenant()
    start_worker(a.worker_key(), name="a-worker", capacity=2)
    start_worker(b.worker_key(), name="b-worker", capacity=2)
    a.wait_workers_online(1)
    b.wait_workers_online(1)
    # When both submit jobs
    a_jobs = [a.submit(command="echo a")["id"] for _ in range(4)]
    b_jobs = [b.submit(command="echo b")["id"] for _ in range(4)]
    # Then each job ran on its own tenant's worker
    assert {a.wait_final(j)["worker_name"] for j in a_jobs} == {"a-worker"}
    assert {b.wait_final(j)["worker_name"] for j in b_jobs} == {"b-worker"}


def test_a_tenant_cannot_read_or_touch_another_tenants_objects(platform, start_worker) -> None:
    a, b = platform.new_tenant(), platform.new_tenant()
    start_worker(a.worker_key(), name="only-a")
    a.wait_workers_online(1)
    job = a.submit(command="echo secret")
    a.wait_final(job["id"])
    with b.client() as client:
        assert client.get(f"/jobs/{job['id']}").status_code == 404
        assert client.get(f"/jobs/{job['id']}/logs").status_code == 404
        assert client.get(f"/jobs/{job['id']}/logs/stream").status_code == 404
        assert client.get(f"/jobs/{job['id']}/logs/download").status_code == 404
        assert client.post(f"/jobs/{job['id']}/cancel").status_code == 404
        assert client.post(f"/jobs/{job['id']}/rerun").status_code == 404
        assert client.get("/jobs").json()["items"] == []
        assert client.get("/workers").json() == []
        assert client.get("/api-keys").json() == []
        worker_id = a.workers()[0]["id"]
        assert client.post(f"/workers/{worker_id}/drain").status_code == 404
        with a.client() as a_client:
            key_id = a_client.get("/api-keys").json()[0]["id"]
        assert client.delete(f"/api-keys/{key_id}").status_code == 404
        assert client.get("/me").json()["tenant"]["name"] == b.name


def test_only_the_platform_admin_creates_and_lists_tenants(platform) -> None:
    tenant = platform.new_tenant()
    with tenant.client() as client:
        response = client.post(
            "/tenants", json={"name": "x", "admin_username": "x", "admin_password": "password1"}
        )
        assert response.status_code == 403
        assert client.get("/tenants").status_code == 403
    with platform.admin().client() as admin:
        again = admin.post(
            "/tenants",
            json={"name": tenant.name, "admin_username": "other", "admin_password": "password1"},
        )
        assert again.status_code == 409
        listed = admin.get("/tenants").json()
        names = [t["name"] for t in listed]
        assert tenant.name in names and names == sorted(names)
        assert set(listed[0]) == {"id", "name", "created_at"}


def test_a_revoked_key_cuts_the_worker_and_is_refused(tenant: Tenant, start_worker) -> None:
    # Given a connected worker
    with tenant.client() as client:
        created = client.post("/api-keys", json={"name": "short-lived", "kind": "worker"}).json()
        assert created["key"].startswith(created["prefix"])
        listed = client.get("/api-keys").json()
        assert [k["name"] for k in listed] == ["short-lived"] and "key" not in listed[0]
    worker = start_worker(created["key"])
    tenant.wait_workers_online(1)
    with tenant.client() as client:
        assert client.get("/api-keys").json()[0]["last_used_at"] is not None
    # When its key is revoked
    with tenant.client() as client:
        assert client.delete(f"/api-keys/{created['id']}").status_code == 204
        assert client.get("/api-keys").json() == []
    # Then within 5 s the worker is offline, and stays out
    deadline = time.monotonic() + 5
    while tenant.workers()[0]["status"] != "offline":
        assert time.monotonic() < deadline, tenant.workers()
        time.sleep(0.1)
    # and its next connection (after its reconnect back-off) is refused
    deadline = time.monotonic() + 20
    while not ("refused" in worker.output().lower() or "invalid, revoked or expired" in worker.output()):
        assert time.monotonic() < deadline, worker.output()[-2000:]
        time.sleep(0.2)
    assert tenant.workers()[0]["status"] == "offline"
