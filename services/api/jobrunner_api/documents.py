"""MongoDB documents (Beanie) and the index behind every query the services make.

Every document but Tenant carries its tenant_id. docs/architecture.md lists each query with
the index that answers it; a query without one is a bug.
"""

from datetime import datetime
from typing import Literal

import pymongo
from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field

from jobrunner_api.schedules import Misfire
from jobrunner_shared import names
from jobrunner_shared.messages import JobSpec, JobStatus, LogLine, utcnow

ASC, DESC = pymongo.ASCENDING, pymongo.DESCENDING


def unique(*keys: str, sparse: bool = False) -> pymongo.IndexModel:
    return pymongo.IndexModel([(k, ASC) for k in keys], unique=True, sparse=sparse)


class Tenant(Document):
    name: str
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "tenants"
        indexes = [unique("name")]


Role = Literal["admin", "member", "viewer"]


class User(Document):
    """A person who logs in; usernames are unique across the platform (login takes no tenant)."""

    username: str
    password_hash: str
    tenant_id: str
    # A viewer reads; a member also submits, cancels and reruns; an admin also manages keys,
    # secrets, schedules and users (SPEC §3). Users stored before roles were admins.
    role: Role = "admin"
    is_platform_admin: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    # Part of every token issued; a password change adds one, which ends the tokens before it.
    token_generation: int = 0

    class Settings:
        name = "users"
        indexes = [unique("username"), [("tenant_id", ASC), ("username", ASC)]]


class ApiKey(Document):
    """Read by the master too: it matches `key_hash`, checks `kind` and `revoked_at`."""

    tenant_id: str
    name: str
    kind: Literal["worker", "submit"]
    prefix: str
    key_hash: str
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    # From then on the key is refused like a revoked one (SPEC §3); None: it never expires.
    expires_at: datetime | None = None

    def usable(self, now: datetime | None = None) -> bool:
        return self.revoked_at is None and (
            self.expires_at is None or self.expires_at > (now or utcnow()))

    class Settings:
        name = names.API_KEYS_COLLECTION
        indexes = [unique("key_hash"), [("tenant_id", ASC), ("created_at", DESC)]]


class DispatchQueue(Document):
    """A tenant's queue for one set of labels; the master consumes those a worker qualifies for."""

    tenant_id: str
    labels: list[str]
    queue: str
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = names.DISPATCH_QUEUES_COLLECTION
        indexes = [unique("queue"), [("tenant_id", ASC)]]


class Attempt(BaseModel):
    number: int
    status: JobStatus = JobStatus.queued
    worker: str | None = None  # the worker's id
    worker_name: str | None = None
    exit_code: int | None = None
    error: str | None = None
    last_seq: int | None = None
    log_lines: int = 0  # lines stored; only ever `$inc`ed, by the log consumer
    log_truncated: bool = False
    queued_at: datetime = Field(default_factory=utcnow)
    # A retry waiting for its backoff: it is published (and can run) from then on.
    not_before: datetime | None = None
    assigned_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


class Lease(BaseModel):
    """Who holds the current attempt, until when (renewed by its worker's heartbeats)."""

    worker: str
    expires_at: datetime
    renewed_at: datetime  # the time of the presence event that last renewed it


