"""The job state machine, table-tested without any server: (job, event) -> the change.

Each decision's update is applied to the job as a dict (jobrunner_api/updates.py), so a test
reads as a story of states: given a job, when an event comes, then the job is thus.
"""

from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId
from hypothesis import given
from hypothesis import strategies as st

from jobrunner_api import transitions as t
from jobrunner_api.documents import JobRecord, JobView
from jobrunner_shared.messages import (
    AttemptUnrunnable,
    JobAssignedEvent,
    JobFinishedEvent,
    JobRanEvent,
    JobStartedEvent,
)
from jobrunner_api.updates import apply_update

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TIMING = t.Timing(lease_seconds=20, timeout_grace_seconds=15, publish_grace_seconds=10)
W1, W2 = "worker-1", "worker-2"


def new_job(**fields) -> JobView:
    record = JobRecord(tenant_id="t1", command="true", created_at=T0, **fields)
    return JobView.model_validate({"_id": ObjectId(), **record.model_dump()})


def step(job: JobView, decision: t.Decision, now: datetime = T0) -> JobView:
    """The job after the decision's update (unchanged when it has none)."""
    if decision.update is None:
        return job
    doc = apply_update(job.model_dump(by_alias=True), decision.update)
    return JobView.model_validate(doc)


def ref(job: JobView, worker: str = W1, attempt: int | None = None) -> dict:
    return {"job_id": str(job.id), "tenant_id": job.tenant_id, "worker_id": worker,
            "worker_name": worker, "attempt": attempt or job.attempt}


def assigned(job: JobView, worker: str = W1, at: datetime = T0, **kw) -> t.Decision:
    return t.assigned(job, JobAssignedEvent(**ref(job, worker, **kw), at=at), TIMING)


def started(job: JobView, worker: str = W1, at: datetime = T0, **kw) -> t.Decision:
    return t.started(job, JobStartedEvent(**ref(job, worker, **kw), pid=1, at=at), TIMING)


def finished(job: JobView, status: str, worker: str = W1, at: datetime = T0,
             exit_code: int | None = 0, **kw) -> t.Decision:
    event = JobFinishedEvent(**ref(job, worker, **kw), status=status, exit_code=exit_code,
                             last_seq=3, at=at)
    return t.finished(job, event, TIMING)


def run(job: JobView, status: str, worker: str = W1, at: datetime = T0) -> JobView:
    """The current attempt taken, started and finished by `worker`."""
    job = step(job, assigned(job, worker, at))
    job = step(job, started(job, worker, at))
    return step(job, finished(job, status, worker, at, exit_code=0 if status == "succeeded" else 1))


def lose(job: JobView, worker: str = W1, at: datetime = T0) -> JobView:
    """The current attempt taken by `worker`, which then goes away for good."""
    job = step(job, assigned(job, worker, at))
    job = step(job, started(job, worker, at))
    later = job.lease.expires_at + timedelta(seconds=1)
    return step(job, t.lease_expired(job, later, TIMING))


# --- taking and starting ---------------------------------------------------------------------


def test_a_worker_taking_an_attempt_holds_its_lease() -> None:
    job = new_job()
    taken = step(job, assigned(job, W1))
    assert taken.status == "queued"
    assert taken.current.worker == W1 and taken.current.assigned_at == T0
    assert taken.lease.worker == W1 and taken.lease.expires_at == T0 + timedelta(seconds=20)
    assert taken.version == job.version + 1


def test_a_second_worker_given_the_same_attempt_is_told_to_stop() -> None:
    job = new_job()
    job = step(job, assigned(job, W1))
    decision = assigned(job, W2)
    assert decision.update is None
    assert [(c.worker_id, c.attempt) for c in decision.cancel] == [(W2, 1)]


def test_resent_reports_change_nothing() -> None:
    job = new_job()
    job = step(job, assigned(job, W1))
    assert assigned(job, W1) == t.Decision()
    job = step(job, started(job, W1))
    assert started(job, W1) == t.Decision()
    job = step(job, finished(job, "succeeded"))
    assert finished(job, "succeeded") == t.Decision()


