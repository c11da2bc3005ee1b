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
    master_url: str = "http://localhost:8080"
    api_key: str = Field(min_length=1)
    worker_name: str = Field(default_factory=socket.gethostname, min_length=1, max_length=200)
    # A plain string on purpose: pydantic-settings would try to JSON-decode a list field.
    worker_labels: str = ""
    worker_capacity: int = Field(1, ge=1, le=1024)

    heartbeat_interval: float = Field(5.0, gt=0)
    kill_grace_seconds: float = Field(10.0, ge=0)
    log_batch_lines: int = Field(1000, ge=1)
    log_batch_bytes: int = Field(256 * KIB, ge=1024)
    log_flush_interval: float = Field(0.1, gt=0)
    # Longer lines are cut into pieces so that no Socket.IO message nears its 1 MB limit.
    max_line_bytes: int = Field(64 * KIB, ge=16, le=256 * KIB)
    reconnect_delay: float = Field(1.0, gt=0)
    reconnect_delay_max: float = Field(30.0, gt=0)
    ack_timeout: float = Field(30.0, gt=0)
    send_window: int = Field(8, ge=1, le=256)
    # Unacknowledged events beyond this many bytes wait on disk, under OUTBOX_DIR.
    outbox_memory_bytes: int = Field(64 * MIB, ge=0)
    outbox_dir: str = ""  # empty: $XDG_STATE_HOME/jobrunner, else <temp dir>/jobrunner

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
