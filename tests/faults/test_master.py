"""A master restart with jobs running: workers reconnect, nothing runs twice (issue 3), not
even a job given out but not yet reported when the master went."""

import signal
import time
from collections.abc import Callable

import pytest

from tests.support.platform import BIN, Tenant
from tests.support.ports import free_port
from tests.support.process import ManagedProcess

pytestmark = pytest.mark.e2e


def own_master(platform, name: str) -> tuple[Callable[[], ManagedProcess], int]:  # noqa: ANN001
    """A master of the test's own on a free port (the session's master stays untouched): what
    starts it, again after a kill, and its port."""
    port = free_port()
    env = {**platform.env, "PORT": str(port)}

    def start() -> ManagedProcess:
        return ManagedProcess(name, [str(BIN / "jobrunner-master")], env=env,
                              ready_url=f"http://127.0.0.1:{port}/readyz", ready_timeout=60).start()

    return start, port


def test_a_master_restart_with_jobs_running_loses_and_repeats_nothing(
    platform, tenant: Tenant, start_worker, record_counts
) -> None:
    # Given a master of its own, two workers on it
    start_master, own_port = own_master(platform, "master-restarted")
    master = start_master()
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
        master = start_master()
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


def test_a_master_lost_while_a_job_it_gave_out_runs_unreported_runs_it_once(
    platform, tenant: Tenant, start_worker, tmp_path
) -> None:
    # Given a master of its own and two workers on it that report a start only at the job's
    # end (a start held 10 s: a 3 s job is reported as one job:ran), one of them running a job
    start_master, own_port = own_master(platform, "master-lost")
    master = start_master()
    runs = tmp_path / "runs"
    try:
        key = tenant.worker_key()
        for n in range(2):
            # Reconnecting at once, as to a second master of MASTER_URL it would
            start_worker(key, name=f"holding-{n}", capacity=1, WORKER_START_LINGER_SECONDS="10",
                         MASTER_URL=f"http://127.0.0.1:{own_port}", RECONNECT_DELAY_MAX="1")
        tenant.wait_workers_online(2)
        job = tenant.submit(command=f"echo $$ >> {runs}; sleep 3; echo done")
        deadline = time.monotonic() + 30
        while not (runs.exists() and runs.read_text()):
            assert time.monotonic() < deadline, "the job did not start"
            time.sleep(0.02)
        # When the master is killed at once, before anything of the job is in RabbitMQ (its
        # delivery unacknowledged: the `assigned` fallback comes only after a second)
        master.proc.send_signal(signal.SIGKILL)
        master.proc.wait(10)
        master = start_master()
        # Then the job ends once, in its first attempt
        done = tenant.wait_final(job["id"], timeout=60)
        assert done["status"] == "succeeded" and len(done["attempts"]) == 1, done
        time.sleep(7)  # its delivery came back with the master's loss: settled, then dropped
        assert len(runs.read_text().splitlines()) == 1, "the job ran twice"
        # And both workers take new work again
        after = [tenant.submit(command="echo after")["id"] for _ in range(2)]
        assert [tenant.wait_final(job_id)["status"] for job_id in after] == ["succeeded"] * 2
    finally:
        master.stop()