def test_a_start_makes_it_running_with_a_timeout_backstop() -> None:
    job = new_job(timeout_seconds=60)
    running = step(job, started(job, W1, at=T0 + timedelta(seconds=1)))
    assert running.status == "running" and running.current.status == "running"
    assert running.worker == W1 and running.started_at == T0 + timedelta(seconds=1)
    # The assignment report may come late or never: the start covers it.
    assert running.current.assigned_at == T0 + timedelta(seconds=1)
    assert running.lease.worker == W1
    assert running.timeout_at == T0 + timedelta(seconds=1 + 60 + 15)


def test_a_second_start_of_one_attempt_keeps_the_first_worker() -> None:
    job = new_job()
    job = step(job, started(job, W1))
    decision = started(job, W2)
    assert decision.update is None
    assert [c.worker_id for c in decision.cancel] == [W2]


def test_a_report_of_a_stale_attempt_stops_that_copy() -> None:
    job = lose(new_job(), W1)  # attempt 1 given up on: attempt 2 is queued
    assert job.attempt == 2
    for decision in (assigned(job, W1, attempt=1), started(job, W1, attempt=1)):
        assert decision.update is None
        assert [(c.worker_id, c.attempt) for c in decision.cancel] == [(W1, 1)]
    # A finished report of it is simply ignored: its worker ended it already
    assert finished(job, "succeeded", W1, attempt=1) == t.Decision()


# --- ending, and retries ---------------------------------------------------------------------


def test_success_ends_the_job_and_releases_its_lease() -> None:
    job = run(new_job(timeout_seconds=5), "succeeded")
    assert job.status == "succeeded" and job.exit_code == 0 and job.finished_at == T0
    assert job.lease is None and job.timeout_at is None and job.publish_due_at is None
    assert job.current.last_seq == 3


@pytest.mark.parametrize(
    ("max_retries", "outcomes", "attempts", "status"),
    [
        (0, ["failed"], 1, "failed"),
        (2, ["failed", "failed", "succeeded"], 3, "succeeded"),
        (2, ["failed", "timed_out", "failed"], 3, "failed"),
        (1, ["cancelled"], 1, "cancelled"),  # a cancel is never retried
    ],
)
def test_failures_are_retried_up_to_max_retries(max_retries, outcomes, attempts, status) -> None:
    job = new_job(max_retries=max_retries)
    for outcome in outcomes:
        assert not job.status.is_final
        job = run(job, outcome)
    assert (job.attempt, job.status) == (attempts, status)
    assert [a.number for a in job.attempts] == list(range(1, attempts + 1))


def test_a_retry_is_a_new_queued_attempt_that_waits_its_backoff_in_the_database() -> None:
    job = new_job(max_retries=1, retry_backoff_seconds=4)
    job = step(job, started(job, W1))
    decision = finished(job, "failed", exit_code=3)
    # Not published now: the sweeper publishes it once due (no coroutine sleeps meanwhile)
    assert not decision.publish
    job = step(job, decision)
    assert job.status == "queued" and job.attempt == 2 and job.exit_code == 3
    assert job.attempts[0].status == "failed" and job.attempts[0].exit_code == 3
    assert job.current.status == "queued" and job.current.worker is None
    waited = (job.current.not_before - T0).total_seconds()
    assert 2 <= waited <= 4  # half to all of the first backoff
    assert job.publish_due_at == job.current.not_before
    assert job.lease is None and job.finished_at is None


def test_a_retry_without_backoff_is_published_at_once() -> None:
    job = new_job(max_retries=1, retry_backoff_seconds=0)
    job = step(job, started(job, W1))
    decision = finished(job, "failed", exit_code=3)
    assert decision.publish
    job = step(job, decision)
    assert job.current.not_before is None
    assert job.publish_due_at == T0 + timedelta(seconds=10)  # only if never confirmed