class JobRecord(BaseModel):
    """Every field of a stored job (Job, below, is the same with Beanie's document machinery).

    Pure pydantic: the state machine (transitions.py) and the readers work on JobView, which
    needs no database to be made.
    """

    tenant_id: str
    name: str | None = None
    command: str | None = None
    argv: list[str] | None = None
    labels: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    secrets: list[str] = Field(default_factory=list)
    timeout_seconds: int | None = None
    max_retries: int = 0
    retry_backoff_seconds: float = 1.0
    retry_backoff_max_seconds: float = 300.0
    priority: int = 0
    idempotency_key: str | None = None
    # "<tenant>:<key>" when submitted with an idempotency key: unique (sparse), so that the
    # insert itself decides which of two racing submissions made the job.
    idempotency_scope: str | None = None
    rerun_of: str | None = None
    schedule_id: str | None = None  # the schedule that made it (schedules.py)

    status: JobStatus = JobStatus.queued
    attempt: int = 1  # the current attempt; events of any other attempt are stale
    attempts: list[Attempt] = Field(default_factory=lambda: [Attempt(number=1)])
    exit_code: int | None = None
    error: str | None = None  # why the platform ended it, e.g. worker_lost
    worker: str | None = None
    worker_name: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)  # the last change of state
    started_at: datetime | None = None
    finished_at: datetime | None = None
    log_truncated: bool = False
    # +1 on every change of state: each change is applied only to the version it was decided
    # on (transitions.py), and clients keep the highest version they saw.
    version: int = 1

    # Bookkeeping of the platform, each with an index that the sweeper reads by:
    # the current attempt must be published (again) to RabbitMQ once this passes (a retry's
    # backoff ends, or a publish was not confirmed in time); unset when RabbitMQ confirmed it.
    publish_due_at: datetime | None = None
    lease: Lease | None = None  # while a worker holds the current attempt
    timeout_at: datetime | None = None  # while running with a timeout: then the platform ends it
    # Which batch write last changed the job (jobstore.Jobs.apply_many tells by it which of its
    # writes landed).
    write_token: str | None = None

    @property
    def current(self) -> Attempt:
        return self.attempts[self.attempt - 1]

    @staticmethod
    def attempt_field(number: int, name: str) -> str:
        """The dotted path of a field of attempt `number` (attempts are stored in order)."""
        return f"attempts.{number - 1}.{name}"


class JobView(JobRecord):
    """A job as read from MongoDB."""

    id: PydanticObjectId = Field(alias="_id")


class Job(Document, JobRecord):
    """The jobs collection for Beanie: its indexes, and inserts."""

    class Settings:
        name = names.JOBS_COLLECTION
        indexes = [
            [("tenant_id", ASC), ("_id", DESC)],  # GET /jobs (newest first)
            [("tenant_id", ASC), ("created_at", ASC)],  # /stats: jobs created per minute
            [("tenant_id", ASC), ("status", ASC), ("_id", DESC)],  # ?status=, counts by status
            [("tenant_id", ASC), ("labels", ASC), ("_id", DESC)],  # ?label=
            [("tenant_id", ASC), ("worker", ASC), ("_id", DESC)],  # ?worker= (id)
            [("tenant_id", ASC), ("worker_name", ASC), ("_id", DESC)],  # ?worker= (name)
            [("tenant_id", ASC), ("updated_at", ASC)],  # /events backfill after a reconnect
            [("status", ASC)],  # /metrics: counts by status, all tenants
            unique("idempotency_scope", sparse=True),
            [("publish_due_at", ASC)],  # sweeper: attempts never confirmed by RabbitMQ
            [("lease.expires_at", ASC)],  # sweeper: attempts whose worker went away
            [("lease.worker", ASC)],  # a worker disconnected: shorten its leases
            [("timeout_at", ASC)],  # sweeper: attempts past their timeout
            [("finished_at", ASC)],  # retention: finished jobs past JOB_RETENTION_DAYS
            [("tenant_id", ASC), ("schedule_id", ASC), ("_id", DESC)],  # a schedule's jobs
            # GET /jobs?sort=(-)finished_at; /stats: jobs ended per minute
            [("tenant_id", ASC), ("finished_at", DESC), ("_id", DESC)],
            # GET /jobs?status=...&sort=(-)finished_at
            [("tenant_id", ASC), ("status", ASC), ("finished_at", DESC), ("_id", DESC)],
        ]


class LogChunk(Document):
    """One batch of consecutive lines of one attempt, as the worker sent it.

    `_id` is "<job>:<attempt>:<first seq>", so a resent batch is a duplicate key: stored once.
    """

    id: str  # type: ignore[assignment]
    tenant_id: str
    job_id: str
    attempt: int
    first_seq: int
    last_seq: int
    lines: list[LogLine]

    class Settings:
        name = "log_chunks"
        # Readers ask for the chunks of an attempt ending after a seq, in order.
        indexes = [[("job_id", ASC), ("attempt", ASC), ("last_seq", ASC)]]

    @staticmethod
    def key(job_id: str, attempt: int, first_seq: int) -> str:
        return f"{job_id}:{attempt}:{first_seq}"


