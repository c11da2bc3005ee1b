"""`jobrunner schedules list | show | create | update | pause | resume | trigger | delete | jobs |
preview`: cron schedules that make a job at each fire time (SPEC §3)."""

import shlex
from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import typer

from . import completion, output
from .client import Api
from .common import CursorOption, JsonOption, LimitOption, api, find_one, more_note
from .errors import UsageProblem
from .jobs import job_table
from .submit import (ArgvOption, CmdArgument, EnvOption, LabelsOption, PriorityOption,
                     RetriesOption, SecretsOption, TimeoutOption, WaitOption, command_body,
                     finish, job_options)

app = typer.Typer(help="Cron schedules of your tenant, each making a job at its fire times: "
                       "list, show, create, update, pause, resume, trigger, delete, jobs, "
                       "preview.", no_args_is_help=True)

LISTING = "jobrunner schedules list"
NEXT_RUNS = 5  # what `create` shows


class Misfire(str, Enum):
    """What a fire time missed while the platform was down makes (SPEC §3)."""

    run_once = "run_once"
    skip = "skip"


ScheduleRef = Annotated[str, typer.Argument(
    metavar="SCHEDULE", help="The schedule's name or id.", autocompletion=completion.schedules)]
CronOption = Annotated[str, typer.Option(
    "--cron", metavar="EXPR",
    help="Five fields, minute hour day-of-month month day-of-week (e.g. '30 2 * * 1-5'), or "
         "@hourly, @daily, @weekly, @monthly, @yearly.")]
TimezoneOption = Annotated[str | None, typer.Option(
    "--timezone", "--tz", metavar="ZONE",
    help="The IANA time zone the expression is read in, e.g. Europe/Paris (default UTC).")]
MisfireOption = Annotated[Misfire | None, typer.Option(
    "--misfire", metavar="POLICY",
    help="Fire times missed while the platform was down: run_once (the default) makes one job "
         "for them, skip makes none.")]
JobNameOption = Annotated[str | None, typer.Option(
    "--job-name", metavar="NAME", help="The name of the jobs it makes (default: the schedule's).")]


def state(schedule: dict[str, Any]) -> output.Text:
    return output.cell("active", "green") if schedule.get("enabled") else \
        output.cell("paused", "yellow")


def in_zone(value: str) -> str:
    """A fire time as the API gave it, in the schedule's zone: `2026-12-02 02:30:00 +01:00`."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    offset = moment.strftime("%z")
    return f"{moment:%Y-%m-%d %H:%M:%S} {offset[:3]}:{offset[3:]}" if offset else \
        f"{moment:%Y-%m-%d %H:%M:%S}"


def resolve(client: Api, ref: str) -> dict[str, Any]:
    return find_one(client.get("/schedules"), ref, "schedule", LISTING)


def preview_of(client: Api, cron: str, timezone: str, count: int) -> dict[str, Any]:
    return client.get("/schedules/preview", cron=cron, timezone=timezone, count=count)


def print_runs(preview: dict[str, Any]) -> None:
    for run in preview.get("next_runs") or []:
        print(f"  {in_zone(run)}")


def what(job: dict[str, Any]) -> str:
    return job.get("command") or shlex.join(job.get("argv") or [])


@app.command("list")
def list_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List the schedules by name: expression, zone, active or paused, next fire time, last
    job."""
    with api(ctx) as client:
        found = client.get("/schedules")
    if as_json:
        output.print_json(found)
        return
    output.table(["NAME", "CRON", "TZ", "STATE", "NEXT RUN", "LAST JOB", "ID"], [
        [s.get("name"), s.get("cron"), s.get("timezone"), state(s),
         output.when(s.get("next_run_at")), s.get("last_job_id"), s.get("id")] for s in found
    ])


@app.command()
def show(ctx: typer.Context, schedule: ScheduleRef, as_json: JsonOption = False) -> None:
    """One schedule: when it fires, what it last did, and the job it makes."""
    with api(ctx) as client:
        found = resolve(client, schedule)
        if as_json:
            output.print_json(found)
            return
        preview = preview_of(client, found["cron"], found["timezone"], 1)
    job = found.get("job") or {}
    env = job.get("env") or {}
    output.fields([
        ("id", found.get("id")),
        ("name", found.get("name")),
        ("state", state(found)),
        ("cron", f"{found.get('cron')} ({preview.get('description')})"),
        ("timezone", found.get("timezone")),
        ("misfire", found.get("misfire")),
        ("next run", output.when(found.get("next_run_at"))),
        ("last run", output.when(found.get("last_run_at"))),
        ("last job", found.get("last_job_id")),
        ("last error", found.get("last_error")),
        ("job name", job.get("name")),
        ("command", job["command"]) if job.get("command") is not None else
        ("argv", shlex.join(job.get("argv") or [])),
        ("labels", ", ".join(job.get("labels") or [])),
        ("env", ", ".join(f"{k}={v}" for k, v in env.items())),
        ("secrets", ", ".join(job.get("secrets") or [])),
        ("timeout", f"{job['timeout_seconds']} s" if job.get("timeout_seconds") else None),
        ("retries", job.get("max_retries")),
        ("priority", job.get("priority")),
        ("created", output.when(found.get("created_at"))),
        ("updated", output.when(found.get("updated_at"))),
    ])


