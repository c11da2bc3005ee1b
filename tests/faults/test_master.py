"""A master restart with jobs running: workers reconnect, nothing runs twice (issue 3)."""

import signal

import pytest

from tests.support.platform import BIN, Tenant
from tests.support.ports import free_port
from tests.support.process import ManagedProcess

pytestmark = pytest.mark.e2e


def test_a_master_restart_with_jobs_running_loses_and_repeats_nothing(
    platform, tenant: Tenant, start_worker, record_counts
) -> None:
    # Given a master of its own (the session's master stays untouched), two workers on it
    own_port = free_port()
    env = {**platform.env, "PORT": str(own_port)}
    ready = f"http://127.0.0.1:{own_port}/readyz"
    master = ManagedProcess("master-restarted", [str(BIN / "jobrunner-master")], env=env,
                            ready_url=ready, ready_timeout=60).start()
    try:
        key = tenant.worker_key()
        for n in range(2):
            start_worker(key, name=f"steady-{n}", capacity=2,
                         MASTER_URL=f"http://127.0.0.1:{own_port}")
        tenant.wait_workers_online(2)
        jobs = [tenant.submit(command=f"echo start {i}; sleep 3; echo end {i}")["id"]
                for i in range(4)]
        for job_id in jobs:
            tenant.wait_job(job_id, lambda j: j["status"] == "running")
        # When the master is killed and comes back
        master.proc.send_signal(signal.SIGKILL)
        master.proc.wait(10)
        master = ManagedProcess("master-restarted", [str(BIN / "jobrunner-master")], env=env,
                                ready_url=ready, ready_timeout=60).start()
        # Then every job ends once, in its first attempt, with all its output stored once
        for i, job_id in enumerate(jobs):
            done = tenant.wait_final(job_id, timeout=60)
            assert done["status"] == "succeeded", done
            assert len(done["attempts"]) == 1, done["attempts"]
            assert [ln["text"] for ln in tenant.all_lines(job_id)] == [f"start {i}", f"end {i}"]
        # And the workers are back, taking new work
        after = tenant.submit(command="echo after")
        assert tenant.wait_final(after["id"])["status"] == "succeeded"
        record_counts("a master restart with jobs running", tenant, [*jobs, after["id"]], 9)
    finally:
        master.stop()
