"""API settings: one pydantic-settings class, one instance per process."""

from functools import lru_cache
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from jobrunner_shared import secretbox

DEV_SECRET = "development-only-secret-change-me-0000"  # noqa: S105 - refused outside development


class Settings(BaseSettings):
    # hide_input_in_errors: a refusal must not print the settings, keys included.
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", hide_input_in_errors=True)

    environment: Literal["development", "production"] = "production"
    host: str = "0.0.0.0"  # noqa: S104 - a server listens on all interfaces in containers
    port: int = 8000
    # The proxies whose X-Forwarded-For is believed (comma-separated addresses or networks, or
    # "*"): behind one, set it, or every login seems to come from the proxy and one client's
    # failed logins throttle all (login_throttle.py).
    forwarded_allow_ips: str = "127.0.0.1"

    mongodb_url: str = "mongodb://127.0.0.1:27017"
    mongodb_db: str = "jobrunner"
    # One AMQP URL, or several comma-separated: the nodes of one cluster, tried in turn.
    rabbitmq_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    # Messages each consumer works on at once. At least 1: RabbitMQ reads 0 as no limit, and a
    # consumer's backlog must never flood its memory (nor its batches, capped at it).
    consumer_prefetch: int = Field(8, ge=1)

    secret_key: str = ""
    # Encrypts tenants' secrets; comma-separated keys: the first encrypts, all decrypt.
    encryption_key: str = ""
    admin_username: str = ""
    admin_password: str = ""
    default_tenant: str = "default"

    access_token_minutes: int = 12 * 60
    # A user's role, deletion or password change made through another API process is seen by
    # this one within this many seconds (each process caches who a token is for).
    auth_cache_seconds: float = 5.0
    # Failed logins allowed per username, and per client address, within LOGIN_WINDOW_SECONDS;
    # beyond them a login is answered 429 with Retry-After until the window ends.
    login_max_failures: int = 5
    login_max_failures_per_address: int = 50
    login_window_seconds: float = 300.0
    # A worker not heard from for this long is shown offline.
    worker_offline_after_seconds: float = 20.0
    # Finished jobs and their logs are deleted this many days after they ended (SPEC §6.10).
    job_retention_days: float = 30.0
    # At most this many jobs are deleted per sweep (a backlog is worked off over several).
    retention_batch: int = 500
    # The stored log of an attempt is capped here, with a visible truncation line (SPEC §6.8).
    log_cap_bytes: int = 64 * 1024 * 1024
    # An attempt whose worker has not reported it running for this long (a worker frozen, or
    # cut off without its connection closing) is given to another worker: with heartbeats
    # every 5 s and a sweep every second, within 30 s of its last heartbeat (SPEC §6.2).
    lease_seconds: float = 20.0
    # After a worker's connection closed, how long it has to reconnect and report its attempts
    # before they are given to another worker: within 10 s of the close (SPEC §6.2).
    reconnect_grace_seconds: float = 5.0
    # After its timeout, how long a job's worker has to report it before the platform does.
    timeout_grace_seconds: float = 15.0
    # An attempt not confirmed by RabbitMQ this long after it was stored is published again.
    outbox_grace_seconds: float = 10.0
    # How often the sweeper looks for what is due (expired leases and timeouts, unconfirmed
    # publishes): each look reads only what is due, by an index.
    sweep_interval_seconds: float = 1.0
    # A schedule with misfire "skip" still makes the job of a fire time at most this late (a
    # sweep held up, a restart); a later one it skips. "run_once" runs one however late.
    schedule_misfire_grace_seconds: float = 60.0
    # A log stream is woken by the live feed as lines are stored; it also looks this often.
    log_poll_seconds: float = 5.0
    # The process's own logs: "text" for people, "json" (one object per line) for collectors.
    log_format: Literal["text", "json"] = "text"
    # /metrics counts jobs by status (one count by index each) at most this often.
    metrics_cache_seconds: float = 15.0

    @property
    def dev_mode(self) -> bool:
        return self.environment == "development"

    @model_validator(mode="after")
    def _secrets(self) -> "Settings":
        if self.dev_mode:
            self.secret_key = self.secret_key or DEV_SECRET
            self.encryption_key = secretbox.checked_setting(self.encryption_key, dev_mode=True)
            self.admin_username = self.admin_username or "admin"
            self.admin_password = self.admin_password or "admin"
            return self
        missing = [
            name
            for name in ("secret_key", "encryption_key", "admin_username", "admin_password")
            if getattr(self, name) in ("", DEV_SECRET, "changeme", "admin")
            and not (name == "admin_username" and getattr(self, name) == "admin")
        ]
        if missing:
            names = ", ".join(n.upper() for n in missing)
            raise ValueError(
                f"refusing to start outside development with missing or default {names}; "
                "set them, or ENVIRONMENT=development for a local setup"
            )
        if len(self.secret_key) < 32:
            raise ValueError("SECRET_KEY must be at least 32 characters outside development")
        secretbox.checked_setting(self.encryption_key, dev_mode=False)
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
