"""`jobrunner-worker` as a real process: settings errors, and SIGTERM = drain."""

import asyncio
import os
import signal
import subprocess
import sys

from jobrunner_shared import names

WORKER = [sys.executable, "-m", "jobrunner_worker.main"]


def worker_env(tmp_path, **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("API_KEY", "MASTER_URL")}
    env.update(extra)
    return env


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
        await master.wait_for(lambda: master.events(names.EV_JOB_STARTED))
        # When the worker is asked to stop while a job runs
        proc.send_signal(signal.SIGTERM)
        # Then it takes no new job, lets the running one finish and reports it, then exits
        await master.wait_for(lambda: any(h["draining"] for h in master.heartbeats))
        refused = await master.assign(job_id="late", command="true")
        assert refused["accepted"] is False
        assert await asyncio.wait_for(proc.wait(), 15) == 0
        finished = master.events(names.EV_JOB_FINISHED)
        assert [(f["job_id"], f["status"]) for f in finished] == [("j", "succeeded")]
        texts = [line["text"] for b in master.events(names.EV_JOB_LOG) for line in b["lines"]]
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
        await master.wait_for(lambda: master.events(names.EV_JOB_STARTED))
        proc.send_signal(signal.SIGTERM)
        await master.wait_for(lambda: any(h["draining"] for h in master.heartbeats))
        proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.wait(), 10) == 0
        finished = master.events(names.EV_JOB_FINISHED)
        assert [(f["job_id"], f["status"]) for f in finished] == [("slow", "cancelled")]
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
