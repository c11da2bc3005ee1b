"""The platform under test: real API and master processes, tenants, and worker processes.

One API and one master serve the whole test session (in its own vhost and database). Each test
makes a tenant of its own through the platform admin, so tests never see each other's jobs or
workers; workers are started per test with a key of that tenant.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.support.paths import ROOT
from tests.support.ports import free_port
from tests.support.process import ManagedProcess

BIN = ROOT / ".venv" / "bin"
FINAL = {"succeeded", "failed", "timed_out", "cancelled"}
ADMIN = ("admin", "admin")

# The settings the tests change from their defaults (benchmarks/run.py puts them back).
# Leases, the reconnect grace and the sweep keep their defaults: the fault tests show the
# promises of SPEC §6.2 as users get them. Shorter: the backstops of a job whose timeout passed
# and of a publish never confirmed, so those tests take seconds.
TEST_SETTINGS = {
    "TIMEOUT_GRACE_SECONDS": "2",
    "OUTBOX_GRACE_SECONDS": "3",
    "LOG_CAP_BYTES": str(24 * 1024 * 1024),  # above the 20 MiB line test, below 30 MiB
    "METRICS_CACHE_SECONDS": "1",  # /metrics counts follow a job within the test
}


def service_env(rabbitmq_url: str, mongodb_url: str, db_name: str, **extra: str) -> dict[str, str]:
    return {
        "ENVIRONMENT": "development",
        "RABBITMQ_URL": rabbitmq_url,
        "MONGODB_URL": mongodb_url,
        "MONGODB_DB": db_name,
        "ADMIN_USERNAME": ADMIN[0],
        "ADMIN_PASSWORD": ADMIN[1],
        **TEST_SETTINGS,
        **extra,
    }


@dataclass
class Platform:
    api_url: str
    master_url: str
    env: dict[str, str]
    api: ManagedProcess
    master: ManagedProcess
    workers: list[ManagedProcess] = field(default_factory=list)

    def admin(self) -> Tenant:
        return Tenant(self, "default", login(self.api_url, *ADMIN))

    def new_tenant(self) -> Tenant:
        """A fresh tenant with its own admin, created by the platform admin."""
        name = f"t-{secrets.token_hex(4)}"
        password = secrets.token_urlsafe(12)
        with self.admin().client() as admin:
            response = admin.post(
                "/tenants",
                json={"name": name, "admin_username": f"{name}-admin", "admin_password": password},
            )
            response.raise_for_status()
        return Tenant(self, name, login(self.api_url, f"{name}-admin", password))

    def start_worker(self, key: str, *, labels: str = "", capacity: int = 1,
                     name: str | None = None, **env: str) -> ManagedProcess:
        worker = ManagedProcess(
            name or f"worker-{len(self.workers) + 1}",
            [str(BIN / "jobrunner-worker")],
            env={
                "MASTER_URL": self.master_url,
                "API_KEY": key,
                "WORKER_LABELS": labels,
                "WORKER_CAPACITY": str(capacity),
                "WORKER_NAME": name or f"worker-{len(self.workers) + 1}",
                "HEARTBEAT_INTERVAL": "1",
                **env,
            },
        )
        worker.spawn()
        self.workers.append(worker)
        return worker


@dataclass
class Tenant:
    platform: Platform
    name: str
    token: str

    def client(self, **kwargs: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return httpx.Client(
            base_url=f"{self.platform.api_url}/api/v1", headers=headers, timeout=30, **kwargs
        )

    def aclient(self, **kwargs: Any) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return httpx.AsyncClient(
            base_url=f"{self.platform.api_url}/api/v1", headers=headers, timeout=30, **kwargs
        )

    def worker_key(self, name: str = "test-worker") -> str:
        with self.client() as client:
            response = client.post("/api-keys", json={"name": name, "kind": "worker"})
            response.raise_for_status()
            return response.json()["key"]

    def submit(self, **body: Any) -> dict:
        with self.client() as client:
            response = client.post("/jobs", json=body)
            assert response.status_code == 201, response.text
            return response.json()

    def job(self, job_id: str) -> dict:
        with self.client() as client:
            response = client.get(f"/jobs/{job_id}")
            response.raise_for_status()
            return response.json()

    def wait_final(self, job_id: str, timeout: float = 60) -> dict:
        return self.wait_job(job_id, lambda job: job["status"] in FINAL, timeout)

    def wait_job(self, job_id: str, predicate: Any, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            job = self.job(job_id)
            if predicate(job):
                return job
            if time.monotonic() > deadline:
                raise AssertionError(f"job {job_id} did not get there in {timeout}s: {job}")
            time.sleep(0.1)

    def workers(self) -> list[dict]:
        with self.client() as client:
            response = client.get("/workers")
            response.raise_for_status()
            return response.json()

    def wait_workers_online(self, count: int, timeout: float = 30) -> list[dict]:
        deadline = time.monotonic() + timeout
        while True:
            online = [w for w in self.workers() if w["status"] == "online"]
            if len(online) >= count:
                return online
            if time.monotonic() > deadline:
                raise AssertionError(f"{count} workers not online after {timeout}s: {online}")
            time.sleep(0.1)

    def all_lines(self, job_id: str, attempt: int | None = None, timeout: float = 60) -> list[dict]:
        """Every line of a finished attempt, waiting until the platform has stored them all."""
        lines: list[dict] = []
        after = 0
        deadline = time.monotonic() + timeout
        with self.client() as client:
            while True:
                params: dict[str, Any] = {"after": after, "limit": 10000}
                if attempt is not None:
                    params["attempt"] = attempt
                page = client.get(f"/jobs/{job_id}/logs", params=params).json()
                lines.extend(page["lines"])
                after = page["next"]
                if page["complete"]:
                    return lines
                if not page["lines"]:
                    assert time.monotonic() < deadline, f"log of {job_id} incomplete: {page}"
                    time.sleep(0.1)


def login(api_url: str, username: str, password: str) -> str:
    response = httpx.post(
        f"{api_url}/api/v1/auth/token", data={"username": username, "password": password}
    )
    response.raise_for_status()
    return response.json()["access_token"]


@asynccontextmanager
async def sse_events(client: httpx.AsyncClient, url: str, **params: Any) -> AsyncIterator[Any]:
    """Yields an async iterator of (event, id, data) from a Server-Sent Events endpoint."""
    async with client.stream("GET", url, params=params, timeout=None) as response:
        response.raise_for_status()

        async def events() -> AsyncIterator[tuple[str, str | None, Any]]:
            event, event_id, data = "message", None, []
            async for line in response.aiter_lines():
                if line == "":
                    if data:
                        yield event, event_id, json.loads("\n".join(data))
                    event, event_id, data = "message", None, []
                elif line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("id:"):
                    event_id = line[3:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].lstrip())

        yield events()


def start_platform(rabbitmq_url: str, mongodb_url: str, db_name: str,
                   **settings: str) -> Iterator[Platform]:
    """`settings`: environment variables of the API and the master, over service_env's."""
    api_port, master_port = free_port(), free_port()
    env = service_env(rabbitmq_url, mongodb_url, db_name, **settings)
    api = ManagedProcess(
        "api", [str(BIN / "jobrunner-api")], env={**env, "PORT": str(api_port)},
        ready_url=f"http://127.0.0.1:{api_port}/readyz", ready_timeout=60,
    )
    master = ManagedProcess(
        "master", [str(BIN / "jobrunner-master")], env={**env, "PORT": str(master_port)},
        ready_url=f"http://127.0.0.1:{master_port}/readyz", ready_timeout=60,
    )
    with api, master:
        platform = Platform(
            api_url=f"http://127.0.0.1:{api_port}",
            master_url=f"http://127.0.0.1:{master_port}",
            env=env,
            api=api,
            master=master,
        )
        try:
            yield platform
        finally:
            for worker in platform.workers:
                worker.stop()
