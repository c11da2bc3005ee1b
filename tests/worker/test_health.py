"""WORKER_HEALTH_PORT: /healthz follows the connection to a master; /metrics, what it does."""

import asyncio

import aiohttp
import pytest
from jobrunner_shared import names
from jobrunner_worker.health import HealthServer, WorkerMonitor
from jobrunner_worker.session import WorkerSession
from jobrunner_worker.settings import WorkerSettings
from prometheus_client.parser import text_string_to_metric_families

from tests.worker.conftest import free_port

GRACE = 1.0


@pytest.fixture
async def worker(master):
    """A session on the fake master, with its health server on a free port."""
    settings = WorkerSettings(
        master_url=master.url, api_key="good-key", worker_name="hw", worker_capacity=2,
        reconnect_delay=0.2, reconnect_delay_max=0.5, heartbeat_interval=0.2,
        log_flush_interval=0.02, kill_grace_seconds=1,
    )
    session = WorkerSession(settings, version="9.9")
    monitor = WorkerMonitor(session, grace_seconds=GRACE)
    port = free_port()
    server = HealthServer(monitor, "127.0.0.1", port)
    await server.start()
    task = asyncio.create_task(session.run())
    async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
        yield session, http
    session.stop_now()
    await asyncio.wait_for(task, 10)
    await server.stop()


async def get(http: aiohttp.ClientSession, path: str) -> tuple[int, object]:
    async with http.get(path) as response:
        body = await (response.json() if path == "/healthz" else response.text())
        return response.status, body


async def eventually(check, timeout: float = 10.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("not reached in time")
        await asyncio.sleep(0.05)


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def test_healthz_is_200_while_connected_and_503_once_disconnected_past_the_grace(
    master, master_factory, worker
):
    session, http = worker
    # Given a worker connected to its master
    await master.wait_for(lambda: master.sid)
    status, body = await eventually(lambda: get_if(http, lambda s, b: b["connected"]))
    assert status == 200 and body["status"] == "ok" and body["master"] == master.url

    # When the master goes away: still 200 within the grace, then 503
    port = master.port
    await master.stop()
    status, body = await eventually(lambda: get_if(http, lambda s, b: not b["connected"]))
    assert status == 200 and body["without_master_seconds"] <= GRACE
    status, body = await eventually(lambda: get_if(http, lambda s, b: s == 503), timeout=GRACE + 5)
    assert body["status"] == "unhealthy" and body["without_master_seconds"] >= GRACE

    # And once a master is back, healthy again
    back = await master_factory(port)
    await back.wait_for(lambda: back.sid, timeout=10)
    status, body = await eventually(lambda: get_if(http, lambda s, b: s == 200))
    assert body["connected"] is True


async def get_if(http, predicate):
    status, body = await get(http, "/healthz")
    return (status, body) if predicate(status, body) else None


async def test_a_worker_that_never_connects_turns_unhealthy_after_the_grace(port):
    settings = WorkerSettings(master_url=f"http://127.0.0.1:{port}", api_key="k",
                              reconnect_delay=0.2)
    now = [100.0]
    monitor = WorkerMonitor(WorkerSession(settings), grace_seconds=30, clock=lambda: now[0])
    assert monitor.health()[0] is True  # starting up
    now[0] += 31
    healthy, body = monitor.health()
    assert healthy is False and body["connected"] is False and body["without_master_seconds"] == 31


async def test_metrics_count_jobs_by_status_slots_running_reconnects_and_the_outbox(
    master, master_factory, worker
):
    session, http = worker
    await master.wait_for(lambda: master.sid)
    await master.assign(job_id="ok", command="true")
    await master.assign(job_id="bad", command="exit 3")
    await master.wait_for(lambda: len(master.reported(names.EV_JOB_FINISHED)) == 2)
    await master.assign(job_id="slow", command="sleep 30")
    await master.wait_for(lambda: any(e["job_id"] == "slow"
                                      for e in master.reported(names.EV_JOB_STARTED)))

    _, text = await get(http, "/metrics")
    found = samples(text)
    assert found[("jobrunner_worker_jobs_total", (("status", "succeeded"),))] == 1
    assert found[("jobrunner_worker_jobs_total", (("status", "failed"),))] == 1
    assert found[("jobrunner_worker_jobs_total", (("status", "timed_out"),))] == 0
    assert found[("jobrunner_worker_running", ())] == 1
    assert found[("jobrunner_worker_slots", ())] == 2
    assert found[("jobrunner_worker_connected", ())] == 1
    assert found[("jobrunner_worker_reconnects_total", ())] == 0
    assert ("process_cpu_seconds_total", ()) in found

    # When the master is away, what the worker reports waits in its outbox
    port = master.port
    await master.stop()
    await eventually(lambda: get_if(http, lambda s, b: not b["connected"]))
    session.attempts.cancel("slow", 1)
    await eventually(lambda: metric(http, "jobrunner_worker_outbox_entries", lambda v: v >= 1))
    assert await metric(http, "jobrunner_worker_outbox_bytes", lambda v: v > 100)
    assert await metric(http, "jobrunner_worker_connected", lambda v: v == 0)

    # And once back, the reconnect is counted and the outbox empties
    back = await master_factory(port)
    await back.wait_for(lambda: back.reported(names.EV_JOB_FINISHED), timeout=10)
    assert await eventually(lambda: metric(http, "jobrunner_worker_outbox_entries",
                                           lambda v: v == 0))
    assert await metric(http, "jobrunner_worker_reconnects_total", lambda v: v == 1)
    cancelled = ("jobrunner_worker_jobs_total", (("status", "cancelled"),))
    assert samples((await get(http, "/metrics"))[1])[cancelled] == 1


async def metric(http, name: str, predicate) -> bool:
    _, text = await get(http, "/metrics")
    return predicate(samples(text)[(name, ())])
