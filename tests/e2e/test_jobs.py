"""End to end: the API, the master and real worker processes run real commands."""

import os
import time
import uuid
from datetime import datetime
from pathlib import Path

import pytest

from tests.support.metrics import scrape, value
from tests.support.platform import Tenant, sse_events

pytestmark = pytest.mark.e2e
# A master hears every cancel from a moment after its start, and vouches for attempts queued
# from the clocks' slack after that (jobrunner_master/revocations.py): within this, here.
MASTER_HEARS_CANCELS_AFTER = 10.0


def test_a_failing_job_goes_queued_running_failed_with_its_output(tenant: Tenant,
                                                                    start_worker) -> None:
    # Given a worker of capacity 4
    start_worker(tenant.worker_key(), capacity=4)
    tenant.wait_workers_online(1)
    # When a job that writes to both streams and exits 3 is submitted
    job = tenant.submit(command="echo hello; echo oops >&2; exit 3")
    assert job["status"] == "queued"
    assert job["attempts"][0]["number"] == 1
    # Then it fails with exit code 3 after having run on that worker
    done = tenant.wait_final(job["id"])
    assert done["status"] == "failed"
    assert done["exit_code"] == 3
    attempt = done["attempts"][0]
    assert attempt["status"] == "failed" and attempt["worker_name"] == "worker-1"
    assert attempt["started_at"] is not None and attempt["finished_at"] is not None
    # And its log holds both lines, numbered from 1 in order
    lines = tenant.all_lines(job["id"])
    assert [(ln["seq"], ln["stream"], ln["text"]) for ln in lines] == [
        (1, "stdout", "hello"),
        (2, "stderr", "oops"),
    ]
    with tenant.client() as client:
        page = client.get(f"/jobs/{job['id']}/logs", params={"after": 1}).json()
        assert [ln["seq"] for ln in page["lines"]] == [2]
        assert page["complete"] is True
        download = client.get(f"/jobs/{job['id']}/logs/download")
        assert download.text == "hello\noops\n"
        # And a rerun is a new job of the same command
        rerun = client.post(f"/jobs/{job['id']}/rerun")
    assert rerun.status_code == 201
    assert rerun.json()["id"] != job["id"] and rerun.json()["rerun_of"] == job["id"]
    assert rerun.json()["command"] == job["command"]
    assert tenant.wait_final(rerun.json()["id"])["exit_code"] == 3


def test_an_argv_job_runs_without_a_shell(tenant: Tenant, start_worker) -> None:
    start_worker(tenant.worker_key())
    job = tenant.submit(argv=["echo", "$HOME", "a  b"], env={"X": "1"})
    assert tenant.wait_final(job["id"])["status"] == "succeeded"
    assert [ln["text"] for ln in tenant.all_lines(job["id"])] == ["$HOME a  b"]


async def test_a_running_jobs_log_arrives_live_over_sse(tenant: Tenant, start_worker) -> None:
    start_worker(tenant.worker_key())
    job = tenant.submit(command="for i in 1 2 3 4 5; do echo line $i; sleep 0.4; done")
    received: list[dict] = []
    end = None
    async with tenant.aclient() as client:
        async with sse_events(client, f"/jobs/{job['id']}/logs/stream") as events:
            async for event, event_id, data in events:
                if event == "log":
                    received.extend(data["lines"])
                    assert event_id == str(data["lines"][-1]["seq"])
                    if len(received) == 1:
                        # Followed live: the first line is here while the job still runs.
                        assert tenant.job(job["id"])["status"] == "running"
                elif event == "end":
                    end = data
                    break
    assert [ln["text"] for ln in received] == [f"line {i}" for i in range(1, 6)]
    assert end == {"status": "succeeded", "exit_code": 0}


async def test_the_stream_resumes_after_last_event_id(tenant: Tenant, start_worker) -> None:
    start_worker(tenant.worker_key())
    job = tenant.submit(command="seq 1 50")
    tenant.wait_final(job["id"])
    async with tenant.aclient(headers={"Last-Event-ID": "45"}) as client:
        async with sse_events(client, f"/jobs/{job['id']}/logs/stream") as events:
            texts = []
            async for event, _, data in events:
                if event == "end":
                    break
                texts.extend(line["text"] for line in data["lines"])
    assert texts == ["46", "47", "48", "49", "50"]


