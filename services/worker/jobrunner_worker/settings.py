"""The worker's settings: environment variables (and a `.env` file), one class, one instance."""

import os
import socket
import tempfile
from pathlib import Path

from jobrunner_shared.messages import LABEL_RE
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

KIB = 1024
MIB = 1024 * KIB


class SettingsError(Exception):
    """The environment does not describe a runnable worker; the message says what to fix."""


class WorkerSettings(BaseSettings):
    # extra="ignore": one .env is often shared with the platform's own variables.
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    # One master, or several comma-separated: tried in turn (behind a load balancer, one URL).
    master_url: str = Field(
        "http://localhost:8080",
        description="the master as this host reaches it; several, comma-separated, are tried in "
        "turn",
    )
    api_key: str = Field(
        min_length=1, description="a worker key of the tenant (POST /api/v1/api-keys, kind worker)"
    )
    worker_name: str = Field(
        default_factory=socket.gethostname, min_length=1, max_length=200,
        description="the name shown in the dashboard and the CLI",
    )
    # A plain string on purpose: pydantic-settings would try to JSON-decode a list field.
    worker_labels: str = Field(
        "", description="comma-separated labels; a job runs only on a worker with all of its labels"
    )
    worker_capacity: int = Field(1, ge=1, le=1024, description="jobs run at once")

    heartbeat_interval: float = Field(5.0, gt=0, description="seconds between heartbeats")
    kill_grace_seconds: float = Field(
        10.0, ge=0, description="seconds between TERM and KILL when a job is cancelled or times out"
    )
    log_batch_lines: int = Field(1000, ge=1, description="most output lines in one job:log message")
    log_batch_bytes: int = Field(
        256 * KIB, ge=1024, description="most bytes in one job:log message"
    )
    log_flush_interval: float = Field(
        0.1, gt=0, description="seconds a partial batch of lines waits before it is sent"
    )
    # Why hold a start at all: a job that ends within it is reported in one job:ran (one round
    # trip, one RabbitMQ message, one database write) instead of started, log and finished.
    worker_start_linger_seconds: float = Field(
        0.05, ge=0, le=10,
        description="seconds a job's start is held back, so that a job ending within them is "
        "reported in one job:ran message; 0: off",
    )
    # Longer lines are cut into pieces so that no Socket.IO message nears its 1 MB limit.
    max_line_bytes: int = Field(
        64 * KIB, ge=16, le=256 * KIB, description="longer output lines are cut into pieces"
    )
    reconnect_delay: float = Field(1.0, gt=0, description="first delay before reconnecting")
    reconnect_delay_max: float = Field(
        30.0, gt=0, description="longest delay between reconnect attempts"
    )
    ack_timeout: float = Field(
        30.0, gt=0, description="seconds to wait for the master's acknowledgement before resending"
    )
    send_window: int = Field(
        8, ge=1, le=256, description="messages sent to the master without an acknowledgement yet"
    )
    # Unacknowledged events beyond this many bytes wait on disk, under OUTBOX_DIR.
    outbox_memory_bytes: int = Field(
        64 * MIB, ge=0,
        description="bytes of unacknowledged events kept in memory; later ones wait on disk",
    )
    outbox_dir: str = Field(  # empty: $XDG_STATE_HOME/jobrunner, else <temp dir>/jobrunner
        "", description="where events beyond OUTBOX_MEMORY_BYTES are spilled"
    )
    # Why give up at all: a refused key never starts working by itself, and a worker that
    # retries forever looks healthy to its supervisor while it runs nothing.
    worker_max_refusals: int = Field(
        3, ge=0,
        description="after the master refuses the key this many times in a row (bad or revoked), "
        "exit with status 3; 0: retry forever",
    )
    worker_health_port: int = Field(
        0, ge=0, le=65535,
        description="serve GET /healthz and GET /metrics (Prometheus) on this port; 0: off",
    )
    worker_health_host: str = Field(
        "0.0.0.0", min_length=1, description="the address WORKER_HEALTH_PORT listens on"
    )
    worker_health_grace_seconds: float = Field(
        30.0, ge=0,
        description="/healthz answers 503 once the worker has been without a master this long",
    )

    @field_validator("worker_labels")
    @classmethod
    def _labels(cls, value: str) -> str:
        for label in _split_labels(value):
            if not LABEL_RE.match(label):
                raise ValueError(
                    f"label {label!r} must be 1-63 characters of letters, digits and _.:/-"
                )
        return value

    @field_validator("master_url")
    @classmethod
    def _masters(cls, value: str) -> str:
        urls = [url.strip() for url in value.split(",") if url.strip()]
        if not urls:
            raise ValueError("give at least one master URL")
        for url in urls:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{url!r} is not an http:// or https:// URL")
        return ",".join(urls)

    @property
    def master_urls(self) -> list[str]:
        return self.master_url.split(",")

    @property
    def labels(self) -> list[str]:
        return sorted(set(_split_labels(self.worker_labels)))

    def outbox_path(self, worker_id: str) -> Path:
        """This process's own spill directory (created only when something spills)."""
        if self.outbox_dir:
            root = Path(self.outbox_dir)
        elif os.environ.get("XDG_STATE_HOME"):
            root = Path(os.environ["XDG_STATE_HOME"]) / "jobrunner"
        else:
            root = Path(tempfile.gettempdir()) / "jobrunner"
        return root / f"outbox-{worker_id}"


# How --help shows defaults that are not plain values.
DEFAULT_TEXT = {
    "api_key": "required",
    "worker_name": "the host name",
    "worker_labels": "(none)",
    "outbox_dir": "$XDG_STATE_HOME/jobrunner, else <temp dir>/jobrunner",
}
# Read by the entry point before the settings (logging starts first): listed in --help too.
ENTRY_POINT_SETTINGS = [
    ("LOG_LEVEL", "INFO", "the worker's own log level"),
    ("LOG_FORMAT", "text", "the worker's own logs: text, or json (one object per line)"),
]


def settings_help() -> list[tuple[str, str, str]]:
    """(NAME, default or "required", meaning) of every setting, for `jobrunner-worker --help`."""
    rows = []
    for name, field in WorkerSettings.model_fields.items():
        default = DEFAULT_TEXT.get(name, "required" if field.is_required() else str(field.default))
        rows.append((name.upper(), default, field.description or ""))
    return rows + ENTRY_POINT_SETTINGS


def _split_labels(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def load_settings(**overrides: object) -> WorkerSettings:
    """Read the settings, turning pydantic's report into one readable message."""
    try:
        return WorkerSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = str(error["loc"][0]).upper() if error["loc"] else "settings"
            if error["type"] == "missing":
                problems.append(f"{name} is required (set it in the environment or in .env)")
            else:
                problems.append(f"{name}: {error['msg']}")
        raise SettingsError("; ".join(problems)) from None