@app.command()
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="The schedule's name (unique).")],
    cmd: CmdArgument,
    cron: CronOption,
    timezone: TimezoneOption = None,
    misfire: MisfireOption = None,
    paused: Annotated[bool, typer.Option(
        "--paused", help="Create it paused: no job until `jobrunner schedules resume`.")] = False,
    job_name: JobNameOption = None,
    label: LabelsOption = None,
    env: EnvOption = None,
    secret: SecretsOption = None,
    timeout: TimeoutOption = None,
    retries: RetriesOption = None,
    priority: PriorityOption = None,
    argv: ArgvOption = False,
    as_json: JsonOption = False,
) -> None:
    """Create a schedule: `jobrunner schedules create nightly --cron '0 3 * * *' -- CMD...`
    (CMD after --: the words after it are all the command's). Prints its next five fire
    times."""
    job = command_body(cmd, argv, "jobrunner schedules create NAME --cron EXPR -- CMD...")
    job.update(job_options(name=job_name or name, labels=label, env=env, secrets=secret,
                           timeout=timeout, retries=retries, priority=priority))
    body: dict[str, Any] = {"name": name, "cron": cron, "timezone": timezone or "UTC",
                            "job": job, "enabled": not paused}
    if misfire is not None:
        body["misfire"] = misfire.value
    with api(ctx) as client:
        created = client.call("POST", "/schedules", json=body)
        if as_json:
            output.print_json(created)
            return
        preview = preview_of(client, created["cron"], created["timezone"], NEXT_RUNS)
    print(f"created schedule {created['name']} ({created['id']}): {preview.get('description')}, "
          f"in {created['timezone']}")
    if not created.get("enabled"):
        print(f"paused: no job until `jobrunner schedules resume {created['name']}`; "
              f"once resumed, the next runs would be:")
    else:
        print("next runs:")
    print_runs(preview)


class Clearable(str, Enum):
    labels = "labels"
    env = "env"
    secrets = "secrets"


# What --clear empties: (the job's field, the option that sets it).
CLEARED_FIELDS = {Clearable.labels: ("labels", "--label"), Clearable.env: ("env", "--env"),
                  Clearable.secrets: ("secrets", "--secret")}


@app.command()
def update(
    ctx: typer.Context,
    schedule: ScheduleRef,
    cmd: Annotated[list[str] | None, typer.Argument(
        metavar="CMD", help="A new command for its jobs (after --).",
        show_default=False)] = None,
    rename: Annotated[str | None, typer.Option(
        "--rename", metavar="NAME", help="A new name for the schedule.")] = None,
    cron: Annotated[str | None, typer.Option(
        "--cron", metavar="EXPR", help="A new expression.")] = None,
    timezone: TimezoneOption = None,
    misfire: MisfireOption = None,
    job_name: JobNameOption = None,
    label: LabelsOption = None,
    env: EnvOption = None,
    secret: SecretsOption = None,
    timeout: TimeoutOption = None,
    retries: RetriesOption = None,
    priority: PriorityOption = None,
    argv: ArgvOption = False,
    clear: Annotated[list[Clearable] | None, typer.Option(
        "--clear", metavar="LIST", help="Empty one of its jobs' lists: labels, env or secrets "
        "(repeatable).", show_default=False)] = None,
    as_json: JsonOption = False,
) -> None:
    """Change a schedule: what is given changes, the rest stays. A job option changes only that
    of its jobs (--label, --env, --secret: the whole list; --clear empties one); a new command
    goes after --."""
    patch: dict[str, Any] = {}
    for field, value in (("name", rename), ("cron", cron), ("timezone", timezone),
                         ("misfire", misfire.value if misfire else None)):
        if value is not None:
            patch[field] = value
    job_changes = job_options(name=job_name, labels=label, env=env, secrets=secret,
                              timeout=timeout, retries=retries, priority=priority)
    for cleared in clear or []:
        field, option = CLEARED_FIELDS[cleared]
        if field in job_changes:
            raise UsageProblem(f"--clear {cleared.value} and {option} together: give one")
        job_changes[field] = {} if cleared is Clearable.env else []
    words = [word for word in cmd or [] if word != "--"]
    if words:
        job_changes.update(command_body(words, argv, ""))
    elif argv:
        raise UsageProblem("--argv goes with a new command: jobrunner schedules update SCHEDULE "
                           "--argv -- CMD...")
    if not patch and not job_changes:
        raise UsageProblem("nothing to change: give --cron, --timezone, --rename, --misfire, a "
                           "job option, --clear or a new command (see `jobrunner schedules "
                           "update --help`)")
    with api(ctx) as client:
        found = resolve(client, schedule)
        if job_changes:
            job = {key: value for key, value in (found.get("job") or {}).items()
                   if value is not None}
            if "command" in job_changes or "argv" in job_changes:
                job.pop("command", None)
                job.pop("argv", None)
            patch["job"] = {**job, **job_changes}
        updated = client.call("PATCH", f"/schedules/{found['id']}", json=patch)
    if as_json:
        output.print_json(updated)
        return
    next_run = output.when(updated.get("next_run_at")) if updated.get("enabled") else "paused"
    print(f"updated schedule {updated.get('name')} ({updated.get('id')}); next run: {next_run}")


