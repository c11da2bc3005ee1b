"""Master settings: one pydantic-settings class, one instance per process."""

from functools import lru_cache
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from jobrunner_shared import secretbox


class Settings(BaseSettings):
    # hide_input_in_errors: a refusal must not print the settings, keys included.
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", hide_input_in_errors=True)

    environment: Literal["development", "production"] = "production"
    host: str = "0.0.0.0"  # noqa: S104 - a server listens on all interfaces in containers
    port: int = 8080

    mongodb_url: str = "mongodb://127.0.0.1:27017"
    mongodb_db: str = "jobrunner"
    # One AMQP URL, or several comma-separated: the nodes of one cluster, tried in turn.
    rabbitmq_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    # Messages each consumer works on at once.
    consumer_prefetch: int = 8

    # How long a worker has to acknowledge `job:assign` before the job goes back to its queue.
    assign_timeout_seconds: float = 10.0
    # How long a dispatch message delivered again waits (names.SETTLE_QUEUE) before it is
    # checked and offered: the API's RECONNECT_GRACE_SECONDS, the time a worker that took it
    # has to come back and report its start.
    redelivery_settle_seconds: float = Field(5.0, gt=0)
    # Socket.IO's per-message limit; log batches are kept below it by the worker.
    max_message_bytes: int = 4 * 1024 * 1024
    # The process's own logs: "text" for people, "json" (one object per line) for collectors.
    log_format: Literal["text", "json"] = "text"
    # /metrics reads the depth of the dispatch queues from RabbitMQ at most this often.
    metrics_cache_seconds: float = 15.0
    # The API's ENCRYPTION_KEY: the master decrypts a job's secrets just before `job:assign`.
    encryption_key: str = ""

    @property
    def dev_mode(self) -> bool:
        return self.environment == "development"

    @model_validator(mode="after")
    def _secrets(self) -> "Settings":
        self.encryption_key = secretbox.checked_setting(self.encryption_key, self.dev_mode)
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
