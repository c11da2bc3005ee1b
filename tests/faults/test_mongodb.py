"""MongoDB unavailable for a while: the API answers 503 where it needs the database, consumers
acknowledge nothing they could not store, and everything catches up afterwards (issue 3).

The test runs a database of its own (scripts/mongodb.sh on a free port, with the H2 backend of
the stand-in, or mongod when on PATH, so the data survives a restart as a real server's would),
a platform of its own on it in a RabbitMQ vhost of its own, and stops and starts that database:
the suite's own database (in memory under `make test`) is never touched.
"""

import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.support.infra import RabbitMQ
from tests.support.paths import DATA_DIR, SCRIPTS_DIR
from tests.support.platform import Platform, start_platform
from tests.support.ports import free_port

pytestmark = pytest.mark.e2e


def mongodb_script(action: str, port: int) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPTS_DIR / "mongodb.sh"), action],
                          env={**os.environ, "MONGODB_PORT": str(port), "MONGODB_BACKEND": "h2"},
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def own_mongodb() -> Iterator[int]:
    """A database server of this test's own, on a free port; stopped and its data removed after."""
    port = free_port()
    try:
        started = mongodb_script("start", port)
        assert started.returncode == 0, started.stdout + started.stderr
        yield port
    finally:
        mongodb_script("stop", port)
        shutil.rmtree(DATA_DIR / f"mongodb-{port}", ignore_errors=True)


@pytest.fixture
def own_platform(rabbitmq: RabbitMQ, own_mongodb: int) -> Iterator[Platform]:
    """API and master on that database, in a vhost of their own (not the session platform's)."""
    vhost = f"jobrunner-test-mongodb-{secrets.token_hex(4)}"
    url = rabbitmq.create_vhost(vhost)
    try:
        yield from start_platform(url, f"mongodb://localhost:{own_mongodb}",
                                  "jobrunner_mongodb_outage")
    finally:
        rabbitmq.delete_vhost(vhost)


def test_a_mongodb_outage_costs_nothing(own_platform: Platform, own_mongodb: int,
                                       record_counts) -> None:
    port = own_mongodb
    tenant = own_platform.new_tenant()
    own_platform.start_worker(tenant.worker_key(), name="through-the-outage", capacity=4)
    tenant.wait_workers_online(1)
    # Given jobs printing a line every half second, running across the outage
    jobs = [tenant.submit(command=f"for i in $(seq 1 16); do echo {n}-$i; sleep 0.5; done")["id"]
            for n in range(4)]
    for job_id in jobs:
        tenant.wait_job(job_id, lambda j: j["status"] == "running")
    # When MongoDB is down for a few seconds
    stopped = mongodb_script("stop", port)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    try:
        with tenant.client() as client:
            # Then the API answers 503, not 500, and stores nothing
            submitted = client.post("/jobs", json={"command": "echo during"})
            assert submitted.status_code == 503, submitted.text
            assert submitted.headers.get("retry-after")
            assert client.get(f"/jobs/{jobs[0]}").status_code == 503
        time.sleep(3)
    finally:
        restarted = mongodb_script("start", port)
        assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    # And afterwards every job ends once with every line stored once
    for job_id in jobs:
        assert tenant.wait_final(job_id, timeout=90)["status"] == "succeeded"
    after = tenant.submit(command="echo after")
    assert tenant.wait_final(after["id"])["status"] == "succeeded"
    record_counts("MongoDB down for a few seconds with jobs running", tenant,
                  [*jobs, after["id"]], 4 * 16 + 1)
