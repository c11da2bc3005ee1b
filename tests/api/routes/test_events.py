"""Which job changes a `GET /events` stream sends: none missed, none sent twice."""

from datetime import UTC, datetime, timedelta

from jobrunner_api.documents import Job
from jobrunner_api.routes.events import LOOKBACK, JobChanges

T0 = datetime(2026, 1, 1, tzinfo=UTC)


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
