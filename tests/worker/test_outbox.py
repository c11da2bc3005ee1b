"""The outbox against a scripted client: what is sent, when, and what is sent again."""

import asyncio

from jobrunner_shared import names
from jobrunner_shared.messages import (
    JobFinished,
    JobLog,
    JobRan,
    JobStarted,
    LogLine,
    utcnow,
)
from jobrunner_worker.outbox import Outbox


class FakeClient:
    """Records emits; the test decides when (and how) each is acknowledged."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict, object]] = []

    async def emit(self, event, data, namespace=None, callback=None):
        self.sent.append((event, data, callback))

    def ack(self, index: int, ok: bool = True) -> None:
        self.sent[index][2]({"ok": ok})

    def ack_empty(self, index: int) -> None:
        """What python-socketio answers for an event its namespace has no handler for."""
        self.sent[index][2]()

    @property
    def events(self) -> list[tuple[str, str]]:
        return [(event, data["job_id"]) for event, data, _ in self.sent]


def log_batch(first: int, n: int = 2, job_id: str = "j") -> JobLog:
    lines = [LogLine(seq=s, stream="stdout", text=f"l{s}", ts=utcnow()) for s in range(first, first + n)]
    return JobLog(job_id=job_id, attempt=1, lines=lines)


def ran(job_id: str = "j", lines: int = 3) -> JobRan:
    return JobRan(job_id=job_id, attempt=1, status="failed", exit_code=3, error="oops",
                  last_seq=lines, pid=42, duration_seconds=0.01,
                  lines=log_batch(1, lines, job_id=job_id).lines if lines else [])


async def settle():
    for _ in range(5):
        await asyncio.sleep(0)


async def until(predicate, timeout: float = 1.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "not reached in time"
        await asyncio.sleep(0.005)


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


async def test_an_empty_ack_to_job_ran_unfolds_it_in_order_and_stops_coalescing_until_reconnect():
    outbox, task = await run_outbox(window=8, batch_lines=2)
    client = FakeClient()
    story = ran(lines=3)
    outbox.put(names.EV_JOB_RAN, story)
    outbox.connected(client)
    await settle()
    assert client.events == [(names.EV_JOB_RAN, "j")]
    assert outbox.ran_supported is True
    # When the master answers it with an empty ack (it has no handler for job:ran)
    client.ack_empty(0)
    await settle()
    # Then the same attempt goes as a start first, then its lines (in batches of at most 2)
    assert outbox.ran_supported is False
    assert client.events[1:] == [(names.EV_JOB_STARTED, "j")]
    assert client.sent[1][1] == {"job_id": "j", "attempt": 1, "pid": 42, "held_seconds": 0.0}
    client.ack(1)
    await settle()
    assert client.events[2:] == [(names.EV_JOB_LOG, "j")] * 2
    assert [[line["seq"] for line in data["lines"]] for _, data, _ in client.sent[2:]] == [
        [1, 2], [3]]
    assert [line for _, data, _ in client.sent[2:] for line in data["lines"]] == [
        line.model_dump(mode="json") for line in story.lines]
    client.ack(3)
    client.ack(2)
    await settle()
    # and its end last, as a job:finished would have said it
    assert client.events[4:] == [(names.EV_JOB_FINISHED, "j")]
    assert client.sent[4][1] == JobFinished(
        job_id="j", attempt=1, status="failed", exit_code=3, error="oops", last_seq=3
    ).model_dump(mode="json")
    client.ack(4)
    await asyncio.wait_for(outbox.wait_empty(), 1)
    assert outbox.pending_bytes == 0 and len(outbox) == 0

    # A job:ran put while this master is known not to know it goes the classic way at once
    outbox.put(names.EV_JOB_RAN, ran("k", lines=0))
    await settle()
    assert client.events[5:] == [(names.EV_JOB_STARTED, "k")]
    # And a new connection (perhaps to a newer master) tries job:ran again
    outbox.disconnected()
    outbox.connected(FakeClient())
    assert outbox.ran_supported is True
    task.cancel()


async def test_ok_false_resends_the_job_ran_unchanged():
    outbox, task = await run_outbox(window=1, ack_timeout=0.1, retry_delay=0.05,
                                    retry_delay_max=0.1)
    client = FakeClient()
    outbox.put(names.EV_JOB_RAN, ran())
    outbox.connected(client)
    await settle()
    client.ack(0, ok=False)
    await asyncio.sleep(0.4)
    # resent as it was: not unfolded, and the master is still thought to know job:ran
    assert len(client.sent) >= 2
    assert all((event, data) == (names.EV_JOB_RAN, client.sent[0][1])
               for event, data, _ in client.sent)
    assert outbox.ran_supported is True
    client.ack(len(client.sent) - 1)
    await asyncio.wait_for(outbox.wait_empty(), 1)
    task.cancel()


async def test_a_late_empty_ack_of_an_unfolded_job_ran_is_ignored():
    outbox, task = await run_outbox(window=1, ack_timeout=0.05, retry_delay=0.01,
                                    retry_delay_max=0.01)
    client = FakeClient()
    outbox.put(names.EV_JOB_RAN, ran(lines=0))
    outbox.connected(client)
    await asyncio.sleep(0.15)  # no answer in time: sent again
    tries = len(client.sent)
    assert tries >= 2
    client.ack_empty(0)  # the first try's answer comes late
    for index in range(1, tries):
        client.ack_empty(index)  # and so do the others': unfolded once only
    await until(lambda: len(client.sent) > tries)  # after the retry delay still running
    await settle()
    assert client.events[tries:] == [(names.EV_JOB_STARTED, "j")]
    client.ack(tries)
    await until(lambda: len(client.sent) > tries + 1)
    client.ack(tries + 1)
    await asyncio.wait_for(outbox.wait_empty(), 1)
    assert client.events[tries:] == [(names.EV_JOB_STARTED, "j"), (names.EV_JOB_FINISHED, "j")]
    task.cancel()


async def test_a_job_ran_counts_as_a_start_and_an_end_of_its_attempt():
    outbox, task = await run_outbox(window=8)
    client = FakeClient()
    outbox.put(names.EV_JOB_LOG, log_batch(1, job_id="a"))  # an earlier attempt's event...
    outbox.put(names.EV_JOB_RAN, ran("a"))  # ...goes before it
    outbox.put(names.EV_JOB_RAN, ran("b"))
    outbox.put(names.EV_JOB_LOG, log_batch(4, job_id="b"))  # nothing of b beside its job:ran
    outbox.connected(client)
    await settle()
    assert client.events == [(names.EV_JOB_LOG, "a"), (names.EV_JOB_RAN, "b")]
    client.ack(0)
    client.ack(1)
    await settle()
    assert client.events[2:] == [(names.EV_JOB_RAN, "a"), (names.EV_JOB_LOG, "b")]
    task.cancel()
