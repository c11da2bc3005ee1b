"""The whole platform for the Playwright specs, until stdin closes or SIGTERM.

Run by tests/global-setup.ts as `.venv/bin/python frontend/tests/e2e_platform.py`. Reuses the
pytest support code (tests/support): RabbitMQ and MongoDB from RABBITMQ_URL / MONGODB_URL, or
the local services (started here and stopped after only if they were not running), a vhost and
a database of this run's own (so a running `make dev` is left alone), the API and the master on
free ports, a tenant with a known password, two workers ("e2e-worker", capacity 4, and
"e2e-spare", capacity 2, label "spare") and `vite preview` of frontend/dist proxying /api to
the API. Prints one JSON line {baseURL, apiURL, masterURL, username, password, tenant} once all of it
answers; stops when stdin reaches end of file (Playwright gone) or on SIGTERM.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import secrets
import select
import signal
import sys
import threading
import time
from pathlib import Path

FRONTEND = Path(__file__).resolve().parents[1]
ROOT = FRONTEND.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from pymongo import MongoClient  # noqa: E402

from tests.support.infra import mongodb_server, rabbitmq_server  # noqa: E402
from tests.support.platform import login, start_platform  # noqa: E402
from tests.support.ports import free_port  # noqa: E402
from tests.support.process import ManagedProcess  # noqa: E402

RUN_ID = secrets.token_hex(4)
stop = threading.Event()


def log(message: str) -> None:
    print(f"[e2e-platform] {message}", file=sys.stderr, flush=True)


def on_signal(signum: int, _frame: object) -> None:
    stop.set()


def stdin_closed(timeout: float) -> bool:
    """Waits up to `timeout` for stdin; true once it is at end of file (Playwright is gone)."""
    # Why: if Playwright dies without its teardown, the pipe closes and everything here stops.
    try:
        ready, _, _ = select.select([sys.stdin], [], [], timeout)
        return bool(ready) and not os.read(sys.stdin.fileno(), 1024)
    except (OSError, ValueError):
        return True


def make_tenant(api_url: str) -> tuple[str, str, str]:
    name = f"e2e-{RUN_ID}"
    username, password = f"{name}-admin", secrets.token_urlsafe(12)
    token = login(api_url, "admin", "admin")
    response = httpx.post(
        f"{api_url}/api/v1/tenants",
        json={"name": name, "admin_username": username, "admin_password": password},
        headers={"Authorization": f"Bearer {token}"},
    )
    response.raise_for_status()
    return name, username, password


def wait_online(api_url: str, token: str, names: set[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    headers = {"Authorization": f"Bearer {token}"}
    while True:
        workers = httpx.get(f"{api_url}/api/v1/workers", headers=headers).json()
        if names <= {w["name"] for w in workers if w["status"] == "online"}:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"workers {names} not online after {timeout}s: {workers}")
        time.sleep(0.2)


def main() -> int:
    with contextlib.suppress(OSError, AttributeError):  # die with Playwright
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if not (FRONTEND / "dist" / "index.html").exists():
        log("frontend/dist is missing: run `npm run build` first")
        return 1

    db_name = f"jobrunner_e2e_{RUN_ID}"
    vhost = f"jobrunner-e2e-{RUN_ID}"
    with rabbitmq_server() as rabbitmq, mongodb_server() as mongodb_url:
        rabbitmq_url = rabbitmq.create_vhost(vhost)
        platform_gen = start_platform(rabbitmq_url, mongodb_url, db_name)
        try:
            platform = next(platform_gen)
            tenant, username, password = make_tenant(platform.api_url)
            token = login(platform.api_url, username, password)
            keys = []
            for key_name in ("e2e-worker", "e2e-spare"):
                response = httpx.post(
                    f"{platform.api_url}/api/v1/api-keys",
                    json={"name": key_name, "kind": "worker"},
                    headers={"Authorization": f"Bearer {token}"},
                )
                response.raise_for_status()
                keys.append(response.json()["key"])
            platform.start_worker(keys[0], name="e2e-worker", capacity=4, labels="e2e")
            platform.start_worker(keys[1], name="e2e-spare", capacity=2, labels="spare")
            wait_online(platform.api_url, token, {"e2e-worker", "e2e-spare"})
            port = free_port()
            preview = ManagedProcess(
                "dashboard",
                [str(FRONTEND / "node_modules/.bin/vite"), "preview", "--port", str(port),
                 "--strictPort", "--host", "127.0.0.1"],
                cwd=FRONTEND,
                env={"JOBRUNNER_API_URL": platform.api_url},
                ready_url=f"http://127.0.0.1:{port}/",
            )
            with preview:
                info = {
                    "baseURL": f"http://127.0.0.1:{port}",
                    "apiURL": platform.api_url,
                    "masterURL": platform.master_url,
                    "tenant": tenant,
                    "username": username,
                    "password": password,
                }
                print(json.dumps(info), flush=True)
                log(f"ready: dashboard {info['baseURL']}, API {platform.api_url}")
                while not stop.is_set() and not stdin_closed(0.5):
                    pass
                log("stopping")
        finally:
            platform_gen.close()  # stops the workers, the master and the API
            with contextlib.suppress(Exception):
                rabbitmq.delete_vhost(vhost)
            with contextlib.suppress(Exception), MongoClient(mongodb_url, serverSelectionTimeoutMS=5000) as client:
                client.drop_database(db_name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
