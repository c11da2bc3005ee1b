"""The outbox past its memory budget: events wait on disk and are sent in order, once, intact."""

import asyncio
import json
import time

from jobrunner_shared import names
from jobrunner_shared.messages import JobFinished, JobLog, JobRan, JobStarted, LogLine, utcnow
from jobrunner_worker.coalesce import unfold
from jobrunner_worker.outbox import Outbox
from jobrunner_worker.session import WorkerSession
from jobrunner_worker.settings import WorkerSettings
from jobrunner_worker.spill import SpillStore


class AckingClient:
    """Acknowledges every emit on the next loop iteration, like a healthy master."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict]] = []

    async def emit(self, event, data, namespace=None, callback=None):
        self.sent.append((event, data))
        asyncio.get_running_loop().call_soon(callback, {"ok": True})


def events(batches: int) -> list[tuple[str, object]]:
    """started, `batches` log batches with non-ASCII text, finished – one attempt's story."""
    out: list[tuple[str, object]] = [(names.EV_JOB_STARTED, JobStarted(job_id="j", attempt=1))]
    for b in range(batches):
        lines = [
            LogLine(seq=3 * b + i + 1, stream="stdout", text=f"{b}/{i} é ✓ \"q\"", ts=utcnow())
            for i in range(3)
        ]
        out.append((names.EV_JOB_LOG, JobLog(job_id="j", attempt=1, lines=lines)))
    finished = JobFinished(job_id="j", attempt=1, status="succeeded", exit_code=0)
    out.append((names.EV_JOB_FINISHED, finished))
    return out


class OlderMasterClient(AckingClient):
    """A master without a job:ran handler: python-socketio acks that event with no arguments."""

    async def emit(self, event, data, namespace=None, callback=None):
        self.sent.append((event, data))
        args = () if event == names.EV_JOB_RAN else ({"ok": True},)
        asyncio.get_running_loop().call_soon(callback, *args)


def short_attempts(count: int) -> list[tuple[str, object]]:
    """`count` short attempts, each one job:ran with a few non-ASCII lines."""
    out: list[tuple[str, object]] = []
    for n in range(count):
        lines = [LogLine(seq=i, stream="stdout", text=f"{n}/{i} é ✓ \"q\"", ts=utcnow())
                 for i in (1, 2, 3)]
        out.append((names.EV_JOB_RAN, JobRan(job_id=f"j{n}", attempt=1, status="succeeded",
                                             exit_code=0, last_seq=3, pid=100 + n,
                                             duration_seconds=0.01, lines=lines)))
    return out


def spill_files(directory) -> list:
    return sorted(directory.glob("*.jsonl")) if directory.exists() else []


async def test_events_past_the_memory_bound_wait_on_disk_and_are_sent_once_in_order(tmp_path):
    spill_dir = tmp_path / "outbox-w1"
    outbox = Outbox(window=4, memory_limit=2000, spill=SpillStore(spill_dir, segment_bytes=4000))
    task = asyncio.create_task(outbox.run())
    story = events(300)
    largest = 0

    # Given a worker cut off from its master, when it produces far more than the memory bound
    for event, payload in story:
        outbox.put(event, payload)
        largest = max(largest, len(json.dumps(payload.model_dump(mode="json"))))
        assert outbox.memory_bytes <= 2000 + largest  # memory stays bounded
    # then the rest waits on disk, in several segment files
    assert len(spill_files(spill_dir)) > 5
    assert len(outbox) == len(story)
    assert outbox.pending_bytes > 10 * outbox.memory_bytes

    # When the master is back and acknowledges everything
    client = AckingClient()
    outbox.connected(client)
    await asyncio.wait_for(outbox.wait_empty(), 5)

    # then every event was sent exactly once, in the original order, with the same payload
    assert client.sent == [(event, payload.model_dump(mode="json")) for event, payload in story]
    assert outbox.pending_bytes == 0 and len(outbox) == 0
    assert spill_files(spill_dir) == []  # acknowledged segments are deleted
    outbox.close()
    assert not spill_dir.exists()
    task.cancel()


