"""Response bodies of the REST API (request bodies are shared messages, e.g. JobSpec)."""

from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from jobrunner_api import schedules
from jobrunner_api.documents import (ApiKey, AuditEntry, JobView, Role, Schedule, Secret, Tenant,
                                     User, Worker)
from jobrunner_api.security import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH
from jobrunner_shared.messages import JobSpec, JobStatus, LogLine, utcnow

MAX_SECRET_BYTES = 64 * 1024


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"


class TenantIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    admin_username: str = Field(min_length=1, max_length=100)
    admin_password: str = Field(min_length=8, max_length=200)


class TenantOut(BaseModel):
    id: str
    name: str
    created_at: datetime

    @classmethod
    def of(cls, tenant: Tenant) -> "TenantOut":
        return cls(id=str(tenant.id), name=tenant.name, created_at=tenant.created_at)


class MeOut(BaseModel):
    username: str
    role: Role
    platform_admin: bool
    tenant: TenantOut


class PasswordChange(BaseModel):
    model_config = ConfigDict(hide_input_in_errors=True)

    current_password: str = Field(min_length=1, max_length=PASSWORD_MAX_LENGTH)
    new_password: str = Field(
        min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH,
        description=f"At least {PASSWORD_MIN_LENGTH} characters, not containing the username.")


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    username: str = Field(min_length=1, max_length=100, pattern=r"^[^\s]+$")
    password: str = Field(
        min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH,
        description=f"At least {PASSWORD_MIN_LENGTH} characters, not containing the username.")
    role: Role = "member"


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    role: Role | None = None
    password: str | None = Field(
        None, min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH,
        description="A new password set by an admin; the user's tokens end.")


class UserOut(BaseModel):
    id: str
    username: str
    role: Role
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> "UserOut":
        return cls(id=str(user.id), username=user.username, role=user.role,
                   created_at=user.created_at)


class AuditOut(BaseModel):
    id: str
    at: datetime
    actor: str
    action: str
    target: str
    address: str | None

    @classmethod
    def of(cls, entry: AuditEntry) -> "AuditOut":
        return cls(id=str(entry.id), at=entry.at, actor=entry.actor, action=entry.action,
                   target=entry.target, address=entry.address)


class AuditPage(BaseModel):
    items: list[AuditOut]
    next_cursor: str | None


class ApiKeyIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    kind: Literal["worker", "submit"]
    expires_at: AwareDatetime | None = Field(
        None, description="From then on the key is refused like a revoked one; a worker "
        "session using it is cut. Omitted: it never expires.")

    @field_validator("expires_at")
    @classmethod
    def _future(cls, value: datetime | None) -> datetime | None:
        if value is not None and value <= utcnow():
            raise ValueError("must be in the future")
        return value


class ApiKeyOut(BaseModel):
    id: str
    name: str
    kind: Literal["worker", "submit"]
    prefix: str
    created_at: datetime
    last_used_at: datetime | None = None
    expires_at: datetime | None = None
    expired: bool = False

    @classmethod
    def of(cls, key: ApiKey) -> "ApiKeyOut":
        return cls(id=str(key.id), name=key.name, kind=key.kind, prefix=key.prefix,
                   created_at=key.created_at, last_used_at=key.last_used_at,
                   expires_at=key.expires_at, expired=not key.usable())


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The secret key. Shown only in this response.")


class SecretIn(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    value: str = Field(
        min_length=1,
        description="The secret's value: at most 64 KiB of UTF-8, no NUL character. "
        "Never returned by the API.",
    )

    @field_validator("value")
    @classmethod
    def _value(cls, value: str) -> str:
        # The messages never quote the value: errors of this model are answered as they are.
        if len(value.encode()) > MAX_SECRET_BYTES:
            raise ValueError(f"at most {MAX_SECRET_BYTES} bytes (64 KiB) of UTF-8")
        if "\x00" in value:
            raise ValueError("must not contain a NUL character (it cannot be in an environment "
                             "variable)")
        return value


class SecretOut(BaseModel):
    """A secret as the API shows it: its name and dates, never its value."""

    name: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, secret: Secret) -> "SecretOut":
        return cls(name=secret.name, created_at=secret.created_at, updated_at=secret.updated_at)


