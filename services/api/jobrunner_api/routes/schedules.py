"""Schedules (SPEC §3): cron schedules that make a job at each fire time. A tenant admin
manages them, anyone of the tenant reads them; the firing is the sweeper's (scheduler.py)."""

from datetime import datetime
from typing import Annotated

from beanie import PydanticObjectId
from fastapi import APIRouter, HTTPException, Query, status
from pymongo.errors import DuplicateKeyError

from jobrunner_api import audit, schedules, scheduler, secretstore
from jobrunner_api.deps import AdminDep, CallerDep, PlatformDep
from jobrunner_api.documents import Job, JobView, Schedule
from jobrunner_api.responses import errors
from jobrunner_api.schemas import (JobOut, JobPage, ScheduleIn, ScheduleOut, SchedulePatch,
                                   SchedulePreview)
from jobrunner_shared.messages import JobSpec, utcnow

router = APIRouter(tags=["schedules"])


def unprocessable(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=detail)


def now_ms() -> datetime:
    """Now, to the millisecond MongoDB keeps: a 201 shows the dates a later read shows."""
    now = utcnow()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


async def tenant_schedule(schedule_id: str, tenant_id: str) -> Schedule:
    """The schedule, or 404 when there is none or it is another tenant's."""
    found = await Schedule.get(PydanticObjectId(schedule_id)) \
        if PydanticObjectId.is_valid(schedule_id) else None
    if found is None or found.tenant_id != tenant_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"schedule {schedule_id} not found")
    return found


async def check_secrets(tenant_id: str, job: JobSpec) -> None:
    """As POST /jobs does: every secret the job names must exist in the tenant."""
    _, unknown = await secretstore.sealed(tenant_id, job.secrets)
    if unknown:
        raise unprocessable(f"job.secrets: unknown secret {', '.join(unknown)} (set it first: "
                            f"PUT /api/v1/secrets/{unknown[0]})")


def next_run(cron: str, timezone: str, enabled: bool) -> datetime | None:
    """The first fire time after now; None while paused (no catch-up of a paused time)."""
    return schedules.next_fire(cron, schedules.zone(timezone), utcnow()) if enabled else None


def duplicate(name: str) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, detail=f"a schedule named {name!r} exists")


@router.post("/schedules", status_code=status.HTTP_201_CREATED,
             responses=errors(403, 409, 422))
async def create_schedule(body: ScheduleIn, caller: AdminDep) -> ScheduleOut:
    await check_secrets(caller.tenant_id, body.job)
    now = now_ms()
    schedule = Schedule(tenant_id=caller.tenant_id, **body.model_dump(), created_at=now,
                        updated_at=now,
                        next_run_at=next_run(body.cron, body.timezone, body.enabled))
    try:
        await schedule.insert()
    except DuplicateKeyError:
        raise duplicate(body.name) from None
    await audit.record(caller, audit.Action.schedule_create,
                       f"{schedule.name} ({schedule.cron}, {schedule.timezone})")
    return ScheduleOut.of(schedule)


@router.get("/schedules")
async def list_schedules(caller: CallerDep) -> list[ScheduleOut]:
    """The tenant's schedules, by name."""
    found = Schedule.find(Schedule.tenant_id == caller.tenant_id).sort(+Schedule.name)
    return [ScheduleOut.of(schedule) async for schedule in found]


@router.get("/schedules/preview", responses=errors(422))
async def preview_schedule(
    _caller: CallerDep,
    cron: Annotated[str, Query(min_length=1, max_length=200)],
    timezone: Annotated[str, Query(min_length=1, max_length=64)] = "UTC",
    count: Annotated[int, Query(ge=1, le=schedules.PREVIEW_MAX)] = 5,
) -> SchedulePreview:
    """The next fire times of an expression in a time zone, and the expression in words: for a
    form, before the schedule is made."""
    try:
        runs = schedules.next_fires(cron, schedules.zone(timezone), utcnow(), count)
        return SchedulePreview(cron=cron, timezone=timezone, description=schedules.describe(cron),
                               next_runs=runs)
    except schedules.InvalidSchedule as exc:
        raise unprocessable(str(exc)) from None