async def test_events_put_while_others_are_acknowledged_keep_their_order(tmp_path):
    spill = SpillStore(tmp_path / "o", segment_bytes=2000)
    outbox = Outbox(window=3, memory_limit=1000, spill=spill)
    task = asyncio.create_task(outbox.run())
    client = AckingClient()
    outbox.connected(client)
    story = events(200)
    # memory drains and refills from disk while new events keep coming
    for i, (event, payload) in enumerate(story):
        outbox.put(event, payload)
        if i % 7 == 0:
            await asyncio.sleep(0)
    await asyncio.wait_for(outbox.wait_empty(), 5)
    assert client.sent == [(event, payload.model_dump(mode="json")) for event, payload in story]
    assert spill_files(tmp_path / "o") == []
    task.cancel()


async def test_spilled_events_not_acknowledged_are_resent_identically(tmp_path):
    class Silent:
        def __init__(self) -> None:
            self.sent: list[tuple[str, dict]] = []

        async def emit(self, event, data, namespace=None, callback=None):
            self.sent.append((event, data))

    spill = SpillStore(tmp_path / "o", segment_bytes=1000)
    outbox = Outbox(window=8, memory_limit=500, spill=spill)
    task = asyncio.create_task(outbox.run())
    story = [e for e in events(40) if e[0] == names.EV_JOB_LOG]
    for event, payload in story:
        outbox.put(event, payload)
    # a master that never answers, then a disconnect: nothing is lost, nothing is reordered
    silent = Silent()
    outbox.connected(silent)
    await asyncio.sleep(0.05)
    outbox.disconnected()
    client = AckingClient()
    outbox.connected(client)
    await asyncio.wait_for(outbox.wait_empty(), 5)
    assert silent.sent == client.sent[: len(silent.sent)]
    assert client.sent == [(event, payload.model_dump(mode="json")) for event, payload in story]
    assert spill_files(tmp_path / "o") == []
    task.cancel()