@given(base=st.floats(0.01, 100), cap=st.floats(0.01, 1000), retry=st.integers(1, 80))
def test_backoff_doubles_up_to_its_cap_and_is_drawn_from_its_upper_half(base, cap, retry):
    job = new_job(retry_backoff_seconds=base, retry_backoff_max_seconds=cap)
    nominal = min(cap, base * 2 ** (retry - 1))
    delay = t.retry_delay(job, retry)
    assert nominal / 2 <= delay <= nominal
    assert t.retry_delay(job, retry) == delay  # the same decision twice waits the same


def test_a_lost_worker_is_retried_at_once_whatever_the_backoff() -> None:
    job = lose(new_job(retry_backoff_seconds=60), W1)
    assert job.attempt == 2 and job.current.not_before is None


def test_the_report_of_a_copy_told_to_stop_is_ignored() -> None:
    job = new_job()
    job = step(job, started(job, W1))
    assert finished(job, "failed", W2) == t.Decision()


# --- lost workers ----------------------------------------------------------------------------


def test_a_lost_worker_does_not_use_up_retries_but_three_fail_the_job() -> None:
    job = new_job(max_retries=0)
    job = lose(job, W1)
    assert (job.status, job.attempt) == ("queued", 2)
    assert job.attempts[0].error == t.WORKER_LOST
    job = lose(job, W2)
    assert (job.status, job.attempt) == ("queued", 3)
    job = lose(job, W1)
    assert (job.status, job.error, job.attempt) == ("failed", t.WORKER_LOST, 3)


def test_retries_and_lost_workers_count_apart() -> None:
    # Given max_retries 1: a failure (retried), a lost worker (retried, not counted), a failure
    job = new_job(max_retries=1)
    job = run(job, "failed")
    job = lose(job, W2)
    job = run(job, "failed")
    # Then the second failure used up the one retry
    assert (job.status, job.attempt) == ("failed", 3)
    assert [a.error for a in job.attempts] == [None, t.WORKER_LOST, None]


def test_an_expired_lease_tells_its_worker_to_stop_and_queues_a_new_attempt() -> None:
    job = new_job()
    job = step(job, started(job, W1))
    later = job.lease.expires_at + timedelta(milliseconds=1)
    decision = t.lease_expired(job, later, TIMING)
    assert decision.publish
    assert [(c.worker_id, c.attempt) for c in decision.cancel] == [(W1, 1)]


def test_a_lease_renewed_since_the_sweeper_looked_is_left_alone() -> None:
    job = new_job()
    job = step(job, started(job, W1))
    assert t.lease_expired(job, job.lease.expires_at - timedelta(seconds=1), TIMING) == t.Decision()


def test_the_platform_ends_an_attempt_past_its_timeout() -> None:
    job = new_job(timeout_seconds=10, max_retries=1, retry_backoff_seconds=0)
    job = step(job, started(job, W1))
    assert t.timed_out(job, job.timeout_at - timedelta(seconds=1), TIMING) == t.Decision()
    decision = t.timed_out(job, job.timeout_at, TIMING)
    job = step(job, decision)
    assert job.attempts[0].status == "timed_out"
    assert job.attempts[0].error == t.TIMEOUT_BACKSTOP
    assert job.attempt == 2 and decision.publish  # a timeout is retried like a failure
    assert [c.worker_id for c in decision.cancel] == [W1]


# --- cancel, unrunnable ------------------------------------------------------------------------


def test_cancel_ends_a_queued_job_and_stops_a_running_one_through_its_worker() -> None:
    queued = new_job()
    decision = t.cancel_requested(queued, T0)
    cancelled = step(queued, decision)
    assert cancelled.status == "cancelled" and cancelled.current.status == "cancelled"
    assert [c.attempt for c in decision.cancel] == [1]
    running = new_job()
    running = step(running, started(running, W1))
    decision = t.cancel_requested(running, T0)
    assert decision.update is None and [c.attempt for c in decision.cancel] == [1]
    assert t.cancel_requested(cancelled, T0) == t.Decision()


def test_an_unrunnable_attempt_fails_the_job_unless_a_worker_has_it() -> None:
    job = new_job(max_retries=3)
    event = AttemptUnrunnable(job_id=str(job.id), tenant_id="t1", attempt=1,
                              error="secret_missing: TOKEN", at=T0)
    failed = step(job, t.unrunnable(job, event))
    assert (failed.status, failed.error, failed.attempt) == ("failed", "secret_missing: TOKEN", 1)
    taken = step(job, assigned(job, W1))
    assert t.unrunnable(taken, event) == t.Decision()


