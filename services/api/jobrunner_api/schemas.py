"""Response bodies of the REST API (request bodies are shared messages, e.g. JobSpec)."""

from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from jobrunner_api.documents import ApiKey, JobView, Secret, Tenant, Worker
from jobrunner_shared.messages import JobStatus, LogLine, utcnow

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
    platform_admin: bool
    tenant: TenantOut


class ApiKeyIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    kind: Literal["worker", "submit"]


class ApiKeyOut(BaseModel):
    id: str
    name: str
    kind: Literal["worker", "submit"]
    prefix: str
    created_at: datetime
    last_used_at: datetime | None = None

    @classmethod
    def of(cls, key: ApiKey) -> "ApiKeyOut":
        return cls(id=str(key.id), name=key.name, kind=key.kind, prefix=key.prefix,
                   created_at=key.created_at, last_used_at=key.last_used_at)


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
                    "updated_at", "log_truncated", "rerun_of", "version",
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
