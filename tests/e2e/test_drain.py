"""Draining a worker: it takes no new jobs, finishes its running ones, then exits."""

import time

import pytest

from tests.support.platform import Tenant

pytestmark = pytest.mark.e2e


def test_drain_from_the_api_finishes_running_jobs_then_the_worker_exits(
    tenant: Tenant, start_worker
) -> None:
    key = tenant.worker_key()
    worker = start_worker(key, name="drained", capacity=2)
    [listed] = tenant.wait_workers_online(1)
    running = tenant.submit(command="sleep 2; echo finished")
    tenant.wait_job(running["id"], lambda j: j["status"] == "running")
    # When the worker is drained
    with tenant.client() as client:
        response = client.post(f"/workers/{listed['id']}/drain")
    assert response.status_code == 202
    assert response.json()["status"] == "draining"
    waiting = tenant.submit(command="echo not-here")
    # Then its running job finishes, it takes no new one, and it exits
    assert tenant.wait_final(running["id"])["status"] == "succeeded"
    deadline = time.monotonic() + 20
    while worker.alive:
        assert time.monotonic() < deadline, "the drained worker did not exit"
        time.sleep(0.2)
    assert worker.returncode == 0
    assert tenant.job(waiting["id"])["status"] == "queued"
    # And the waiting job runs on the next worker
    start_worker(key, name="next")
    assert tenant.wait_final(waiting["id"])["worker_name"] == "next"


def test_sigterm_on_a_worker_drains_it(tenant: Tenant, start_worker) -> None:
    worker = start_worker(tenant.worker_key(), name="terminated")
    tenant.wait_workers_online(1)
    job = tenant.submit(command="sleep 2; echo ok")
    tenant.wait_job(job["id"], lambda j: j["status"] == "running")
    worker.proc.send_signal(15)
    assert tenant.wait_final(job["id"])["status"] == "succeeded"
    worker.proc.wait(20)
    assert worker.returncode == 0