@router.get("/schedules/{schedule_id}", responses=errors(404))
async def get_schedule(schedule_id: str, caller: CallerDep) -> ScheduleOut:
    return ScheduleOut.of(await tenant_schedule(schedule_id, caller.tenant_id))


@router.patch("/schedules/{schedule_id}", responses=errors(403, 404, 409, 422))
async def update_schedule(schedule_id: str, body: SchedulePatch, caller: AdminDep) -> ScheduleOut:
    """Change what is given. `enabled: false` pauses, `true` resumes from the next fire time
    after now; a new cron or timezone moves the next fire time."""
    schedule = await tenant_schedule(schedule_id, caller.tenant_id)
    stored = schedule.model_dump()
    changed = {field: value for field, value in body.model_dump(exclude_unset=True).items()
               if value is not None and value != stored[field]}
    if "job" in changed:
        await check_secrets(caller.tenant_id, body.job)  # type: ignore[arg-type]
    merged = {**stored, **changed}
    if {"enabled", "cron", "timezone"} & changed.keys():
        changed["next_run_at"] = next_run(merged["cron"], merged["timezone"], merged["enabled"])
    if not changed:
        return ScheduleOut.of(schedule)
    # Only the fields changed: the sweeper may be advancing next_run_at meanwhile.
    try:
        await Schedule.get_pymongo_collection().update_one(
            {"_id": schedule.id}, {"$set": {**changed, "updated_at": now_ms()}})
    except DuplicateKeyError:
        raise duplicate(merged["name"]) from None
    await audit.record(caller, audit.Action.schedule_update,
                       f"{schedule.name}: {', '.join(describe_changes(stored, changed))}")
    return ScheduleOut.of(await tenant_schedule(schedule_id, caller.tenant_id))


def describe_changes(stored: dict, changed: dict) -> list[str]:
    said = []
    for field in ("name", "cron", "timezone", "misfire"):
        if field in changed:
            said.append(f"{field} {stored[field]} → {changed[field]}")
    if "job" in changed:
        said.append("job changed")
    if "enabled" in changed:
        said.append("resumed" if changed["enabled"] else "paused")
    return said


@router.delete("/schedules/{schedule_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=errors(403, 404))
async def delete_schedule(schedule_id: str, caller: AdminDep) -> None:
    """Delete the schedule; the jobs it made stay, with their schedule_id."""
    schedule = await tenant_schedule(schedule_id, caller.tenant_id)
    await Schedule.get_pymongo_collection().delete_one({"_id": schedule.id})
    await audit.record(caller, audit.Action.schedule_delete, schedule.name)


@router.post("/schedules/{schedule_id}/trigger", status_code=status.HTTP_201_CREATED,
             responses=errors(403, 404, 422))
async def trigger_schedule(schedule_id: str, caller: AdminDep, platform: PlatformDep) -> JobOut:
    """Make the schedule's job now (paused or not); its fire times are unchanged."""
    schedule = await tenant_schedule(schedule_id, caller.tenant_id)
    job = await scheduler.trigger(platform.jobs, schedule)
    await audit.record(caller, audit.Action.schedule_trigger, f"{schedule.name}: job {job.id}")
    return JobOut.of(job)


@router.get("/schedules/{schedule_id}/jobs", responses=errors(404, 422))
async def schedule_jobs(
    schedule_id: str,
    caller: CallerDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> JobPage:
    """The jobs the schedule made, newest first."""
    schedule = await tenant_schedule(schedule_id, caller.tenant_id)
    query: dict = {"tenant_id": caller.tenant_id, "schedule_id": str(schedule.id)}
    if cursor is not None:
        if not PydanticObjectId.is_valid(cursor):
            raise unprocessable("invalid cursor")
        query["_id"] = {"$lt": PydanticObjectId(cursor)}
    # Index (tenant_id, schedule_id, _id).
    docs = await Job.get_pymongo_collection().find(query).sort("_id", -1).limit(
        limit + 1).to_list()
    jobs = [JobView.model_validate(doc) for doc in docs]
    next_cursor = str(jobs[limit - 1].id) if len(jobs) > limit else None
    return JobPage(items=[JobOut.of(job) for job in jobs[:limit]], next_cursor=next_cursor)
