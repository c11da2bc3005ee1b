"""The worker's Socket.IO session against a fake master (a real python-socketio server)."""

import asyncio

import pytest
from jobrunner_shared import names
from jobrunner_worker.session import WorkerSession
from jobrunner_worker.settings import WorkerSettings

from tests.worker.conftest import free_port


@pytest.fixture
async def start_worker():
    """Factory: a running WorkerSession; drained and awaited at the end of the test."""
    running: list[tuple[WorkerSession, asyncio.Task]] = []

    async def start(url: str, **overrides) -> WorkerSession:
        values = dict(
            master_url=url, api_key="good-key", worker_name="w1", worker_capacity=1,
            reconnect_delay=0.2, reconnect_delay_max=2, heartbeat_interval=0.2,
            log_flush_interval=0.02, kill_grace_seconds=1, ack_timeout=5,
        )
        values.update(overrides)
        session = WorkerSession(WorkerSettings(**values), version="9.9")
        running.append((session, asyncio.create_task(session.run())))
        return session

    yield start
    for session, task in running:
        session.stop_now()
        await asyncio.wait_for(task, 10)


def seqs(batches: list[dict]) -> list[int]:
    return [line["seq"] for batch in batches for line in batch["lines"]]


async def test_bad_key_is_retried_with_growing_delays_not_in_a_tight_loop(master, start_worker):
    await start_worker(master.url, api_key="wrong-key", worker_max_refusals=0)  # never give up
    await asyncio.sleep(3)
    times = [t for t, _ in master.connects]
    # 0.2 s doubling: about 4 tries in 3 s; a tight loop would make hundreds
    assert 3 <= len(times) <= 7
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert gaps[2] > 2 * gaps[0]


async def test_auth_carries_the_worker_identity(master, start_worker):
    session = await start_worker(master.url, worker_labels="linux,gpu", worker_capacity=3)
    await master.wait_for(lambda: master.sid)
    auth = master.connects[-1][1]
    assert auth["api_key"] == "good-key" and auth["name"] == "w1"
    assert auth["labels"] == ["gpu", "linux"] and auth["capacity"] == 3
    assert auth["version"] == "9.9" and auth["worker_id"] == session.worker_id


async def test_assigned_job_is_reported_started_logs_finished(master, start_worker):
    await start_worker(master.url)
    await master.wait_for(lambda: master.sid)
    ack = await master.assign(
        job_id="j1", command="echo one; echo two >&2; echo $TOKEN; exit 4",
        env={"TOKEN": "tok-123"}, mask=["tok-123"],
    )
    assert ack == {"accepted": True, "reason": None}
    await master.wait_for(lambda: master.reported(names.EV_JOB_FINISHED))
    kinds = [event for event, _ in master.story()]
    assert kinds[0] == names.EV_JOB_STARTED and kinds[-1] == names.EV_JOB_FINISHED
    assert master.reported(names.EV_JOB_STARTED)[0]["pid"] > 0
    lines = [line for batch in master.reported(names.EV_JOB_LOG) for line in batch["lines"]]
    assert sorted(line["seq"] for line in lines) == [1, 2, 3]
    by_stream = {(line["stream"], line["text"]) for line in lines}
    assert by_stream == {("stdout", "one"), ("stderr", "two"), ("stdout", "***")}
    finished = master.reported(names.EV_JOB_FINISHED)[0]
    assert finished["job_id"] == "j1" and finished["status"] == "failed"
    assert finished["exit_code"] == 4 and finished["last_seq"] == 3
    await master.wait_for(lambda: master.heartbeats)


async def test_unacknowledged_log_is_resent_identically_after_reconnect(master, start_worker):
    await start_worker(master.url)
    await master.wait_for(lambda: master.sid)
    master.hold_first_log = True
    await master.assign(job_id="j2", command="for i in 1 2 3 4 5; do echo line$i; sleep 0.05; done")
    await master.wait_for(lambda: master.events(names.EV_JOB_FINISHED), timeout=10)
    # the worker had to reconnect (a second successful connection)
    assert len(master.connects) >= 2
    batches = master.events(names.EV_JOB_LOG)
    first = batches[0]
    assert batches.count(first) == 2  # the dropped batch arrived again, byte for byte
    assert sorted(set(seqs(batches))) == [1, 2, 3, 4, 5]
    # the finished event comes after every batch (it waits for their acks)
    assert master.received[-1][0] == names.EV_JOB_FINISHED