def test_a_100000_line_job_stores_every_line_once_in_order(tenant: Tenant, start_worker) -> None:
    start_worker(tenant.worker_key())
    job = tenant.submit(command="seq 1 100000; echo done >&2")
    done = tenant.wait_final(job["id"], timeout=120)
    assert done["status"] == "succeeded"
    lines = tenant.all_lines(job["id"])
    assert len(lines) == 100001
    assert [ln["seq"] for ln in lines] == list(range(1, 100002))
    assert [ln["text"] for ln in lines[:-1]] == [str(i) for i in range(1, 100001)]
    assert lines[-1] == {**lines[-1], "stream": "stderr", "text": "done"}
    assert tenant.job(job["id"])["log_lines"] == 100001


def _max_overlap(attempts: list[dict]) -> int:
    points = []
    for a in attempts:
        points.append((datetime.fromisoformat(a["started_at"]), 1))
        points.append((datetime.fromisoformat(a["finished_at"]), -1))
    running = peak = 0
    for _, step in sorted(points, key=lambda p: (p[0], p[1])):
        running += step
        peak = max(peak, running)
    return peak


def test_labels_pick_the_worker_and_capacity_is_never_exceeded(tenant: Tenant,
                                                               start_worker) -> None:
    # Given a plain worker of capacity 1 and a gpu worker of capacity 2
    key = tenant.worker_key()
    start_worker(key, name="plain", capacity=1)
    start_worker(key, name="gpu-box", labels="gpu,linux", capacity=2)
    tenant.wait_workers_online(2)
    # When six gpu jobs and three plain ones are submitted
    gpu = [tenant.submit(command="sleep 0.5", labels=["gpu"]) for _ in range(6)]
    plain = [tenant.submit(command="sleep 0.3") for _ in range(3)]
    # Then every gpu job ran on the gpu worker, never more than two at once
    done = [tenant.wait_final(j["id"]) for j in gpu]
    assert {d["worker_name"] for d in done} == {"gpu-box"}
    assert all(d["status"] == "succeeded" for d in done)
    assert _max_overlap([d["attempts"][0] for d in done]) <= 2
    plain_done = [tenant.wait_final(j["id"]) for j in plain]
    assert all(d["status"] == "succeeded" for d in plain_done)
    plain_on_plain = [d["attempts"][0] for d in plain_done if d["worker_name"] == "plain"]
    assert _max_overlap(plain_on_plain) <= 1


def test_a_job_whose_labels_no_worker_has_waits_queued(tenant: Tenant, start_worker) -> None:
    start_worker(tenant.worker_key(), labels="linux")
    tenant.wait_workers_online(1)
    job = tenant.submit(command="true", labels=["linux", "arm64"])
    ok = tenant.submit(command="true", labels=["linux"])
    assert tenant.wait_final(ok["id"])["status"] == "succeeded"
    assert tenant.job(job["id"])["status"] == "queued"


def test_workers_are_listed_with_their_state(tenant: Tenant, start_worker) -> None:
    worker = start_worker(tenant.worker_key(), name="lister", labels="a,b", capacity=3)
    [listed] = tenant.wait_workers_online(1)
    assert listed["name"] == "lister"
    assert listed["labels"] == ["a", "b"]
    assert listed["capacity"] == 3
    assert listed["running"] == 0
    assert listed["last_heartbeat"] is not None
    # When the worker stops, it is shown offline (at once on its disconnect; at the latest when
    # its heartbeats are WORKER_OFFLINE_AFTER_SECONDS old)
    worker.stop()
    deadline = time.monotonic() + 25
    while tenant.workers()[0]["status"] != "offline":
        assert time.monotonic() < deadline, tenant.workers()
        time.sleep(0.1)


