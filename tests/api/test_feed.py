"""The live feed's receiving end in one API process: which stream gets which change."""

import asyncio
from datetime import UTC, datetime

import pytest
from prometheus_client import REGISTRY

from jobrunner_api import feed as feed_module
from jobrunner_api.feed import Hub
from jobrunner_shared.messages import JobChange, LogChange, WorkerChange

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def job_change(tenant: str, job_id: str, n: int = 1) -> JobChange:
    return JobChange(tenant_id=tenant, job_id=job_id, updated_at=T0, data=f'{{"n": {n}}}')


async def test_a_change_reaches_every_stream_of_its_tenant_and_no_other() -> None:
    hub = Hub()
    streams = REGISTRY.get_sample_value("jobrunner_event_streams")
    async with hub.events("t1") as one, hub.events("t1") as two, hub.events("t2") as other:
        assert REGISTRY.get_sample_value("jobrunner_event_streams") == streams + 3
        hub.deliver(job_change("t1", "j1"))
        hub.deliver(WorkerChange(tenant_id="t1", worker_id="w1", data="{}"))
        assert [c.kind for c in (one.get_nowait(), one.get_nowait())] == ["job", "worker"]
        assert two.qsize() == 2
        assert other.empty()
    assert REGISTRY.get_sample_value("jobrunner_event_streams") == streams
    assert hub.open_streams == 0


async def test_stored_lines_and_state_changes_wake_that_jobs_log_streams_only() -> None:
    hub = Hub()
    with hub.log_waiter("j1") as mine, hub.log_waiter("j2") as theirs:
        hub.deliver(LogChange(tenant_id="t1", job_id="j1", attempt=1, last_seq=10))
        assert mine.is_set() and not theirs.is_set()
        mine.clear()
        hub.deliver(job_change("t1", "j1"))  # e.g. the job finished
        assert mine.is_set() and not theirs.is_set()


async def test_log_changes_are_not_sent_to_event_streams() -> None:
    hub = Hub()
    async with hub.events("t1") as stream:
        hub.deliver(LogChange(tenant_id="t1", job_id="j1", attempt=1, last_seq=10))
        assert stream.empty()


async def test_a_stream_far_behind_is_ended_and_the_others_go_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(feed_module, "MAX_BACKLOG", 20)
    hub = Hub()
    async with hub.events("t1") as slow, hub.events("t1") as fast:
        for n in range(25):
            hub.deliver(job_change("t1", "j1", n))
            fast.get_nowait()
        # The slow stream got MAX_BACKLOG changes, then its end (None), and nothing more
        events = [slow.get_nowait() for _ in range(slow.qsize())]
        assert events[-1] is None and len(events) == 21
        hub.deliver(job_change("t1", "j1", 99))
        assert slow.empty() and fast.qsize() == 1


async def test_after_a_reconnect_every_stream_ends_and_every_log_stream_looks_again() -> None:
    # Given open streams, when the connection to RabbitMQ was lost and came back
    hub = Hub()
    async with hub.events("t1") as a, hub.events("t2") as b:
        with hub.log_waiter("j1") as waiter:
            hub.reset()
            # Then each event stream ends (its client reconnects and catches up from MongoDB)
            assert await asyncio.wait_for(a.get(), 1) is None
            assert await asyncio.wait_for(b.get(), 1) is None
            # And each log stream reads what is stored
            assert waiter.is_set()
    assert hub.open_streams == 0