async def test_an_unwritable_spill_directory_keeps_events_in_memory(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    outbox = Outbox(window=2, memory_limit=100, spill=SpillStore(blocker / "outbox"))
    task = asyncio.create_task(outbox.run())
    story = events(20)
    for event, payload in story:
        outbox.put(event, payload)
    client = AckingClient()
    outbox.connected(client)
    await asyncio.wait_for(outbox.wait_empty(), 5)
    assert client.sent == [(event, payload.model_dump(mode="json")) for event, payload in story]
    task.cancel()


async def test_a_worker_cut_off_from_its_master_runs_on_spills_and_delivers_later(
    master_factory, tmp_path
):
    master = await master_factory()
    settings = WorkerSettings(
        master_url=master.url, api_key="good-key", worker_name="w1", reconnect_delay=0.1,
        reconnect_delay_max=0.5, heartbeat_interval=0.2, log_flush_interval=0.02,
        log_batch_bytes=1024, outbox_memory_bytes=4096, outbox_dir=str(tmp_path),
    )
    session = WorkerSession(settings)
    spill_dir = tmp_path / f"outbox-{session.worker_id}"
    task = asyncio.create_task(session.run())
    try:
        await master.wait_for(lambda: master.sid)
        # Given a job that prints 3000 numbered lines over about a second
        script = "for i in $(seq 1 3000); do echo line-$i; [ $((i % 300)) = 0 ] && sleep 0.1; done"
        await master.assign(job_id="cut", command=script + "; true")
        await master.wait_for(lambda: master.events(names.EV_JOB_LOG))
        # When the master goes away while it runs
        await master.stop()
        # then the job still runs to its end, and what it printed waits on disk
        deadline = time.monotonic() + 10
        while len(session.attempts) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert len(session.attempts) == 0, "the job did not finish while the master was away"
        assert spill_files(spill_dir)
        assert session.outbox.memory_bytes < 4096 + 2048

        # When the master is back (same address), everything arrives
        back = await master_factory(master.port)
        await back.wait_for(lambda: back.events(names.EV_JOB_FINISHED), timeout=10)
        received = master.received + back.received
        batches = [data for event, data in received if event == names.EV_JOB_LOG]
        lines = {line["seq"]: line["text"] for batch in batches for line in batch["lines"]}
        assert lines == {seq: f"line-{seq}" for seq in range(1, 3001)}
        # a batch sent twice (its ack was lost with the connection) is byte for byte the same
        by_first: dict[int, list[dict]] = {}
        for batch in batches:
            by_first.setdefault(batch["lines"][0]["seq"], []).append(batch)
        assert all(copy == copies[0] for copies in by_first.values() for copy in copies)
        assert received[-1][0] == names.EV_JOB_FINISHED
        assert back.events(names.EV_JOB_FINISHED)[0]["status"] == "succeeded"
        await asyncio.wait_for(session.outbox.wait_empty(), 5)
        assert spill_files(spill_dir) == []
    finally:
        session.stop_now()
        await asyncio.wait_for(task, 10)
    assert not spill_dir.exists()  # removed when the worker exits


def test_each_worker_process_spills_into_its_own_directory(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    default = WorkerSettings(api_key="k")
    assert default.outbox_path("abc") == tmp_path / "state" / "jobrunner" / "outbox-abc"
    chosen = WorkerSettings(api_key="k", outbox_dir=str(tmp_path / "spool"))
    assert chosen.outbox_path("abc") == tmp_path / "spool" / "outbox-abc"
    assert chosen.outbox_memory_bytes == 64 * 1024 * 1024


def spilled_short_attempts(directory) -> tuple[Outbox, asyncio.Task, list[tuple[str, object]]]:
    """An outbox (running) holding 30 short attempts, most of them spilled to `directory`."""
    outbox = Outbox(window=4, memory_limit=1500, spill=SpillStore(directory, segment_bytes=3000))
    task = asyncio.create_task(outbox.run())
    story = short_attempts(30)
    for event, payload in story:
        outbox.put(event, payload)
    return outbox, task, story


async def test_a_spilled_job_ran_comes_back_intact(tmp_path):
    outbox, task, story = spilled_short_attempts(tmp_path / "o")
    assert spill_files(tmp_path / "o")  # most of it on disk
    client = AckingClient()
    outbox.connected(client)
    await asyncio.wait_for(outbox.wait_empty(), 5)
    assert client.sent == [(event, payload.model_dump(mode="json")) for event, payload in story]
    assert spill_files(tmp_path / "o") == []
    task.cancel()


async def test_spilled_job_rans_unfold_for_an_older_master_and_their_segments_go(tmp_path):
    outbox, task, story = spilled_short_attempts(tmp_path / "o")
    client = OlderMasterClient()
    outbox.connected(client)
    await asyncio.wait_for(outbox.wait_empty(), 5)
    # job:ran tried only for what was in flight when the first empty ack came (the window);
    # then each attempt as started, log, finished, in order, once (attempts side by side)
    tried = [data for event, data in client.sent if event == names.EV_JOB_RAN]
    assert tried == [payload.model_dump(mode="json") for _, payload in story[: len(tried)]]
    assert 1 <= len(tried) <= 4
    for _, ran in story:
        classic = [(event, payload.model_dump(mode="json"))
                   for event, payload in unfold(ran, batch_lines=1000, batch_bytes=256 * 1024)]
        told = [(event, data) for event, data in client.sent
                if event != names.EV_JOB_RAN and data["job_id"] == ran.job_id]
        assert told == classic
    assert outbox.pending_bytes == 0 and len(outbox) == 0
    assert spill_files(tmp_path / "o") == []  # every segment acknowledged and deleted
    task.cancel()
