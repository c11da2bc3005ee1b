"""Firing schedules (SPEC §3): each fire time makes exactly one job, however many API
processes sweep at once.

The sweeper of every API process calls `Scheduler.fire_due` each second. It reads the schedules
due (`next_run_at <= now`, by its index, at most BATCH) and, for each, takes two steps, with no
lock and no transaction:

1. submit its job with the idempotency key `schedule:<id>:<fire time>`: the unique index on
   the jobs' idempotency scope keeps one job per key, and any later submit with that key gets
   the first job back;
2. advance the schedule with one update conditional on the fire time it read: `next_run_at`
   becomes the next fire time after now, `last_run_at` and `last_job_id` the job's. Of the
   processes that read the same fire time, one update lands; an edit made since (a pause, a
   new cron) is kept.

A process that dies between the two leaves the schedule due: the next sweep, of any process,
submits with the same key, gets the same job, and advances it.

Misfires (fire times missed while the platform was down): the schedule's stored `next_run_at`
is the first one missed; it makes one job (keyed by that stored time, which every process reads
alike, not by a time derived from its own clock), then the schedule goes on from the next fire
time after now. With `misfire: skip`, a fire time more than SCHEDULE_MISFIRE_GRACE_SECONDS late
makes no job; the schedule just goes on.
"""

import logging
from datetime import UTC, datetime, timedelta

from bson import ObjectId
from pymongo.errors import PyMongoError

from jobrunner_api import schedules
from jobrunner_api.documents import JobView, Schedule
from jobrunner_api.jobstore import InvalidSubmission, Jobs

log = logging.getLogger(__name__)
BATCH = 100


def fire_key(schedule_id: ObjectId | str, due: datetime) -> str:
    """The idempotency key of a fire time's job: the same in every process."""
    return f"schedule:{schedule_id}:{due.astimezone(UTC).isoformat(timespec='seconds')}"


class Scheduler:
    def __init__(self, jobs: Jobs, misfire_grace_seconds: float) -> None:
        self.jobs = jobs
        self.grace = timedelta(seconds=misfire_grace_seconds)

    @staticmethod
    def collection():  # noqa: ANN205 - pymongo's AsyncCollection
        return Schedule.get_pymongo_collection()

    async def fire_due(self, now: datetime) -> int:
        """Handle the fire times due at `now`; returns how many schedules this process advanced."""
        docs = await self.collection().find(
            {"next_run_at": {"$lte": now}}
        ).sort("next_run_at", 1).limit(BATCH).to_list()
        advanced = 0
        for doc in docs:
            try:
                advanced += await self.fire(Schedule.model_validate(doc), now)
            except PyMongoError:
                raise  # the database is away: the sweep backs off, the schedules stay due
            except Exception:  # noqa: BLE001
                # Why: one broken schedule must not hold back the others; it stays due.
                log.exception("schedule %s: its fire time %s failed", doc["_id"],
                              doc.get("next_run_at"))
        return advanced

    async def fire(self, schedule: Schedule, now: datetime) -> bool:
        """Make the job of the schedule's due fire time (unless skipped), then advance it.
        True if this process's advance landed."""
        due = schedule.next_run_at
        assert due is not None  # read as due
        try:
            firing = schedules.on_due(schedule.cron, schedules.zone(schedule.timezone), due, now,
                                      schedule.misfire, self.grace)
        except schedules.InvalidSchedule as exc:
            # Stored before a change of cronsim or of the zone database: paused, and says why.
            log.warning("schedule %s paused: %s", schedule.id, exc)
            return await self.advance(schedule, {"enabled": False, "next_run_at": None,
                                                 "last_error": str(exc)})
        changes: dict = {"next_run_at": firing.next_run_at}
        if firing.run:
            changes |= await self.submit(schedule, due)
        else:
            log.info("schedule %s: fire time %s skipped, %.0f s late (misfire: skip)",
                     schedule.id, due.isoformat(), (now - due).total_seconds())
        return await self.advance(schedule, changes)

    async def submit(self, schedule: Schedule, due: datetime) -> dict:
        """The job of fire time `due` (the first one, if a submit with its key came before)."""
        spec = schedule.job.model_copy(update={"idempotency_key": fire_key(schedule.id, due)})
        try:
            job, _ = await self.jobs.submit(spec, schedule.tenant_id, schedule_id=str(schedule.id))
        except InvalidSubmission as exc:
            log.warning("schedule %s: fire time %s made no job: %s", schedule.id,
                        due.isoformat(), exc.reason)
            return {"last_error": f"the fire time {due.isoformat()} made no job: {exc.reason}"}
        return ran(job)

    async def advance(self, schedule: Schedule, changes: dict) -> bool:
        # Why conditional on the fire time read: of the processes that handled it, one moves
        # the schedule on, and an edit made meanwhile (a pause, a new cron) is not undone.
        result = await self.collection().update_one(
            {"_id": schedule.id, "next_run_at": schedule.next_run_at}, {"$set": changes})
        return result.matched_count == 1


async def trigger(jobs: Jobs, schedule: Schedule) -> JobView:
    """A job of the schedule made now, outside its fire times (POST .../trigger).

    Raises InvalidSubmission for a secret the tenant does not have.
    """
    job, _ = await jobs.submit(schedule.job, schedule.tenant_id, schedule_id=str(schedule.id))
    await Schedule.get_pymongo_collection().update_one({"_id": schedule.id}, {"$set": ran(job)})
    return job


def ran(job: JobView) -> dict:
    return {"last_run_at": job.created_at, "last_job_id": str(job.id), "last_error": None}
