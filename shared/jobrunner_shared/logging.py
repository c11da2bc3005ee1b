"""Log setup for every service: plain text (default) or one JSON object per line.

`LOG_FORMAT=json` suits a log collector (Loki, Elasticsearch, CloudWatch). Standard library
only: the worker installs this package without the platform's dependencies.
"""

import json
import logging
import os
import sys
from datetime import UTC, datetime

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Libraries that give their logger a handler of its own at import: it goes to ours instead.
# (FastStream's broker logger is passed to the broker: see `broker_logger`.)
OWN_HANDLER_LOGGERS = ("faststream",)
# Attributes every record has; anything else came in `extra=` and is kept as a JSON field
# (uvicorn's `color_message` is its message again, with terminal colours).
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName",
                                                        "color_message"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, exception, and any extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in entry and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # json.dumps escapes newlines, so a traceback never splits the record over lines.
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure(log_format: str | None = None, level: str | int | None = None) -> None:
    """Send every logger's records to stderr in `log_format` (default: env LOG_FORMAT, text)."""
    log_format = (log_format or os.environ.get("LOG_FORMAT") or "text").strip().lower()
    if log_format not in FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(FORMATS)}, not {log_format!r}")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    if isinstance(level, str):
        level = level.upper()
    logging.basicConfig(level=level or logging.INFO, handlers=[handler], force=True)
    for name in OWN_HANDLER_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True


def broker_logger() -> logging.Logger:
    """For `RabbitBroker(logger=...)`: FastStream's default one writes text to stdout."""
    return logging.getLogger("faststream.access.rabbit")
