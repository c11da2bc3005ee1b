"""MongoDB documents (Beanie). Every document but Tenant carries its tenant_id."""

from datetime import datetime
from typing import Literal

import pymongo
from beanie import Document
from pydantic import BaseModel, Field

from jobrunner_shared import names
from jobrunner_shared.messages import JobStatus, LogLine, utcnow


def unique(*keys: str) -> pymongo.IndexModel:
    return pymongo.IndexModel([(k, pymongo.ASCENDING) for k in keys], unique=True)


class Tenant(Document):
    name: str
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "tenants"
        indexes = [unique("name")]


class User(Document):
    username: str
    password_hash: str
    tenant_id: str
    is_tenant_admin: bool = True
    is_platform_admin: bool = False
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "users"
        indexes = [unique("username")]


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

    class Settings:
        name = names.API_KEYS_COLLECTION
        indexes = [
            unique("key_hash"),
            [("tenant_id", pymongo.ASCENDING), ("created_at", pymongo.DESCENDING)]]


class DispatchQueue(Document):
    """A tenant's queue for one set of labels; the master consumes those a worker qualifies for."""

    tenant_id: str
    labels: list[str]
    queue: str
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = names.DISPATCH_QUEUES_COLLECTION
        indexes = [unique("queue"), [("tenant_id", pymongo.ASCENDING)]]


class Attempt(BaseModel):
    number: int
    status: JobStatus = JobStatus.queued
    worker: str | None = None  # the worker's id
    worker_name: str | None = None
    exit_code: int | None = None
    error: str | None = None
    last_seq: int | None = None
    log_lines: int = 0  # lines stored
    log_truncated: bool = False
    queued_at: datetime = Field(default_factory=utcnow)
    assigned_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


class Job(Document):
    tenant_id: str
    name: str | None = None
    command: str | None = None
    argv: list[str] | None = None
    labels: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    secrets: list[str] = Field(default_factory=list)
    timeout_seconds: int | None = None
    max_retries: int = 0
    priority: int = 0
    idempotency_key: str | None = None
    rerun_of: str | None = None

    status: JobStatus = JobStatus.queued
    attempt: int = 1  # the current attempt; events of any other attempt are stale
    attempts: list[Attempt] = Field(default_factory=lambda: [Attempt(number=1)])
    exit_code: int | None = None
    error: str | None = None  # why the platform ended it, e.g. worker_lost
    worker: str | None = None
    worker_name: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)  # any change of state: GET /events
    started_at: datetime | None = None
    finished_at: datetime | None = None
    log_truncated: bool = False

    class Settings:
        name = names.JOBS_COLLECTION
        indexes = [
            [("tenant_id", pymongo.ASCENDING), ("_id", pymongo.DESCENDING)],
            [("tenant_id", pymongo.ASCENDING), ("status", pymongo.ASCENDING)],
            [("tenant_id", pymongo.ASCENDING), ("updated_at", pymongo.ASCENDING)],
        ]

    @property
    def current(self) -> Attempt:
        return self.attempts[self.attempt - 1]

    @staticmethod
    def attempt_field(number: int, name: str) -> str:
        """The dotted path of a field of attempt `number` (attempts are stored in order)."""
        return f"attempts.{number - 1}.{name}"


class OutboxEntry(Document):
    """An attempt stored but not yet confirmed in RabbitMQ; `_id` is "<job>:<attempt>".

    Kept apart from the jobs so that it stays small: written before the publish, deleted after
    the confirm; whatever is left was never confirmed and is published again.
    """

    id: str  # type: ignore[assignment]
    job_id: str
    attempt: int
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "outbox"

    @staticmethod
    def key(job_id: str, attempt: int) -> str:
        return f"{job_id}:{attempt}"


class IdempotencyKey(Document):
    """`_id` is "<tenant>:<key>": a unique index without partial-index support."""

    id: str  # type: ignore[assignment]
    job_id: str
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "idempotency_keys"


class LogChunk(Document):
    """One batch of consecutive lines of one attempt, as the worker sent it.

    `_id` is "<job>:<attempt>:<first seq>", so a resent batch is a duplicate key, and every read
    is a lookup by `_id` (the one lookup FerretDB v1 does not answer by scanning).
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

    @staticmethod
    def key(job_id: str, attempt: int, first_seq: int) -> str:
        return f"{job_id}:{attempt}:{first_seq}"


class LogIndex(Document):
    """Where an attempt's chunks start: `_id` is "<job>:<attempt>"."""

    id: str  # type: ignore[assignment]
    starts: list[int] = Field(default_factory=list)

    class Settings:
        name = "log_indexes"

    @staticmethod
    def key(job_id: str, attempt: int) -> str:
        return f"{job_id}:{attempt}"


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
        indexes = [[("tenant_id", pymongo.ASCENDING), ("name", pymongo.ASCENDING)]]


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
        indexes = [[("tenant_id", pymongo.ASCENDING), ("name", pymongo.ASCENDING)]]

    @staticmethod
    def key(tenant_id: str, name: str) -> str:
        return f"{tenant_id}:{name}"


ALL_DOCUMENTS = [
    Tenant, User, ApiKey, DispatchQueue, Job, OutboxEntry, IdempotencyKey, LogChunk, LogIndex,
    Worker, Secret,
]
