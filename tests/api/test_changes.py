"""The change feed of `GET /events`: which job changes it sends (none missed, none twice)."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY
from sse_starlette import ServerSentEvent

from jobrunner_api import changes as changes_module
from jobrunner_api.changes import LOOKBACK, ChangeFeeds, JobChanges
from jobrunner_api.documents import Job

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def sample(name: str) -> float | None:
    return REGISTRY.get_sample_value(name)


def job(job_id: str, at: datetime) -> Job:
    return Job.model_construct(id=job_id, updated_at=at)


def ids(jobs: list[Job]) -> list[str]:
    return [str(j.id) for j in jobs]


def test_a_change_that_lands_late_is_still_sent() -> None:
    changes = JobChanges(T0)
    # Given job b's change (stamped later) landed before job a's
    assert ids(changes.fresh([job("b", T0 + timedelta(milliseconds=20))])) == ["b"]
    changes.looked(T0 + timedelta(milliseconds=30))
    # When the next look finds a's earlier-stamped change next to b's, already sent
    found = [job("a", T0 + timedelta(milliseconds=10)), job("b", T0 + timedelta(milliseconds=20))]
    # Then a is sent and b is not sent again
    assert changes.since <= T0 + timedelta(milliseconds=10)
    assert ids(changes.fresh(found)) == ["a"]


def test_each_new_state_of_a_job_is_sent_once() -> None:
    changes = JobChanges(T0)
    assert ids(changes.fresh([job("a", T0)])) == ["a"]
    assert ids(changes.fresh([job("a", T0)])) == []
    assert ids(changes.fresh([job("a", T0 + timedelta(seconds=1))])) == ["a"]
    # An older state read after a newer one is not sent (it would go back in time)
    assert ids(changes.fresh([job("a", T0)])) == []


def test_memory_is_bounded_by_the_lookback() -> None:
    changes = JobChanges(T0)
    changes.fresh([job(str(n), T0 + timedelta(seconds=n)) for n in range(100)])
    changes.looked(T0 + timedelta(seconds=100))
    assert changes.since == T0 + timedelta(seconds=100) - LOOKBACK
    assert len(changes.sent) == LOOKBACK.total_seconds()


@pytest.fixture
def polls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each feed's looks, replaced by one `job` event per look."""
    looks: list[str] = []

    async def run(feed: changes_module.TenantFeed) -> None:
        while feed.streams:
            looks.append(feed.tenant_id)
            feed._send(ServerSentEvent(data=str(len(looks)), event="job"))
            await asyncio.sleep(0.01)

    monkeypatch.setattr(changes_module.TenantFeed, "run", run)
    return looks


async def test_streams_of_one_tenant_share_one_poller(polls: list[str]) -> None:
    feeds = ChangeFeeds(poll_seconds=0.01, offline_after=20)
    streams = sample("jobrunner_event_streams")
    async with feeds.subscribe("t1") as one, feeds.subscribe("t1") as two:
        first = await asyncio.wait_for(one.get(), 1)
        assert first.data == (await asyncio.wait_for(two.get(), 1)).data  # the same look
        assert len(feeds.feeds) == 1
        async with feeds.subscribe("t2"):
            await asyncio.sleep(0.05)
            assert sample("jobrunner_event_streams") == streams + 3
            assert sample("jobrunner_change_feeds") == 2
    assert sample("jobrunner_event_streams") == streams
    assert sample("jobrunner_change_feeds") == 0
    # Then each tenant was looked at by one poller, and none is left running
    assert set(polls) == {"t1", "t2"}
    assert feeds.feeds == {}
    looked = len(polls)
    await asyncio.sleep(0.05)
    assert len(polls) == looked


async def test_a_stream_far_behind_is_ended_and_the_others_go_on(
    polls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(changes_module, "MAX_BACKLOG", 20)
    feeds = ChangeFeeds(poll_seconds=0.01, offline_after=20)
    async with feeds.subscribe("t1") as slow, feeds.subscribe("t1") as fast:
        for _ in range(25):
            await asyncio.wait_for(fast.get(), 1)
        # The slow stream got MAX_BACKLOG events, then its end (None)
        events = [slow.get_nowait() for _ in range(slow.qsize())]
        assert events[-1] is None and len(events) == 21
        assert await asyncio.wait_for(fast.get(), 1) is not None