class AttemptOut(BaseModel):
    number: int
    status: JobStatus
    worker: str | None
    worker_name: str | None
    exit_code: int | None
    error: str | None
    log_lines: int
    queued_at: datetime | None = None
    not_before: datetime | None = Field(
        None, description="A retry waiting for its backoff runs from then on.")
    assigned_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None


class JobOut(BaseModel):
    id: str
    name: str | None
    status: JobStatus
    command: str | None
    argv: list[str] | None
    labels: list[str]
    env: dict[str, str]
    secrets: list[str]
    timeout_seconds: int | None
    max_retries: int
    retry_backoff_seconds: float
    retry_backoff_max_seconds: float
    priority: int
    exit_code: int | None
    error: str | None = Field(description="Why the platform ended the job, e.g. worker_lost.")
    worker: str | None
    worker_name: str | None
    attempt: int
    attempts: list[AttemptOut]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime = Field(description="The job's last change of state.")
    version: int = Field(description="Counts the job's changes of state: of two copies of a "
                         "job (from GET /events, say), the one with the higher version is newer.")
    log_lines: int = Field(description="Lines stored for the current attempt.")
    log_truncated: bool
    rerun_of: str | None
    schedule_id: str | None = Field(None, description="The schedule that made the job.")

    @classmethod
    def of(cls, job: JobView) -> "JobOut":
        return cls(
            id=str(job.id),
            attempts=[AttemptOut(**a.model_dump()) for a in job.attempts],
            log_lines=job.current.log_lines,
            **job.model_dump(
                include={
                    "name", "status", "command", "argv", "labels", "env", "secrets",
                    "timeout_seconds", "max_retries", "retry_backoff_seconds",
                    "retry_backoff_max_seconds", "priority", "exit_code", "error", "worker",
                    "worker_name", "attempt", "created_at", "started_at", "finished_at",
                    "updated_at", "log_truncated", "rerun_of", "schedule_id", "version",
                }
            ),
        )


class JobPage(BaseModel):
    items: list[JobOut]
    next_cursor: str | None


MAX_BULK = 100


class JobIds(BaseModel):
    """The jobs a bulk action applies to (`POST /jobs/cancel`, `POST /jobs/rerun`)."""

    model_config = ConfigDict(extra="forbid")

    ids: list[Annotated[str, Field(max_length=64)]] = Field(
        min_length=1, max_length=MAX_BULK,
        description=f"At most {MAX_BULK} job ids; a repeated id counts once.")


class CancelResult(BaseModel):
    id: str
    outcome: Literal["cancelled", "cancelling", "already_final", "not_found"] = Field(
        description="cancelled: it was queued and ends here; cancelling: it runs, and its "
        "worker stops it; already_final: it had ended; not_found: no such job of this tenant.")
    status: JobStatus | None = Field(None, description="The job's status after the request.")


class CancelResults(BaseModel):
    results: list[CancelResult] = Field(description="One per id, in the order asked.")


class RerunResult(BaseModel):
    id: str
    outcome: Literal["rerun", "not_found", "refused"] = Field(
        description="rerun: job_id is the new job; not_found: no such job of this tenant; "
        "refused: it cannot be submitted again (detail says why, e.g. a secret is gone).")
    job_id: str | None = None
    detail: str | None = None


class RerunResults(BaseModel):
    results: list[RerunResult] = Field(description="One per id, in the order asked.")


class LogPage(BaseModel):
    lines: list[LogLine]
    next: int = Field(description="Pass as `after` to read the following page.")
    complete: bool = Field(description="The attempt is over and every line was returned.")