@pytest.mark.parametrize("outcome", ["failed", "timed_out"])
def test_will_retry_counts_this_attempt(outcome) -> None:
    job = new_job(max_retries=1)
    assert t.will_retry(job, outcome, None)
    assert not t.will_retry(job, "succeeded", None)
    assert not t.will_retry(run(job, "failed"), outcome, None)


# --- a short attempt reported in one event (job:ran) -------------------------------------------


def ran(job: JobView, status: str = "succeeded", worker: str = W1, at: datetime = T0,
        duration: float = 0.25, exit_code: int | None = 0, **kw) -> t.Decision:
    event = JobRanEvent(**ref(job, worker, **kw), pid=7, status=status, exit_code=exit_code,
                        last_seq=3, duration_seconds=duration, at=at)
    return t.ran(job, event, TIMING)


def test_a_short_attempt_goes_from_queued_to_its_end_in_one_change() -> None:
    # Given a queued job whose publish was not marked confirmed yet
    job = new_job(publish_due_at=T0 + timedelta(seconds=10))
    # When its worker reports the whole attempt at once, 250 ms after it started
    decision = ran(job, at=T0 + timedelta(seconds=1))
    after = step(job, decision)
    # Then one change ends it: started 250 ms before the end, by that worker, nothing left due
    assert after.status == "succeeded" and after.exit_code == 0
    assert after.started_at == T0 + timedelta(seconds=0.75)
    assert after.finished_at == T0 + timedelta(seconds=1)
    assert after.current.worker == W1 and after.current.last_seq == 3
    assert after.lease is None and after.publish_due_at is None and after.timeout_at is None
    assert after.version == job.version + 2  # two changes of state, written as one
    assert not decision.publish and not decision.cancel


def test_a_short_attempt_the_same_as_its_start_and_end_one_by_one() -> None:
    job = new_job(max_retries=1)
    at = T0 + timedelta(seconds=2)
    one_by_one = step(job, started(job, at=at - timedelta(seconds=0.5)))
    one_by_one = step(one_by_one, finished(one_by_one, "failed", at=at, exit_code=3))
    at_once = step(job, ran(job, "failed", at=at, duration=0.5, exit_code=3))
    # A failure with a retry left queues attempt 2 either way, with the same fields
    assert at_once.model_dump(exclude={"lease"}) == one_by_one.model_dump(exclude={"lease"})
    assert at_once.status == "queued" and at_once.attempt == 2


def test_a_short_attempt_whose_start_was_applied_ends_it() -> None:
    # A job:ran resent after the master relayed it, or after a start applied meanwhile
    job = step(new_job(), started(new_job()))
    after = step(job, ran(job, at=T0 + timedelta(seconds=1)))
    assert after.status == "succeeded" and after.started_at == T0


def test_a_stale_or_repeated_short_attempt_changes_nothing() -> None:
    job = new_job()
    done = step(job, ran(job))
    assert ran(done).update is None  # the same report again
    lost = lose(new_job())
    assert ran(lost, attempt=1).update is None  # an attempt the platform gave up on
    other = step(new_job(), started(new_job(), worker=W2))
    assert ran(other, worker=W1).update is None  # another worker's copy


def test_a_short_attempt_counts_its_new_lines_in_the_same_change() -> None:
    job = new_job()
    event = JobRanEvent(**ref(job), status="succeeded", exit_code=0, last_seq=3, at=T0)
    after = step(job, t.ran(job, event, TIMING, new_lines=3))
    assert after.status == "succeeded" and after.current.log_lines == 3
    # A resend whose lines were stored already (none new) changes nothing
    assert t.ran(after, event, TIMING, new_lines=0).update is None
    # Lines stored for the first time with a report that changes nothing else are still counted
    again = step(after, t.ran(after, event, TIMING, new_lines=2))
    assert again.current.log_lines == 5 and again.version == after.version