def test_jobs_are_listed_newest_first_with_cursor_pages(tenant: Tenant) -> None:
    ids = [tenant.submit(command=f"echo {i}", labels=["nobody-has-this"])["id"] for i in range(5)]
    seen: list[str] = []
    cursor = None
    with tenant.client() as client:
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = client.get("/jobs", params=params).json()
            seen.extend(item["id"] for item in page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == list(reversed(ids))
        queued = client.get("/jobs", params={"status": "queued"}).json()["items"]
        assert len(queued) == 5 and all(j["status"] == "queued" for j in queued)
        assert client.get("/jobs", params={"status": "succeeded"}).json()["items"] == []
        by_label = client.get("/jobs", params={"label": "nobody-has-this"}).json()["items"]
        assert len(by_label) == 5


def test_search_finds_jobs_by_name_command_or_argv_in_any_case(tenant: Tenant) -> None:
    labels = ["nobody-has-this"]
    named = tenant.submit(name="Nightly Backup", command="true", labels=labels)["id"]
    shell = tenant.submit(command="pg_dump --db=(orders)", labels=labels)["id"]
    argv = tenant.submit(argv=["rsync", "BACKUP-dir"], labels=labels)["id"]
    tenant.submit(command="echo unrelated", labels=labels)
    with tenant.client() as client:
        def found(**params: str) -> set[str]:
            response = client.get("/jobs", params=params)
            assert response.status_code == 200, response.text
            return {item["id"] for item in response.json()["items"]}

        assert found(q="backup") == {named, argv}
        assert found(q="nightly backup") == {named}
        assert found(q="(ORDERS)") == {shell}  # text, not a pattern
        assert found(q="backup", status="queued", label="nobody-has-this") == {named, argv}
        assert found(q="backup", status="succeeded") == set()
        assert client.get("/jobs", params={"q": "x" * 201}).status_code == 422


def test_cancel_stops_a_running_job_and_its_children(tenant: Tenant, start_worker) -> None:
    start_worker(tenant.worker_key(), labels="spare", capacity=1)
    job = tenant.submit(command="sleep 300 & echo child $!; wait")
    tenant.wait_job(job["id"], lambda j: j["status"] == "running" and j["log_lines"] >= 1)
    with tenant.client() as client:
        response = client.post(f"/jobs/{job['id']}/cancel")
    assert response.status_code == 202
    done = tenant.wait_final(job["id"], timeout=30)
    assert done["status"] == "cancelled"
    child = int(tenant.all_lines(job["id"])[0]["text"].split()[1])
    assert not alive(child)
    # And the freed slot takes the next job
    following = tenant.submit(command="echo next", labels=["spare"])
    assert tenant.wait_final(following["id"], timeout=20)["status"] == "succeeded"


def alive(pid: int) -> bool:
    """Running, as opposed to gone or a zombie (this machine's PID 1 does not reap orphans)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_cancelled_queued_job_never_starts(tenant: Tenant, start_worker, tmp_path: Path
                                            ) -> None:
    # Given a job queued while the master hears every cancel (its delivery is then checked
    # against the cancels it heard, not read: revocations.py), cancelled before any worker
    master = tenant.platform.master_url
    started = value(scrape(master), "process_start_time_seconds")
    time.sleep(max(0.0, started + MASTER_HEARS_CANCELS_AFTER - time.time()))
    vouched = value(scrape(master), "jobrunner_dispatch_checks_total", by="revocations")
    ran = tmp_path / "ran"
    job = tenant.submit(command=f"touch {ran}", labels=["later"])
    with tenant.client() as client:
        assert client.post(f"/jobs/{job['id']}/cancel").status_code == 202
    assert tenant.wait_final(job["id"])["status"] == "cancelled"
    # When a worker that could run it arrives, it still never starts
    start_worker(tenant.worker_key(), labels="later")
    tenant.wait_workers_online(1)
    probe = tenant.submit(command="true", labels=["later"])
    tenant.wait_final(probe["id"])  # the worker took what was queued before it, in order
    again = tenant.job(job["id"])
    assert again["status"] == "cancelled" and again["attempts"][0]["started_at"] is None
    assert not ran.exists()
    # (and the master decided both without reading them)
    assert value(scrape(master), "jobrunner_dispatch_checks_total", by="revocations") \
        == vouched + 2


def test_a_failed_job_is_retried_after_its_backoff_doubling_each_time(
    tenant: Tenant, start_worker
) -> None:
    start_worker(tenant.worker_key(), name="flaky")
    tenant.wait_workers_online(1)
    # Given a job that fails twice, then succeeds, with a 2 s backoff
    marker = f"/tmp/jobrunner-backoff-{uuid.uuid4().hex}"
    job = tenant.submit(
        command=f'echo x >> {marker}; [ "$(wc -l < {marker})" -ge 3 ]',
        max_retries=2, retry_backoff_seconds=2, retry_backoff_max_seconds=60)
    # While the first retry waits, the job says when it runs
    waiting = tenant.wait_job(job["id"], lambda j: j["attempt"] == 2)
    assert waiting["status"] == "queued" and waiting["attempts"][1]["not_before"]
    done = tenant.wait_final(job["id"], timeout=60)
    os.unlink(marker)
    assert done["status"] == "succeeded" and len(done["attempts"]) == 3
    # Then each retry started after its backoff: 1-2 s after the first failure, 2-4 s after
    # the second (half to all of 2 s, then of 4 s), never at once
    ends = [datetime.fromisoformat(a["finished_at"]) for a in done["attempts"][:2]]
    starts = [datetime.fromisoformat(a["started_at"]) for a in done["attempts"][1:]]
    waits = [(start - end).total_seconds() for start, end in zip(starts, ends)]
    assert 1 <= waits[0] <= 2 + 2, waits  # + the sweeper's second and a loaded machine
    assert 2 <= waits[1] <= 4 + 2, waits
