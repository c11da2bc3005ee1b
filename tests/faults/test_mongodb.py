"""MongoDB unavailable for a while: the API answers 503 where it needs the database, consumers
acknowledge nothing they could not store, and everything catches up afterwards (issue 3).

Stops and starts the local MongoDB of scripts/mongodb.sh (what `make test` runs); the data
survives, as a restarted server's would.
"""

import os
import subprocess
import time
import urllib.parse

import pytest

from tests.support.paths import SCRIPTS_DIR
from tests.support.platform import Tenant

pytestmark = pytest.mark.e2e


def mongodb_script(action: str, port: str) -> int:
    result = subprocess.run([str(SCRIPTS_DIR / "mongodb.sh"), action],
                            env={**os.environ, "MONGODB_PORT": port},
                            capture_output=True, text=True, timeout=300)
    return result.returncode


@pytest.fixture
def restartable_mongodb(mongodb_url: str) -> str:
    port = str(urllib.parse.urlsplit(mongodb_url).port or 27017)
    if mongodb_script("status", port) != 0:
        pytest.fail(f"the MongoDB on port {port} is not the local one of scripts/mongodb.sh")
    return port


def test_a_mongodb_outage_costs_nothing(tenant: Tenant, start_worker, restartable_mongodb: str,
                                       record_counts) -> None:
    port = restartable_mongodb
    start_worker(tenant.worker_key(), name="through-the-outage", capacity=4)
    tenant.wait_workers_online(1)
    # Given jobs printing a line every half second, running across the outage
    jobs = [tenant.submit(command=f"for i in $(seq 1 16); do echo {n}-$i; sleep 0.5; done")["id"]
            for n in range(4)]
    for job_id in jobs:
        tenant.wait_job(job_id, lambda j: j["status"] == "running")
    # When MongoDB is down for a few seconds
    assert mongodb_script("stop", port) == 0
    try:
        with tenant.client() as client:
            # Then the API answers 503, not 500, and stores nothing
            submitted = client.post("/jobs", json={"command": "echo during"})
            assert submitted.status_code == 503, submitted.text
            assert submitted.headers.get("retry-after")
            assert client.get(f"/jobs/{jobs[0]}").status_code == 503
        time.sleep(3)
    finally:
        assert mongodb_script("start", port) == 0
    # And afterwards every job ends once with every line stored once
    for job_id in jobs:
        assert tenant.wait_final(job_id, timeout=90)["status"] == "succeeded"
    after = tenant.submit(command="echo after")
    assert tenant.wait_final(after["id"])["status"] == "succeeded"
    record_counts("MongoDB down for a few seconds with jobs running", tenant,
                  [*jobs, after["id"]], 4 * 16 + 1)
