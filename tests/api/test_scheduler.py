"""Firing schedules against the real MongoDB and RabbitMQ (jobrunner_api.scheduler): one job per
fire time however many processes race, none more after a crash, misfires run once or skipped.

Each Scheduler here has a Jobs of its own, as two API processes would; they share only the
database and the broker. The module has a database of its own, so that the sweeper of the
session's API process (tests/support/platform.py) fires none of these schedules itself.
"""

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from faststream.rabbit import RabbitBroker

from jobrunner_api.documents import Job, JobView, Schedule
from jobrunner_api.platform import Platform
from jobrunner_api.scheduler import Scheduler, fire_key
from jobrunner_api.settings import Settings
from jobrunner_shared import amqp
from jobrunner_shared.messages import JobSpec
from jobrunner_shared.secretbox import SecretBox

pytestmark = pytest.mark.integration
GRACE = 60.0


@pytest.fixture
async def scheduler(module_database, module_vhost: str) -> AsyncIterator[Callable[[], Any]]:
    """scheduler() -> a Scheduler as one API process has it (its own Jobs and broker)."""
    made: list[tuple[RabbitBroker, Platform]] = []

    async def make() -> Scheduler:
        settings = Settings(environment="development", rabbitmq_url=module_vhost)
        broker = RabbitBroker(module_vhost)
        await broker.connect()
        await amqp.declare_topology(broker)
        platform = Platform(settings=settings, broker=broker,
                            secretbox=SecretBox(settings.encryption_key))
        made.append((broker, platform))
        return Scheduler(platform.jobs, GRACE)

    yield make
    for broker, platform in made:
        await platform.jobs.close()
        await platform.feed.close()
        await broker.stop()


async def due_schedule(cron: str = "* * * * *", late: timedelta = timedelta(seconds=2),
                       **fields: Any) -> Schedule:
    """A schedule of a tenant of its own whose next fire time passed `late` ago (whole minutes
    or seconds as given: it need not be one of the cron's, a test sets it as it likes)."""
    now = datetime.now(UTC).replace(microsecond=0)
    return await Schedule(tenant_id=f"tenant-{secrets.token_hex(4)}",
                          name=f"s-{secrets.token_hex(3)}", cron=cron,
                          job=fields.pop("job", JobSpec(command="echo scheduled")),
                          next_run_at=now - late, **fields).insert()


async def jobs_of(schedule: Schedule) -> list[JobView]:
    cursor = Job.get_pymongo_collection().find(
        {"tenant_id": schedule.tenant_id, "schedule_id": str(schedule.id)}).sort("_id", 1)
    return [JobView.model_validate(doc) async for doc in cursor]


async def reread(schedule: Schedule) -> Schedule:
    found = await Schedule.get(schedule.id)
    assert found is not None
    return found


def ms(at: datetime) -> datetime:
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


async def test_two_processes_racing_on_one_fire_time_make_one_job(scheduler) -> None:
    # Given a due schedule, and two schedulers that both read it as due and submit its job at
    # the same moment (a barrier holds each submit until the other has come to its own)
    schedule = await due_schedule()
    first, second = await scheduler(), await scheduler()
    barrier = asyncio.Barrier(2)
    for each in (first, second):
        submit = each.jobs.submit

        async def held(*args: Any, _submit: Any = submit, **kwargs: Any) -> Any:
            await barrier.wait()
            return await _submit(*args, **kwargs)

        each.jobs.submit = held  # type: ignore[method-assign]
    # When both sweep at once
    now = datetime.now(UTC)
    advanced = await asyncio.gather(first.fire_due(now), second.fire_due(now))
    # Then one job was made for the fire time, and one of the two moved the schedule on
    jobs = await jobs_of(schedule)
    assert len(jobs) == 1
    assert jobs[0].idempotency_key == fire_key(schedule.id, schedule.next_run_at)
    assert sorted(advanced) == [0, 1]
    after = await reread(schedule)
    assert after.last_job_id == str(jobs[0].id)
    assert after.next_run_at is not None and after.next_run_at > now


