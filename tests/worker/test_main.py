"""`jobrunner-worker` as a real process: --help, settings errors, health, refusals, SIGTERM."""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request

from jobrunner_shared import names
from jobrunner_worker.settings import WorkerSettings

from tests.worker.conftest import free_port

WORKER = [sys.executable, "-m", "jobrunner_worker.main"]


def worker_env(tmp_path, **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("API_KEY", "MASTER_URL")}
    env.update(extra)
    return env


def test_help_lists_every_setting_with_nothing_set(tmp_path):
    # Given an environment with nothing of the worker's (no API_KEY, no .env)
    result = subprocess.run([*WORKER, "--help"], env={"PATH": "/usr/bin:/bin"}, cwd=tmp_path,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for name in [*(field.upper() for field in WorkerSettings.model_fields), "LOG_LEVEL",
                 "LOG_FORMAT"]:
        assert f"\n  {name}\n" in out, name
    assert "MASTER_URL\n      the master as this host reaches it" in out
    assert "(default: http://localhost:8080)" in out and "(default: the host name)" in out
    assert "(required)" in out and "WORKER_HEALTH_GRACE_SECONDS" in out
    assert result.stderr == ""


def test_version_with_nothing_set(tmp_path):
    result = subprocess.run([*WORKER, "--version"], env={"PATH": "/usr/bin:/bin"}, cwd=tmp_path,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and result.stdout.startswith("jobrunner-worker ")


def test_an_unknown_argument_is_a_usage_error(tmp_path):
    result = subprocess.run([*WORKER, "--bogus"], env=worker_env(tmp_path), cwd=tmp_path,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "unrecognized arguments: --bogus" in result.stderr


def test_missing_api_key_is_reported_clearly(tmp_path):
    result = subprocess.run(WORKER, env=worker_env(tmp_path), cwd=tmp_path, capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 2
    assert "API_KEY is required" in result.stderr and "Traceback" not in result.stderr


async def test_sigterm_drains_running_jobs_then_exits(master, tmp_path):
    env = worker_env(tmp_path, API_KEY="good-key", MASTER_URL=master.url, WORKER_NAME="proc-w",
                     LOG_FLUSH_INTERVAL="0.02")
    proc = await asyncio.create_subprocess_exec(*WORKER, env=env, cwd=tmp_path,
                                                stderr=asyncio.subprocess.PIPE)
    try:
        await master.wait_for(lambda: master.sid, timeout=10)
        assert master.connects[-1][1]["name"] == "proc-w"
        await master.assign(job_id="j", command="sleep 0.5; echo finished-well")
        await master.wait_for(lambda: master.reported(names.EV_JOB_STARTED))
        # When the worker is asked to stop while a job runs
        proc.send_signal(signal.SIGTERM)
        # Then it takes no new job, lets the running one finish and reports it, then exits
        await master.wait_for(lambda: any(h["draining"] for h in master.heartbeats))
        refused = await master.assign(job_id="late", command="true")
        assert refused["accepted"] is False
        assert await asyncio.wait_for(proc.wait(), 15) == 0
        finished = master.reported(names.EV_JOB_FINISHED)
        assert [(f["job_id"], f["status"]) for f in finished] == [("j", "succeeded")]
        texts = [line["text"] for b in master.reported(names.EV_JOB_LOG) for line in b["lines"]]
        assert texts == ["finished-well"]
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await proc.stderr.read()


async def test_second_signal_cancels_running_jobs(master, tmp_path):
    env = worker_env(tmp_path, API_KEY="good-key", MASTER_URL=master.url, KILL_GRACE_SECONDS="1")
    proc = await asyncio.create_subprocess_exec(*WORKER, env=env, cwd=tmp_path,
                                                stderr=asyncio.subprocess.DEVNULL)
    try:
        await master.wait_for(lambda: master.sid, timeout=10)
        await master.assign(job_id="slow", command="sleep 60")
        await master.wait_for(lambda: master.reported(names.EV_JOB_STARTED))
        proc.send_signal(signal.SIGTERM)
        await master.wait_for(lambda: any(h["draining"] for h in master.heartbeats))
        proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.wait(), 10) == 0
        finished = master.reported(names.EV_JOB_FINISHED)
        assert [(f["job_id"], f["status"]) for f in finished] == [("slow", "cancelled")]
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_a_refused_key_ends_the_process_with_status_3_and_the_reason(master, tmp_path):
    env = worker_env(tmp_path, API_KEY="revoked-key", MASTER_URL=master.url,
                     WORKER_MAX_REFUSALS="2", RECONNECT_DELAY="0.2")
    proc = await asyncio.create_subprocess_exec(*WORKER, env=env, cwd=tmp_path,
                                                stderr=asyncio.subprocess.PIPE)
    try:
        assert await asyncio.wait_for(proc.wait(), 15) == 3
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    err = (await proc.stderr.read()).decode()
    assert err.splitlines()[-1] == (
        f"jobrunner-worker: {master.url} refused the key 2 times in a row: invalid api key")
    assert len(master.connects) == 2


async def test_health_port_serves_healthz_and_metrics_and_healthcheck_asks_it(master, tmp_path):
    port = free_port()
    env = worker_env(tmp_path, API_KEY="good-key", MASTER_URL=master.url,
                     WORKER_HEALTH_PORT=str(port), WORKER_HEALTH_HOST="127.0.0.1")
    proc = await asyncio.create_subprocess_exec(*WORKER, env=env, cwd=tmp_path,
                                                stderr=asyncio.subprocess.DEVNULL)
    try:
        await master.wait_for(lambda: master.sid, timeout=10)

        def healthz() -> dict:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                return json.loads(r.read())

        body = await asyncio.to_thread(healthz)
        assert body["status"] == "ok"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            assert "jobrunner_worker_slots 1.0" in response.read().decode()

        # --healthcheck (the container HEALTHCHECK) asks the same endpoint: exit 0 while healthy
        check = await asyncio.create_subprocess_exec(
            *WORKER, "--healthcheck", env=env, cwd=tmp_path, stdout=asyncio.subprocess.PIPE)
        out, _ = await check.communicate()
        assert check.returncode == 0 and json.loads(out)["connected"] is True
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 15) == 0


def test_healthcheck_is_unhealthy_when_no_worker_answers(tmp_path):
    env = worker_env(tmp_path, WORKER_HEALTH_PORT=str(free_port()))
    result = subprocess.run([*WORKER, "--healthcheck"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1 and "/healthz" in result.stderr


def test_a_health_port_in_use_is_a_clear_error(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = worker_env(tmp_path, API_KEY="k", MASTER_URL="http://127.0.0.1:9",
                         WORKER_HEALTH_PORT=str(port), WORKER_HEALTH_HOST="127.0.0.1")
        result = subprocess.run(WORKER, env=env, cwd=tmp_path, capture_output=True, text=True,
                                timeout=30)
    assert result.returncode == 2
    assert f"cannot serve health on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr
