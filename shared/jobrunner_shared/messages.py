"""Pydantic models for every message that crosses a process boundary.

Socket.IO payloads (SPEC §5), the RabbitMQ topic messages between API and master, and the job
submission body shared by REST and AMQP (SPEC §3, §4). Unknown fields are ignored so that a
newer peer can add fields without breaking an older one; missing or malformed ones are errors.
"""

import re
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

LABEL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,62}$")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_TIMEOUT_SECONDS = 7 * 24 * 3600


def utcnow() -> datetime:
    return datetime.now(UTC)


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    timed_out = "timed_out"
    cancelled = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset(
    {JobStatus.succeeded, JobStatus.failed, JobStatus.timed_out, JobStatus.cancelled}
)
AttemptOutcome = Literal["succeeded", "failed", "timed_out", "cancelled"]
Stream = Literal["stdout", "stderr"]


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore")


def _check_labels(labels: list[str]) -> list[str]:
    for label in labels:
        if not LABEL_RE.match(label):
            raise ValueError(
                f"label {label!r} must be 1-63 characters of letters, digits and _.:/- "
                "starting with a letter or digit"
            )
    return sorted(set(labels))


# --- submission (REST body and AMQP body) -----------------------------------------------------


class JobSpec(Message):
    """What a user submits: SPEC §3 `POST /api/v1/jobs`, SPEC §4 AMQP body."""

    model_config = ConfigDict(extra="forbid")

    command: str | None = Field(None, min_length=1, max_length=65536)
    argv: list[Annotated[str, Field(max_length=65536)]] | None = Field(None, min_length=1)
    name: str | None = Field(None, max_length=200)
    labels: list[str] = Field(default_factory=list, max_length=32)
    env: dict[str, Annotated[str, Field(max_length=65536)]] = Field(default_factory=dict)
    secrets: list[str] = Field(default_factory=list, max_length=64)
    timeout_seconds: int | None = Field(None, gt=0, le=MAX_TIMEOUT_SECONDS)
    max_retries: int = Field(0, ge=0, le=10)
    # The first retry waits this long, each next one twice as long, up to the maximum; each
    # wait is drawn between half and all of its nominal value (SPEC §3).
    retry_backoff_seconds: float = Field(1.0, ge=0, le=86400)
    retry_backoff_max_seconds: float = Field(300.0, ge=0, le=7 * 86400)
    priority: int = Field(0, ge=0, le=9)
    idempotency_key: str | None = Field(None, min_length=1, max_length=200)

    @field_validator("labels")
    @classmethod
    def _labels(cls, labels: list[str]) -> list[str]:
        return _check_labels(labels)

    @field_validator("env")
    @classmethod
    def _env(cls, env: dict[str, str]) -> dict[str, str]:
        for key in env:
            if not ENV_NAME_RE.match(key):
                raise ValueError(f"environment variable name {key!r} is not valid")
        return env

    @field_validator("secrets")
    @classmethod
    def _secrets(cls, names: list[str]) -> list[str]:
        for name in names:
            if not ENV_NAME_RE.match(name):
                raise ValueError(f"secret name {name!r} is not a valid variable name")
        return list(dict.fromkeys(names))  # each once, in the order given

    @model_validator(mode="after")
    def _command_or_argv(self) -> "JobSpec":
        if (self.command is None) == (self.argv is None):
            raise ValueError("give exactly one of 'command' (a shell string) or 'argv' (a list)")
        both = sorted(set(self.env) & set(self.secrets))
        if both:
            raise ValueError(
                f"{', '.join(both)}: both in 'env' and in 'secrets'; give each variable once"
            )
        return self


# --- API -> master: a job ready to run ---------------------------------------------------------


class JobAssignment(Message):
    """Published by the API on the tenant's dispatch queue; sent to a worker as `job:assign`."""

    job_id: str
    tenant_id: str
    attempt: int = Field(ge=1)
    command: str | None = None
    argv: list[str] | None = None
    env: dict[str, str] = Field(default_factory=dict)
    labels: list[str] = Field(default_factory=list)
    timeout_seconds: int | None = None
    mask: list[str] = Field(default_factory=list)
    # Name -> ciphertext (a Fernet token) of each secret the job names, as stored when the API
    # published the attempt. Only the master decrypts them, into `env` and `mask`; the worker
    # never receives this field, and no plaintext ever travels through RabbitMQ.
    secrets: dict[str, str] = Field(default_factory=dict)
    # The stored log's cap (SPEC §6.8): past it the worker sends one truncation line, no more.
    max_log_bytes: int | None = Field(None, gt=0)


class AssignAck(Message):
    """The worker's Socket.IO acknowledgement of `job:assign`."""

    accepted: bool
    reason: str | None = None


# --- worker -> master (SPEC §5) ------------------------------------------------------------------


class WorkerAuth(Message):
    """The Socket.IO `auth` payload a worker connects with."""

    api_key: str = Field(min_length=1)
    name: str = Field(min_length=1, max_length=200)
    labels: list[str] = Field(default_factory=list, max_length=64)
    capacity: int = Field(1, ge=1, le=1024)
    version: str = ""
    hostname: str = ""
    worker_id: str | None = Field(None, min_length=8, max_length=64)

    @field_validator("labels")
    @classmethod
    def _labels(cls, labels: list[str]) -> list[str]:
        return _check_labels(labels)


class AttemptRef(Message):
    job_id: str
    attempt: int = Field(ge=1)


class JobStarted(AttemptRef):
    pid: int | None = None
    # How long the worker held the start back before sending it (a short attempt may end
    # meanwhile and be sent as one job:ran): the master dates the start that much earlier.
    held_seconds: float = Field(0.0, ge=0, le=3600)


class LogLine(Message):
    seq: int = Field(ge=1)
    stream: Stream
    text: str
    ts: datetime


class JobLog(AttemptRef):
    lines: list[LogLine] = Field(min_length=1)


class JobFinished(AttemptRef):
    status: AttemptOutcome
    exit_code: int | None = None
    error: str | None = None
    # The seq of the attempt's last output line (0: no output), so the platform knows when it
    # has stored every line even though logs and status travel on different queues.
    last_seq: int | None = Field(None, ge=0)
    log_truncated: bool = False


class JobRan(JobFinished):
    """A short attempt in one event: what `job:started`, `job:log` and `job:finished` would
    say, sent instead of them when the attempt ended before its start was sent (a worker
    holds a start back a moment for that). One round trip, one message, one write."""

    pid: int | None = None
    # From the process's start to its end, on the worker's monotonic clock: the master dates
    # the start by it (hosts' clocks differ; a duration does not).
    duration_seconds: float = Field(0.0, ge=0)
    lines: list[LogLine] = Field(default_factory=list)


class Heartbeat(Message):
    running: list[AttemptRef] = Field(default_factory=list)
    draining: bool = False


class EventAck(Message):
    """The master's acknowledgement of a worker event: it is safely in RabbitMQ."""

    ok: bool
    error: str | None = None


# --- master -> API topic messages ----------------------------------------------------------------


class WorkerRef(Message):
    tenant_id: str
    worker_id: str
    worker_name: str


class JobAssignedEvent(AttemptRef, WorkerRef):
    """The worker took the attempt (master, before it acknowledges the dispatch delivery)."""

    kind: Literal["assigned"] = "assigned"
    at: datetime = Field(default_factory=utcnow)


class JobStartedEvent(JobStarted, WorkerRef):
    kind: Literal["started"] = "started"
    at: datetime = Field(default_factory=utcnow)  # when the process started, as the master saw


class JobFinishedEvent(JobFinished, WorkerRef):
    kind: Literal["finished"] = "finished"
    at: datetime = Field(default_factory=utcnow)


class JobRanEvent(JobRan, WorkerRef):
    """`job:ran` as relayed: `at` is when the master received it, the end."""

    kind: Literal["ran"] = "ran"
    at: datetime = Field(default_factory=utcnow)

    def started_at(self) -> datetime:
        return self.at - timedelta(seconds=self.duration_seconds)


class CancelRequested(Message):
    """A user asked to cancel a job. Published by API versions before 0.2 (which applied job
    state in one process); still applied if one is found in a queue."""

    kind: Literal["cancel_requested"] = "cancel_requested"
    tenant_id: str
    job_id: str
    at: datetime = Field(default_factory=utcnow)


class AttemptExpired(AttemptRef):
    """The platform gave up on an attempt: its worker went silent, or it overran its timeout.

    The sweeper applies this itself now; published by API versions before 0.2, still applied.
    """

    kind: Literal["expired"] = "expired"
    tenant_id: str
    reason: Literal["worker_lost", "timeout"]
    at: datetime = Field(default_factory=utcnow)