class Worker(Document):
    """A worker process as last reported by a master; `id` is the worker's own id."""

    id: str  # type: ignore[assignment]
    tenant_id: str
    name: str
    labels: list[str] = Field(default_factory=list)
    capacity: int = 1
    running_jobs: list[str] = Field(default_factory=list)
    connected: bool = False
    draining: bool = False
    version: str = ""
    hostname: str = ""
    api_key_id: str | None = None
    connected_at: datetime | None = None
    last_heartbeat: datetime | None = None

    class Settings:
        name = "workers"
        indexes = [
            [("tenant_id", ASC), ("name", ASC)],  # GET /workers
            # sweeper: silent ones go offline; /metrics: the slots of those connected
            [("connected", ASC), ("last_heartbeat", ASC)],
        ]


class Secret(Document):
    """A tenant's secret (SPEC §6.7): `_id` is "<tenant>:<name>"; only the ciphertext is stored.

    `ciphertext` is a Fernet token made with ENCRYPTION_KEY (jobrunner_shared.secretbox); the
    value itself is never written anywhere. Looked up by `_id` (submission, dispatch), listed
    per tenant by name.
    """

    id: str  # type: ignore[assignment]
    tenant_id: str
    name: str
    ciphertext: str
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = names.SECRETS_COLLECTION
        indexes = [[("tenant_id", ASC), ("name", ASC)]]

    @staticmethod
    def key(tenant_id: str, name: str) -> str:
        return f"{tenant_id}:{name}"


class AuditEntry(Document):
    """Who did what to which object of a tenant (SPEC §3), written by the request that did it."""

    tenant_id: str
    at: datetime = Field(default_factory=utcnow)
    actor: str  # a username, or "system"
    action: str  # e.g. "api_key.revoke"; jobrunner_api.audit lists them
    target: str = ""  # what it was done to, e.g. the key's name and prefix
    address: str | None = None  # the client address of the request

    class Settings:
        name = "audit"
        indexes = [
            [("tenant_id", ASC), ("_id", DESC)],  # GET /audit (newest first)
            [("tenant_id", ASC), ("action", ASC), ("_id", DESC)],  # ?action=
            [("tenant_id", ASC), ("actor", ASC), ("_id", DESC)],  # ?actor=
            [("at", ASC)],  # retention, like jobs
        ]


class LoginFailures(Document):
    """Failed logins of one username or one client address within one window (throttle.py).

    `_id` is "<user|addr>:<value>:<window number>", so counting is one upsert with `$inc`,
    exact across API processes.
    """

    id: str  # type: ignore[assignment]
    failures: int = 0
    expires_at: datetime  # the window's end: the sweeper deletes it after

    class Settings:
        name = "login_failures"
        indexes = [[("expires_at", ASC)]]


class Schedule(Document):
    """A tenant's cron schedule (SPEC §3): the job it makes at each fire time (scheduler.py).

    `next_run_at` is the next fire time (UTC) while enabled, None while paused; the sweeper of
    every API process reads those due by its index, and advancing it is one conditional update
    on the value read, so a fire time is handled once.
    """

    tenant_id: str
    name: str
    cron: str
    timezone: str = "UTC"
    job: JobSpec
    enabled: bool = True
    misfire: Misfire = "run_once"
    next_run_at: datetime | None = None
    last_run_at: datetime | None = None  # when its last job was made
    last_job_id: str | None = None
    last_error: str | None = None  # why its last fire time made no job (a secret gone, say)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "schedules"
        indexes = [unique("tenant_id", "name"),  # names unique per tenant; GET /schedules
                   [("next_run_at", ASC)]]  # sweeper: fire times due


ALL_DOCUMENTS = [Tenant, User, ApiKey, DispatchQueue, Job, LogChunk, Worker, Secret,
                 AuditEntry, LoginFailures, Schedule]