async def test_capacity_is_never_exceeded_and_duplicates_run_once(master, start_worker):
    await start_worker(master.url, worker_capacity=2)
    await master.wait_for(lambda: master.sid)
    assert (await master.assign(job_id="a", command="sleep 5"))["accepted"] is True
    assert (await master.assign(job_id="b", command="sleep 5"))["accepted"] is True
    extra = await master.assign(job_id="c", command="echo never")
    assert extra["accepted"] is False and "slot" in extra["reason"]
    # the same attempt assigned again while it runs is accepted but not run twice
    assert (await master.assign(job_id="a", command="sleep 5"))["accepted"] is True
    await master.wait_for(lambda: len(master.reported(names.EV_JOB_STARTED)) == 2)
    await asyncio.sleep(0.3)
    assert sorted(e["job_id"] for e in master.reported(names.EV_JOB_STARTED)) == ["a", "b"]
    await master.wait_for(lambda: any(len(h["running"]) == 2 for h in master.heartbeats))

    # cancel reaches only the attempt it names
    await master.sio.emit(names.EV_JOB_CANCEL, {"job_id": "a", "attempt": 1}, to=master.sid, namespace=names.WORKERS_NAMESPACE)
    await master.wait_for(lambda: master.reported(names.EV_JOB_FINISHED))
    finished = master.reported(names.EV_JOB_FINISHED)
    assert [(f["job_id"], f["status"]) for f in finished] == [("a", "cancelled")]
    # a slot is free again
    assert (await master.assign(job_id="d", command="true"))["accepted"] is True


async def test_drain_finishes_running_jobs_refuses_new_ones_then_exits(master):
    settings = WorkerSettings(master_url=master.url, api_key="good-key", reconnect_delay=0.2, log_flush_interval=0.02)
    session = WorkerSession(settings)
    task = asyncio.create_task(session.run())
    await master.wait_for(lambda: master.sid)
    await master.assign(job_id="long", command="sleep 0.5; echo done")
    await master.sio.emit(names.EV_WORKER_DRAIN, {}, to=master.sid, namespace=names.WORKERS_NAMESPACE)
    await master.wait_for(lambda: any(h["draining"] for h in master.heartbeats))
    refused = await master.assign(job_id="new", command="true")
    assert refused["accepted"] is False and "draining" in refused["reason"]
    await asyncio.wait_for(task, 10)  # the worker exits by itself
    finished = master.reported(names.EV_JOB_FINISHED)
    assert [(f["job_id"], f["status"]) for f in finished] == [("long", "succeeded")]


async def test_first_connect_is_retried_until_the_master_is_up(start_worker, master_factory, port):
    await start_worker(f"http://127.0.0.1:{port}")
    await asyncio.sleep(0.8)  # nobody listens yet
    late = await master_factory(port)
    await late.wait_for(lambda: late.sid, timeout=6)


@pytest.mark.parametrize("linger", [2, 0])
async def test_a_command_that_cannot_start_is_reported_in_order(master, start_worker, linger):
    await start_worker(master.url, worker_start_linger_seconds=linger)
    await master.wait_for(lambda: master.sid)
    await master.assign(job_id="nf", argv=["/nonexistent/tool", "--x"])
    await master.wait_for(lambda: master.reported(names.EV_JOB_FINISHED))
    assert [event for event, _ in master.story()] == [
        names.EV_JOB_STARTED, names.EV_JOB_LOG, names.EV_JOB_FINISHED,
    ]
    # in one job:ran (no time spent), or the classic way when coalescing is off
    wire = [event for event, _ in master.received]
    if linger:
        assert wire == [names.EV_JOB_RAN]
        assert master.events(names.EV_JOB_RAN)[0]["duration_seconds"] == 0
    else:
        assert wire == [names.EV_JOB_STARTED, names.EV_JOB_LOG, names.EV_JOB_FINISHED]
    assert master.reported(names.EV_JOB_STARTED)[0]["pid"] is None
    assert "/nonexistent/tool" in master.reported(names.EV_JOB_LOG)[0]["lines"][0]["text"]
    finished = master.reported(names.EV_JOB_FINISHED)[0]
    assert (finished["status"], finished["exit_code"]) == ("failed", 127)


async def test_100k_lines_reach_the_master_complete_and_in_order(master, start_worker):
    await start_worker(master.url)
    await master.wait_for(lambda: master.sid)
    await master.assign(job_id="big", argv=["seq", "1", "100000"])
    await master.wait_for(lambda: master.reported(names.EV_JOB_FINISHED), timeout=20)
    batches = master.reported(names.EV_JOB_LOG)
    assert all(len(b["lines"]) <= 1000 for b in batches)
    lines = sorted((line for b in batches for line in b["lines"]), key=lambda x: x["seq"])
    assert [line["seq"] for line in lines] == list(range(1, 100001))
    assert [line["text"] for line in lines] == [str(i) for i in range(1, 100001)]