class WorkerOut(BaseModel):
    id: str
    name: str
    labels: list[str]
    capacity: int
    running: int
    running_jobs: list[str]
    status: Literal["online", "offline", "draining"]
    last_heartbeat: datetime | None
    version: str
    hostname: str

    @classmethod
    def of(cls, worker: Worker, offline_after: float, now: datetime | None = None) -> "WorkerOut":
        status = worker_status(worker, offline_after, now)
        # An offline worker runs nothing the platform knows of: its jobs expire with its leases.
        running = [] if status == "offline" else worker.running_jobs
        return cls(
            id=worker.id, name=worker.name, labels=worker.labels, capacity=worker.capacity,
            running=len(running), running_jobs=running, status=status,
            last_heartbeat=worker.last_heartbeat, version=worker.version, hostname=worker.hostname,
        )


def worker_status(worker: Worker, offline_after: float, now: datetime | None = None) -> str:
    """online, draining or offline; a worker silent for OFFLINE_AFTER counts as offline."""
    now = now or utcnow()
    fresh = worker.last_heartbeat is not None and (
        now - worker.last_heartbeat < timedelta(seconds=offline_after)
    )
    if not worker.connected or not fresh:
        return "offline"
    return "draining" if worker.draining else "online"


# --- schedules (SPEC §3; the cron arithmetic is jobrunner_api.schedules) -----------------------


def _cron(value: str) -> str:
    schedules.expression(value)  # raises with the reason
    return " ".join(value.split())


def _zone(value: str) -> str:
    schedules.zone(value)
    return value


def _job(value: JobSpec) -> JobSpec:
    if value.idempotency_key is not None:
        raise ValueError("a schedule's jobs are keyed by their fire time: leave out "
                         "idempotency_key")
    return value


CRON_DESCRIPTION = ("Five fields, minute hour day-of-month month day-of-week, as Debian's cron "
                    "reads them (e.g. '30 2 * * 1-5'), or @hourly, @daily, @weekly, @monthly, "
                    "@yearly; evaluated in `timezone`.")
MISFIRE_DESCRIPTION = ("Fire times missed while the platform was down: run_once makes one job "
                       "for them when it is back; skip makes none for a fire time more than "
                       "SCHEDULE_MISFIRE_GRACE_SECONDS late.")
Cron = Annotated[str, Field(min_length=1, max_length=200, description=CRON_DESCRIPTION),
                 AfterValidator(_cron)]
Zone = Annotated[str, Field(min_length=1, max_length=64,
                            description="An IANA time zone, e.g. Europe/Berlin."),
                 AfterValidator(_zone)]
ScheduledJob = Annotated[JobSpec, Field(description="The job each fire time makes: the body of "
                                        "POST /jobs, without idempotency_key."),
                         AfterValidator(_job)]


class ScheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="Unique in the tenant.")
    cron: Cron
    timezone: Zone = "UTC"
    job: ScheduledJob
    enabled: bool = True
    misfire: schedules.Misfire = Field("run_once", description=MISFIRE_DESCRIPTION)


class SchedulePatch(BaseModel):
    """The fields to change. `enabled: false` pauses (no fire time until resumed); `true`
    resumes from the next fire time after now. A new cron or timezone sets the next fire time."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=100)
    cron: Cron | None = None
    timezone: Zone | None = None
    job: ScheduledJob | None = None
    enabled: bool | None = None
    misfire: schedules.Misfire | None = Field(None, description=MISFIRE_DESCRIPTION)


class ScheduleOut(BaseModel):
    id: str
    name: str
    cron: str
    timezone: str
    enabled: bool
    misfire: schedules.Misfire
    job: JobSpec
    next_run_at: datetime | None = Field(description="The next fire time; null while paused.")
    last_run_at: datetime | None = Field(description="When the schedule last made a job.")
    last_job_id: str | None
    last_error: str | None = Field(
        description="Why the last fire time made no job (e.g. a secret it names is gone).")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, schedule: Schedule) -> "ScheduleOut":
        return cls(id=str(schedule.id), **schedule.model_dump(exclude={"id", "tenant_id"}))


class SchedulePreview(BaseModel):
    cron: str
    timezone: str
    description: str = Field(description="The expression in words.")
    next_runs: list[datetime] = Field(
        description="The next fire times, in the time zone (with its UTC offset).")
