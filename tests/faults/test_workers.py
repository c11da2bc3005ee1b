"""Workers that die, hang or lie: no job is lost, none runs twice to completion (SPEC §6.2, §6.4).

The platform under test runs with the default lease (20 s), reconnect grace (5 s) and sweep
(1 s): the times asserted are the promises of SPEC §6.2 as users get them.
"""

import asyncio
import os
import signal
import time
import uuid

import pytest
import socketio

from jobrunner_shared import names
from tests.support.platform import Tenant

pytestmark = pytest.mark.e2e


def second_attempt_started(job: dict) -> bool:
    return job["attempt"] >= 2 and job["attempts"][1]["started_at"] is not None


def test_a_worker_killed_mid_job_loses_the_attempt_to_another_worker(
    tenant: Tenant, start_worker, record_counts
) -> None:
    # Given two workers, and a job running on the first
    key = tenant.worker_key()
    first = start_worker(key, name="doomed")
    tenant.wait_workers_online(1)
    job = tenant.submit(command="echo started; sleep 3; echo finished")
    tenant.wait_job(job["id"], lambda j: j["status"] == "running" and j["log_lines"] >= 1)
    start_worker(key, name="survivor")
    tenant.wait_workers_online(2)
    # When the first worker is SIGKILLed (its connection closes)
    os.kill(first.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    # Then within 10 s the job runs on the other worker, as a new attempt (SPEC §6.2)
    second = tenant.wait_job(job["id"], second_attempt_started, timeout=30)
    assert time.monotonic() - killed_at < 10
    assert second["attempts"][1]["worker_name"] == "survivor"
    done = tenant.wait_final(job["id"], timeout=30)
    assert done["status"] == "succeeded"
    assert done["worker_name"] == "survivor"
    first_attempt, last_attempt = done["attempts"]
    assert first_attempt["status"] == "failed" and first_attempt["error"] == "worker_lost"
    assert last_attempt["status"] == "succeeded"
    assert [ln["text"] for ln in tenant.all_lines(job["id"], attempt=2)] == ["started", "finished"]
    assert second["max_retries"] == 0  # a lost worker did not use up a retry
    record_counts("a worker SIGKILLed mid-job", tenant, [job["id"]], lines_printed=2)


def test_a_job_that_kills_its_worker_every_time_fails_as_worker_lost(
    tenant: Tenant, start_worker, record_counts
) -> None:
    key = tenant.worker_key()
    for n in range(3):
        start_worker(key, name=f"victim-{n}")
    tenant.wait_workers_online(3)
    # The job's shell is a child of the worker process: kill -9 $PPID kills the worker.
    job = tenant.submit(command="sleep 0.5; kill -9 $PPID; sleep 30")
    done = tenant.wait_final(job["id"], timeout=90)
    assert done["status"] == "failed"
    assert done["error"] == "worker_lost"
    assert [a["error"] for a in done["attempts"]] == ["worker_lost"] * 3
    assert len({a["worker"] for a in done["attempts"]}) == 3
    record_counts("a job that kills its worker on every attempt", tenant, [job["id"]], 0)


def test_a_worker_stopped_past_its_lease_is_told_to_kill_the_stale_attempt(
    tenant: Tenant, start_worker, record_counts
) -> None:
    # Given a job running on a worker that writes a marker file when it completes
    key = tenant.worker_key()
    sleepy = start_worker(key, name="sleepy")
    tenant.wait_workers_online(1)
    marker = f"/tmp/jobrunner-stale-{uuid.uuid4().hex}"
    # The first attempt sleeps well past the stop (a stopped sleep's time runs on), so that it
    # is still running when its worker resumes; the next attempt goes straight to the end.
    job = tenant.submit(command=f"echo go; if [ -e {marker}.first ]; then :; else "
                                f"touch {marker}.first; sleep 60; fi; echo done >> {marker}")
    tenant.wait_job(job["id"], lambda j: j["status"] == "running")
    start_worker(key, name="awake")
    tenant.wait_workers_online(2)
    # When the worker is stopped (its connection stays open, it falls silent), then resumed
    os.killpg(sleepy.pid, signal.SIGSTOP)
    stopped_at = time.monotonic()
    try:
        # Then within 30 s the job runs on the other worker (SPEC §6.2)
        tenant.wait_job(job["id"], second_attempt_started, timeout=45)
        assert time.monotonic() - stopped_at < 30
    finally:
        os.killpg(sleepy.pid, signal.SIGCONT)
    # Then attempt 2 runs to completion on the other worker, and the stale attempt is killed
    done = tenant.wait_final(job["id"], timeout=40)
    assert done["status"] == "succeeded" and done["worker_name"] == "awake"
    assert done["attempts"][0]["error"] == "worker_lost"
    time.sleep(3)
    with open(marker) as written:
        assert written.read() == "done\n", "the stale attempt ran to completion too"
    os.unlink(marker)
    os.unlink(f"{marker}.first")
    assert tenant.job(job["id"])["status"] == "succeeded"  # its late reports were ignored
    record_counts("a worker SIGSTOPped past its lease, then resumed", tenant, [job["id"]], 1)


async def test_a_job_past_its_timeout_with_no_report_is_timed_out_by_the_platform(
    platform, tenant: Tenant, record_counts
) -> None:
    # Given a worker that takes a job, starts it, beats, but never ends it
    cancels: asyncio.Queue[dict] = asyncio.Queue()
    running: list[dict] = []
    sio = socketio.AsyncClient(reconnection=False)

    async def on_assign(data: dict) -> dict:
        running.append({"job_id": data["job_id"], "attempt": data["attempt"]})
        await sio.emit(names.EV_JOB_STARTED, {"job_id": data["job_id"],
                                              "attempt": data["attempt"], "pid": 1},
                       namespace=names.WORKERS_NAMESPACE)
        return {"accepted": True}

    sio.on(names.EV_JOB_ASSIGN, on_assign, namespace=names.WORKERS_NAMESPACE)
    sio.on(names.EV_JOB_CANCEL, cancels.put, namespace=names.WORKERS_NAMESPACE)
    await sio.connect(platform.master_url, namespaces=[names.WORKERS_NAMESPACE],
                      auth={"api_key": tenant.worker_key(), "name": "liar", "capacity": 1})

    async def beat() -> None:
        while True:
            await sio.emit(names.EV_HEARTBEAT, {"running": running},
                           namespace=names.WORKERS_NAMESPACE)
            await asyncio.sleep(1)

    beater = asyncio.create_task(beat())
    try:
        job = tenant.submit(command="sleep 100", timeout_seconds=1)
        # Then after the timeout and the grace period it is timed out, and the worker told
        cancel = await asyncio.wait_for(cancels.get(), 30)
        assert cancel == {"job_id": job["id"], "attempt": 1}
        done = tenant.job(job["id"])
        assert done["status"] == "timed_out" and done["error"] == "timeout_backstop"
        record_counts("a job past its timeout whose worker never reports", tenant,
                      [job["id"]], 0)
    finally:
        beater.cancel()
        await sio.disconnect()