def set_enabled(ctx: typer.Context, ref: str, enabled: bool, as_json: bool) -> None:
    with api(ctx) as client:
        found = resolve(client, ref)
        changed = client.call("PATCH", f"/schedules/{found['id']}", json={"enabled": enabled})
    if as_json:
        output.print_json(changed)
    elif enabled:
        print(f"resumed schedule {changed.get('name')}; next run: "
              f"{output.when(changed.get('next_run_at'))}")
    else:
        print(f"paused schedule {changed.get('name')}: no job until it is resumed")


@app.command()
def pause(ctx: typer.Context, schedule: ScheduleRef, as_json: JsonOption = False) -> None:
    """Pause a schedule: it makes no job until resumed (nor for the times it missed)."""
    set_enabled(ctx, schedule, False, as_json)


@app.command()
def resume(ctx: typer.Context, schedule: ScheduleRef, as_json: JsonOption = False) -> None:
    """Resume a paused schedule from its next fire time after now."""
    set_enabled(ctx, schedule, True, as_json)


@app.command()
def trigger(ctx: typer.Context, schedule: ScheduleRef, wait: WaitOption = False,
            as_json: JsonOption = False) -> None:
    """Make the schedule's job now, paused or not (its fire times stay); prints the job's id."""
    with api(ctx) as client:
        found = resolve(client, schedule)
        job = client.call("POST", f"/schedules/{found['id']}/trigger")
        finish(client, job, wait=wait, as_json=as_json)


@app.command()
def delete(ctx: typer.Context, schedule: ScheduleRef) -> None:
    """Delete a schedule; the jobs it made stay."""
    with api(ctx) as client:
        found = resolve(client, schedule)
        client.call("DELETE", f"/schedules/{found['id']}")
    print(f"deleted schedule {found.get('name')} ({found['id']})")


@app.command()
def jobs(ctx: typer.Context, schedule: ScheduleRef, limit: LimitOption = None,
         cursor: CursorOption = None, as_json: JsonOption = False) -> None:
    """The jobs a schedule made, newest first."""
    with api(ctx) as client:
        found = resolve(client, schedule)
        page = client.get(f"/schedules/{found['id']}/jobs", limit=limit, cursor=cursor)
    if as_json:
        output.print_json(page)
        return
    job_table(page.get("items", []))
    more_note(page, "jobs", f"jobrunner schedules jobs {shlex.quote(found['name'])}")


@app.command()
def preview(
    ctx: typer.Context,
    cron: CronOption,
    timezone: TimezoneOption = None,
    count: Annotated[int, typer.Option(
        "--count", metavar="N", min=1, max=50, help="How many fire times.")] = NEXT_RUNS,
    as_json: JsonOption = False,
) -> None:
    """An expression in words and its next fire times, before making a schedule of it."""
    with api(ctx) as client:
        found = preview_of(client, cron, timezone or "UTC", count)
    if as_json:
        output.print_json(found)
        return
    print(f"{found.get('description')}, in {found.get('timezone')}:")
    print_runs(found)
