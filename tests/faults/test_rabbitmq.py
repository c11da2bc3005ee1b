"""A RabbitMQ restart with 500 jobs in flight: every service reconnects and consumes again,
every job ends once, every line is stored once (issue 3).

Restarts the RabbitMQ application of the session's broker (`rabbitmqctl stop_app` /
`start_app`): connections drop, durable queues and persistent messages survive.
"""

import time
from collections import Counter
from urllib.parse import quote

import httpx
import pytest

from jobrunner_shared import names
from tests.support.infra import RabbitMQ
from tests.support.platform import FINAL, Tenant

pytestmark = [pytest.mark.e2e, pytest.mark.node_wide]
JOBS = 500


def consumers(rabbitmq: RabbitMQ, vhost: str, queue: str) -> int:
    with httpx.Client(base_url=rabbitmq.management_url, auth=rabbitmq.credentials) as http:
        response = http.get(f"/api/queues/{quote(vhost, safe='')}/{quote(queue, safe='')}")
        if response.status_code != 200:
            return 0
        return response.json().get("consumers", 0)


@pytest.mark.timeout(600)
def test_a_rabbitmq_restart_with_500_jobs_in_flight(
    tenant: Tenant, start_worker, rabbitmq: RabbitMQ, rabbitmq_vhost: str, record_counts
) -> None:
    if rabbitmq.ctl is None:
        pytest.fail("this broker cannot be restarted from the tests")
    key = tenant.worker_key()
    for n in range(2):
        start_worker(key, name=f"rmq-{n}", capacity=4)
    tenant.wait_workers_online(2)
    # Given 500 jobs submitted, most of them still queued or running
    with tenant.client() as client:
        ids = [client.post("/jobs", json={"command": f"echo line-{i}"}).json()["id"]
               for i in range(JOBS)]
    # When RabbitMQ restarts
    rabbitmq.ctl("stop_app")
    # (a job submitted while RabbitMQ is down is stored, answered 201, published later)
    with tenant.client() as client:
        during = client.post("/jobs", json={"command": "echo during-outage"})
    time.sleep(2)
    rabbitmq.ctl("start_app")
    assert during.status_code == 201, during.text
    ids.append(during.json()["id"])
    # Then every job ends exactly once, succeeded, with its one line stored once
    deadline = time.monotonic() + 300
    finals: dict[str, dict] = {}
    with tenant.client() as client:
        while len(finals) < len(ids):
            assert time.monotonic() < deadline, f"{len(ids) - len(finals)} jobs not final"
            # Newest first, a page at a time: cheaper than asking for each job.
            cursor = None
            while True:
                params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
                page = client.get("/jobs", params=params).json()
                finals.update((j["id"], j) for j in page["items"] if j["status"] in FINAL)
                cursor = page["next_cursor"]
                if cursor is None:
                    break
            time.sleep(1)
    statuses = Counter(job["status"] for job in finals.values())
    assert statuses == {"succeeded": len(ids)}, statuses
    assert [ln["text"] for ln in tenant.all_lines(ids[-1])] == ["during-outage"]
    # And every queue of the platform has its consumer again (the management API's figures
    # lag by a few seconds)
    for queue in (names.JOB_EVENTS_QUEUE, names.LOGS_QUEUE, names.HEARTBEATS_QUEUE,
                  names.SUBMIT_QUEUE):
        deadline = time.monotonic() + 20
        while consumers(rabbitmq, rabbitmq_vhost, queue) < 1:
            assert time.monotonic() < deadline, f"no consumer on {queue}"
            time.sleep(0.5)
    after = tenant.submit(command="echo after")
    assert tenant.wait_final(after["id"])["status"] == "succeeded"
    record_counts("a RabbitMQ restart with 500 jobs in flight (+1 submitted during it)",
                  tenant, [*ids, after["id"]], len(ids) + 1)