async def test_a_process_dying_between_submit_and_advance_leaves_no_second_job(
    scheduler, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Died(BaseException):
        """The process is gone (a BaseException: nothing in it catches this)."""

    # Given a due schedule, and a process that dies right after it submitted the job
    schedule = await due_schedule()
    doomed = await scheduler()

    async def die(*_: Any) -> bool:
        raise Died

    monkeypatch.setattr(doomed, "advance", die)
    with pytest.raises(Died):
        await doomed.fire_due(datetime.now(UTC))
    # Then the job is there and the schedule is still due at the same fire time
    made = await jobs_of(schedule)
    assert len(made) == 1
    assert (await reread(schedule)).next_run_at == schedule.next_run_at
    # When another process sweeps
    survivor = await scheduler()
    now = datetime.now(UTC)
    assert await survivor.fire_due(now) >= 1
    # Then it found the same job and moved the schedule on: still one job
    assert [job.id for job in await jobs_of(schedule)] == [made[0].id]
    after = await reread(schedule)
    assert after.last_job_id == str(made[0].id)
    assert after.next_run_at is not None and after.next_run_at > now


async def test_after_an_outage_run_once_makes_one_job_then_goes_on_from_now(scheduler) -> None:
    # Given an hourly schedule whose fire time came five hours ago (the platform was down)
    schedule = await due_schedule("0 * * * *", late=timedelta(hours=5))
    sweeping = await scheduler()
    # When the platform is back and sweeps, second after second
    now = datetime.now(UTC)
    for second in range(3):
        await sweeping.fire_due(now + timedelta(seconds=second))
    # Then the five missed fire times made one job, keyed by the fire time stored
    jobs = await jobs_of(schedule)
    assert len(jobs) == 1
    assert jobs[0].schedule_id == str(schedule.id)
    assert jobs[0].command == "echo scheduled"
    assert jobs[0].idempotency_key == fire_key(schedule.id, schedule.next_run_at)
    # And the schedule goes on from the next full hour after now
    after = await reread(schedule)
    next_hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    assert after.next_run_at == next_hour
    assert after.last_run_at == ms(jobs[0].created_at)
    assert after.last_job_id == str(jobs[0].id)


async def test_after_an_outage_skip_makes_no_job_but_runs_a_fire_time_within_the_grace(
    scheduler
) -> None:
    # Given two "skip" schedules: one due five hours ago, one due 10 s ago (within 60 s)
    missed = await due_schedule("0 * * * *", late=timedelta(hours=5), misfire="skip")
    recent = await due_schedule("0 * * * *", late=timedelta(seconds=10), misfire="skip")
    # When the scheduler sweeps
    now = datetime.now(UTC)
    await (await scheduler()).fire_due(now)
    # Then the late one made no job and just moved on; the recent one made its job
    assert await jobs_of(missed) == []
    assert len(await jobs_of(recent)) == 1
    next_hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    for schedule in (missed, recent):
        assert (await reread(schedule)).next_run_at == next_hour
    assert (await reread(missed)).last_job_id is None


async def test_a_paused_schedule_fires_nothing(scheduler) -> None:
    schedule = await due_schedule(enabled=False)
    await Schedule.get_pymongo_collection().update_one({"_id": schedule.id},
                                                       {"$set": {"next_run_at": None}})
    await (await scheduler()).fire_due(datetime.now(UTC))
    assert await jobs_of(schedule) == []


async def test_a_fire_time_whose_secret_is_gone_makes_no_job_and_says_why(scheduler) -> None:
    # Given a schedule whose job needs a secret its tenant does not have (deleted since)
    schedule = await due_schedule(job=JobSpec(command="deploy", secrets=["DEPLOY_TOKEN"]))
    # When its fire time comes
    now = datetime.now(UTC)
    await (await scheduler()).fire_due(now)
    # Then no job, the reason is on the schedule, and it goes on (not due every second)
    assert await jobs_of(schedule) == []
    after = await reread(schedule)
    assert after.last_error is not None and "unknown secret DEPLOY_TOKEN" in after.last_error
    assert after.next_run_at is not None and after.next_run_at > now
