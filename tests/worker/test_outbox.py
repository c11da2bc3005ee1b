"""The outbox against a scripted client: what is sent, when, and what is sent again."""

import asyncio

from jobrunner_shared import names
from jobrunner_shared.messages import JobFinished, JobLog, JobStarted, LogLine, utcnow
from jobrunner_worker.outbox import Outbox


class FakeClient:
    """Records emits; the test decides when (and how) each is acknowledged."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict, object]] = []

    async def emit(self, event, data, namespace=None, callback=None):
        self.sent.append((event, data, callback))

    def ack(self, index: int, ok: bool = True) -> None:
        self.sent[index][2]({"ok": ok})


def log_batch(first: int, n: int = 2, job_id: str = "j") -> JobLog:
    lines = [LogLine(seq=s, stream="stdout", text=f"l{s}", ts=utcnow()) for s in range(first, first + n)]
    return JobLog(job_id=job_id, attempt=1, lines=lines)


async def settle():
    for _ in range(5):
        await asyncio.sleep(0)


async def run_outbox(**kwargs):
    outbox = Outbox(**kwargs)
    task = asyncio.create_task(outbox.run())
    return outbox, task


async def test_an_attempts_logs_wait_for_its_start_and_its_end_for_its_logs():
    outbox, task = await run_outbox(window=8)
    client = FakeClient()
    outbox.put(names.EV_JOB_STARTED, JobStarted(job_id="j", attempt=1, pid=5))
    for first in (1, 3, 5):
        outbox.put(names.EV_JOB_LOG, log_batch(first))
    outbox.put(names.EV_JOB_FINISHED, JobFinished(job_id="j", attempt=1, status="succeeded", exit_code=0))
    outbox.connected(client)
    await settle()
    assert [e for e, _, _ in client.sent] == [names.EV_JOB_STARTED]  # nothing overtakes the start
    client.ack(0)
    await settle()
    assert [e for e, _, _ in client.sent][1:] == [names.EV_JOB_LOG] * 3  # in flight together
    client.ack(2)
    client.ack(1)
    await settle()
    assert len(client.sent) == 4  # finished waits for the last batch
    client.ack(3)
    await settle()
    assert client.sent[4][0] == names.EV_JOB_FINISHED
    client.ack(4)
    await asyncio.wait_for(outbox.wait_empty(), 1)
    assert outbox.pending_bytes == 0
    task.cancel()


async def test_attempts_do_not_wait_for_each_other():
    # Given two jobs whose events are put one after the other
    outbox, task = await run_outbox(window=8)
    client = FakeClient()
    for job_id in ("a", "b"):
        outbox.put(names.EV_JOB_STARTED, JobStarted(job_id=job_id, attempt=1, pid=5))
        outbox.put(names.EV_JOB_LOG, log_batch(1, job_id=job_id))
        outbox.put(names.EV_JOB_FINISHED,
                   JobFinished(job_id=job_id, attempt=1, status="succeeded", exit_code=0))
    outbox.connected(client)
    await settle()
    # Then both starts are in flight at once: b's does not wait for a's end
    assert [(e, d["job_id"]) for e, d, _ in client.sent] == [
        (names.EV_JOB_STARTED, "a"), (names.EV_JOB_STARTED, "b")]
    # When b's start is acknowledged, b's log goes; a's waits for a's start
    client.ack(1)
    await settle()
    assert [(e, d["job_id"]) for e, d, _ in client.sent[2:]] == [(names.EV_JOB_LOG, "b")]
    # And b may end before a even started: nothing of a is held up by b, nor b by a
    client.ack(2)
    await settle()
    assert [(e, d["job_id"]) for e, d, _ in client.sent[3:]] == [(names.EV_JOB_FINISHED, "b")]
    client.ack(0)
    await settle()
    assert [(e, d["job_id"]) for e, d, _ in client.sent[4:]] == [(names.EV_JOB_LOG, "a")]
    task.cancel()


async def test_unacknowledged_events_are_resent_identically_after_reconnect():
    outbox, task = await run_outbox(window=8)
    first = FakeClient()
    for start in (1, 3, 5):
        outbox.put(names.EV_JOB_LOG, log_batch(start))
    outbox.connected(first)
    await settle()
    first.ack(0)
    outbox.disconnected()  # batches 2 and 3 were never acknowledged
    await settle()
    second = FakeClient()
    outbox.connected(second)
    await settle()
    assert [d for _, d, _ in second.sent] == [d for _, d, _ in first.sent[1:]]
    assert [d["lines"][0]["seq"] for _, d, _ in second.sent] == [3, 5]
    task.cancel()


async def test_ok_false_and_missing_ack_are_retried_later():
    outbox, task = await run_outbox(window=1, ack_timeout=0.1, retry_delay=0.05, retry_delay_max=0.1)
    client = FakeClient()
    outbox.put(names.EV_JOB_LOG, log_batch(1))
    outbox.connected(client)
    await settle()
    client.ack(0, ok=False)
    await settle()
    assert len(client.sent) == 1  # not resent in a tight loop: there is a backoff
    await asyncio.sleep(0.5)
    # resent after ok=false, then again each time no ack came in time – never a flood
    assert 3 <= len(client.sent) <= 8
    assert all(data == client.sent[0][1] for _, data, _ in client.sent)
    client.ack(len(client.sent) - 1)
    await asyncio.wait_for(outbox.wait_empty(), 1)
    task.cancel()


async def test_window_limits_calls_in_flight():
    outbox, task = await run_outbox(window=4)
    client = FakeClient()
    for start in range(1, 21, 2):
        outbox.put(names.EV_JOB_LOG, log_batch(start))
    outbox.connected(client)
    await settle()
    assert len(client.sent) == 4
    client.ack(0)
    await settle()
    assert len(client.sent) == 5
    task.cancel()