class AttemptUnrunnable(AttemptRef):
    """An attempt no worker took yet cannot run: a secret it names is gone or unreadable.

    Published by the API when it publishes the attempt, or by the master before it assigns it;
    the job ends `failed` with `error`, without a retry (a retry could not do better).
    """

    kind: Literal["unrunnable"] = "unrunnable"
    tenant_id: str
    error: str
    at: datetime = Field(default_factory=utcnow)


# Everything that changes a job's state travels on the job-events queue; `kind` tells them apart.
JobEvent = Annotated[
    JobAssignedEvent | JobStartedEvent | JobFinishedEvent | JobRanEvent | CancelRequested
    | AttemptExpired | AttemptUnrunnable,
    Field(discriminator="kind"),
]


class JobEventBatch(Message):
    """Several job events in one message, in the order the master received them: what came in
    while its previous message was being confirmed (jobrunner_shared.batching)."""

    kind: Literal["batch"] = "batch"
    events: list[JobEvent] = Field(min_length=1, max_length=1000)


# What the job-events queue carries: one event, or a batch of them.
JobEventMessage = Annotated[
    JobAssignedEvent | JobStartedEvent | JobFinishedEvent | JobRanEvent | CancelRequested
    | AttemptExpired | AttemptUnrunnable | JobEventBatch,
    Field(discriminator="kind"),
]


class LogBatchEvent(JobLog, WorkerRef):
    pass


class LogBatches(Message):
    """Several output batches in one message (as JobEventBatch, for the log topic)."""

    batches: list[LogBatchEvent] = Field(min_length=1, max_length=1000)


class WorkerEvent(WorkerRef):
    """Presence on the heartbeat topic: connected, heartbeat or disconnected."""

    event: Literal["connected", "heartbeat", "disconnected"]
    api_key_id: str | None = None
    labels: list[str] = Field(default_factory=list)
    capacity: int = 1
    version: str = ""
    hostname: str = ""
    running: list[AttemptRef] = Field(default_factory=list)
    draining: bool = False
    at: datetime = Field(default_factory=utcnow)


class WorkerEventBatch(Message):
    """Several workers' presence events in one message, in the order the master received them:
    what came in while its previous heartbeat message was being confirmed."""

    kind: Literal["batch"] = "batch"
    events: list[WorkerEvent] = Field(min_length=1, max_length=1000)


# On the heartbeat topic: one event, or a batch (which a WorkerEvent, without `events`, is not).
WorkerEventMessage = WorkerEvent | WorkerEventBatch


# --- API -> every master (control topic) ----------------------------------------------------------


class CancelAttempt(AttemptRef):
    kind: Literal["cancel"] = "cancel"
    tenant_id: str
    worker_id: str | None = None  # only this worker's copy; None: wherever it runs


class DrainWorker(Message):
    kind: Literal["drain"] = "drain"
    tenant_id: str
    worker_id: str


class DispatchQueueAdded(Message):
    kind: Literal["queue_added"] = "queue_added"
    tenant_id: str
    labels: list[str]
    queue: str


class ApiKeyRevoked(Message):
    kind: Literal["key_revoked"] = "key_revoked"
    tenant_id: str
    key_id: str


ControlMessage = Annotated[
    CancelAttempt | DrainWorker | DispatchQueueAdded | ApiKeyRevoked, Field(discriminator="kind")
]


# --- the live feed: API -> every API process (changes exchange) ---------------------------------


class JobChange(Message):
    """A job's state as it is after a change was applied, for the /events streams."""

    kind: Literal["job"] = "job"
    tenant_id: str
    job_id: str
    updated_at: datetime  # the event id of the /events stream (Last-Event-ID)
    data: str  # the job as `GET /jobs/{id}` shows it, as JSON: sent to streams as it is


class WorkerChange(Message):
    """A worker's state after a change (connected, beat with other jobs, drained, gone)."""

    kind: Literal["worker"] = "worker"
    tenant_id: str
    worker_id: str
    data: str  # the worker as `GET /workers` lists it, as JSON


class LogChange(AttemptRef):
    """Lines of an attempt were stored: wakes that job's log streams."""

    kind: Literal["log"] = "log"
    tenant_id: str
    last_seq: int


Change = Annotated[JobChange | WorkerChange | LogChange, Field(discriminator="kind")]


class ChangeBatch(Message):
    """The changes of one tenant applied in one API process within a few milliseconds, in the
    order they were applied: one message instead of one per change."""

    tenant_id: str
    changes: list[Change] = Field(min_length=1)


# --- AMQP submission reply (SPEC §4) ---------------------------------------------------------------


class SubmitReply(Message):
    job_id: str | None = None
    status: JobStatus | None = None
    error: str | None = None