async def test_masters_are_tried_in_turn_and_a_lost_one_is_left_for_the_next(
    master_factory, start_worker
):
    # Given two masters in MASTER_URL, the first of which is not up
    dead_port = free_port()
    second = await master_factory()
    session = await start_worker(f"http://127.0.0.1:{dead_port},{second.url}")
    # Then the worker connects to the second at once (no backoff for one refused master)
    await second.wait_for(lambda: second.sid, timeout=5)
    assert session.master_url == second.url
    # When the first comes up and the second goes away
    first = await master_factory(dead_port)
    await second.stop()
    # Then the worker is on the first within moments, and heartbeats there
    await first.wait_for(lambda: first.sid and first.heartbeats, timeout=10)
    assert session.master_url == first.url


async def test_a_key_refused_max_refusals_times_in_a_row_ends_the_worker_with_the_reason(master):
    # Given a key the master refuses, and WORKER_MAX_REFUSALS=3
    settings = WorkerSettings(master_url=master.url, api_key="wrong-key", reconnect_delay=0.2,
                              worker_max_refusals=3)
    session = WorkerSession(settings)
    # Then the worker stops by itself after the third refusal, saying why
    await asyncio.wait_for(session.run(), 10)
    assert len(master.connects) == 3
    assert session.refused == f"{master.url} refused the key 3 times in a row: invalid api key"


async def test_only_refusals_in_a_row_count(master, start_worker, port):
    # Given a worker whose first master is down (unreachable: not a refusal) and a second that
    # refuses its key twice, then accepts it again
    master.api_key = "rotated-key"
    session = await start_worker(f"http://127.0.0.1:{port},{master.url}", worker_max_refusals=3)
    await master.wait_for(lambda: session.refusals == 2, timeout=10)
    assert session.refused is None
    master.api_key = "good-key"
    # Then a connection resets the count, and the worker goes on
    await master.wait_for(lambda: master.sid and session.refusals == 0, timeout=10)
    assert session.refused is None
    await master.assign(job_id="after", command="true")
    await master.wait_for(lambda: master.reported(names.EV_JOB_FINISHED))


async def test_a_quick_job_arrives_as_one_job_ran(master, start_worker):
    # Given a worker on a master that knows job:ran (a linger no busy test machine outlasts)
    await start_worker(master.url, worker_start_linger_seconds=2)
    await master.wait_for(lambda: master.sid)
    # When a job ends well within the start linger
    await master.assign(job_id="quick", command="echo one; echo two >&2; exit 3")
    await master.wait_for(lambda: master.events(names.EV_JOB_RAN))
    await asyncio.sleep(0.3)  # nothing else of it follows
    # Then its start, output and end came in one event, and nothing else
    assert [event for event, _ in master.received] == [names.EV_JOB_RAN]
    ran = master.events(names.EV_JOB_RAN)[0]
    assert (ran["job_id"], ran["attempt"]) == ("quick", 1)
    assert (ran["status"], ran["exit_code"]) == ("failed", 3)
    assert ran["pid"] > 0 and 0 < ran["duration_seconds"] < 2 and ran["last_seq"] == 2
    assert [(line["seq"], line["stream"], line["text"]) for line in ran["lines"]] == [
        (1, "stdout", "one"), (2, "stderr", "two")]


async def test_a_master_without_job_ran_gets_the_same_job_as_started_log_finished(
    master_factory, start_worker
):
    # Given a master that has no handler for job:ran (an older one)
    older = await master_factory(knows_ran=False)
    session = await start_worker(older.url, worker_start_linger_seconds=2)
    await older.wait_for(lambda: older.sid)
    # When a quick job runs
    await older.assign(job_id="q1", command="echo one; echo two; exit 3")
    await older.wait_for(lambda: older.events(names.EV_JOB_FINISHED))
    # Then the worker tried job:ran once, then told the same story the classic way
    assert [event for event, _ in older.unhandled] == [names.EV_JOB_RAN]
    assert [event for event, _ in older.received] == [
        names.EV_JOB_STARTED, names.EV_JOB_LOG, names.EV_JOB_FINISHED]
    assert older.events(names.EV_JOB_STARTED)[0]["pid"] > 0
    assert [(line["seq"], line["text"]) for line in older.events(names.EV_JOB_LOG)[0]["lines"]] == [
        (1, "one"), (2, "two")]
    finished = older.events(names.EV_JOB_FINISHED)[0]
    assert (finished["job_id"], finished["status"]) == ("q1", "failed")
    assert (finished["exit_code"], finished["last_seq"]) == (3, 2)
    assert session.outbox.ran_supported is False
    # And the next job on this connection is not tried as a job:ran any more
    await older.assign(job_id="q2", command="echo three")
    await older.wait_for(lambda: len(older.events(names.EV_JOB_FINISHED)) == 2)
    assert len(older.unhandled) == 1
    assert [(event, data["job_id"]) for event, data in older.received[3:]] == [
        (names.EV_JOB_STARTED, "q2"), (names.EV_JOB_LOG, "q2"), (names.EV_JOB_FINISHED, "q2")]
    await asyncio.wait_for(session.outbox.wait_empty(), 5)
