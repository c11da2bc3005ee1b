"""Two API and two master processes on one RabbitMQ and one MongoDB; one of each SIGKILLed
mid-run: nothing is lost, nothing is done twice (SPEC §6.9).
"""

import asyncio
import json
import os
import signal
from pathlib import Path

import httpx
import pytest

from tests.support.platform import BIN, Tenant
from tests.support.ports import free_port
from tests.support.process import ManagedProcess

pytestmark = pytest.mark.e2e
JOBS = 24
LINES = 15


def service(name: str, command: str, env: dict[str, str]) -> ManagedProcess:
    port = free_port()
    return ManagedProcess(name, [str(BIN / command)], env={**env, "PORT": str(port)},
                          ready_url=f"http://127.0.0.1:{port}/readyz", ready_timeout=60).start()


def url(process: ManagedProcess) -> str:
    return f"http://127.0.0.1:{process.env['PORT']}"


async def follow_events(api_url: str, token: str, seen: dict[str, set[str]],
                        ready: asyncio.Event) -> None:
    """Every job state the /events stream of one API process sends, by job."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=f"{api_url}/api/v1", headers=headers) as client:
        async with client.stream("GET", "/events", timeout=None) as response:
            event = None
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event == "ready":
                    ready.set()
                elif line.startswith("data:") and event == "job":
                    job = json.loads(line[5:])
                    seen.setdefault(job["id"], set()).add(job["status"])


async def test_losing_an_api_and_a_master_mid_run_loses_and_repeats_nothing(
    platform, tenant: Tenant, start_worker, record_counts, tmp_path: Path
) -> None:
    # Given a second API beside the session's, two masters of this test's own, and four
    # workers split across the two masters, each knowing both
    second_api = service("api-2", "jobrunner-api", platform.env)
    masters = [service(f"master-{n}", "jobrunner-master", platform.env) for n in (1, 2)]
    feeds: list[asyncio.Task] = []
    try:
        first, second = (url(master) for master in masters)
        key = tenant.worker_key()
        for n in range(4):
            order = f"{first},{second}" if n % 2 else f"{second},{first}"
            start_worker(key, name=f"split-{n}", capacity=3, MASTER_URL=order)
        tenant.wait_workers_online(4)
        # And the surviving API's live feed open from the start
        seen: dict[str, set[str]] = {}
        ready = asyncio.Event()
        feed = asyncio.create_task(follow_events(platform.api_url, tenant.token, seen, ready))
        feeds.append(feed)
        await asyncio.wait_for(ready.wait(), 10)
        # When jobs are submitted to both APIs, each marking the end of each run of it
        jobs: list[str] = []
        async with httpx.AsyncClient(timeout=30) as client:
            for i in range(JOBS):
                api = platform.api_url if i % 2 else url(second_api)
                marker = tmp_path / f"ran-{i}"
                body = {"command": f'for n in $(seq 1 {LINES}); do echo "{i} $n"; sleep 0.1;'
                                   f' done; echo ended >> "{marker}"'}
                response = await client.post(f"{api}/api/v1/jobs", json=body,
                                             headers={"Authorization": f"Bearer {tenant.token}"})
                assert response.status_code == 201, response.text
                jobs.append(response.json()["id"])
        await asyncio.to_thread(tenant.wait_job, jobs[-1], lambda j: j["status"] == "running")
        # ... and, mid-run, the second API and the first master are SIGKILLed
        for lost in (second_api, masters[0]):
            os.kill(lost.pid, signal.SIGKILL)
        # Then every job ends once, in its first attempt (the workers of the lost master moved
        # to the other and kept their jobs), with every line stored once
        for job_id in jobs:
            done = await asyncio.to_thread(tenant.wait_final, job_id, 120)
            assert done["status"] == "succeeded", done
            assert len(done["attempts"]) == 1, done["attempts"]
        ran = [len((tmp_path / f"ran-{i}").read_text().splitlines()) for i in range(JOBS)]
        assert ran == [1] * JOBS, "an attempt ran to its end twice"
        record_counts("an API and a master SIGKILLed mid-run (of 2 each)", tenant, jobs,
                      JOBS * LINES)
        # And the surviving API's feed showed every job reach its end
        await asyncio.sleep(1)
        assert {job_id for job_id in jobs if "succeeded" in seen.get(job_id, ())} == set(jobs)
    finally:
        for feed in feeds:
            feed.cancel()
        for process in (second_api, *masters):
            process.stop()
