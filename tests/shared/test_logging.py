"""LOG_FORMAT=json: one JSON object per line that a log collector can parse."""

import json
import logging
import sys
from collections.abc import Callable, Iterator

import pytest

from jobrunner_shared import logging as logs


@pytest.fixture
def stderr(capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[[], str]]:
    """What `configure`'s handler wrote; the root logger's handlers and level are restored after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield lambda: capsys.readouterr().err
    root.handlers[:] = handlers
    root.setLevel(level)


def record(message: str, *args: object, exc_info: object = None) -> logging.LogRecord:
    return logging.LogRecord("jobrunner.test", logging.WARNING, __file__, 1, message, args,
                             exc_info)  # type: ignore[arg-type]


def test_a_record_is_one_json_object_with_time_level_logger_and_message() -> None:
    line = logs.JsonFormatter().format(record("job %s took %d s", "abc", 3))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "jobrunner.test"
    assert entry["message"] == "job abc took 3 s"
    assert entry["time"].endswith("+00:00") and "T" in entry["time"]
    assert "exception" not in entry


def test_an_exception_and_a_multiline_message_stay_on_one_line() -> None:
    try:
        raise RuntimeError("broker gone")
    except RuntimeError:
        line = logs.JsonFormatter().format(record("first\nsecond", exc_info=sys.exc_info()))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "first\nsecond"
    assert "Traceback" in entry["exception"] and "RuntimeError: broker gone" in entry["exception"]


def test_configure_json_makes_every_logger_write_json_lines(stderr: Callable[[], str]) -> None:
    logs.configure("json")
    logging.getLogger("jobrunner_api.test").info("hello %s", "world")
    logging.getLogger("aiormq.connection").error("boom")
    entries = [json.loads(line) for line in stderr().splitlines()]
    assert [(e["logger"], e["message"]) for e in entries] == [
        ("jobrunner_api.test", "hello world"), ("aiormq.connection", "boom"),
    ]


def test_text_is_the_default_and_an_unknown_format_is_refused(
    stderr: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    logs.configure()
    logging.getLogger("jobrunner_master.test").warning("plain")
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logs.configure("xml")
    assert stderr().rstrip().endswith("WARNING jobrunner_master.test: plain")


def test_extra_fields_are_kept_and_uvicorn_colour_copies_dropped() -> None:
    extra = record("waiting")
    extra.queue, extra.color_message = "jobrunner.api.logs", "\x1b[32mwaiting\x1b[0m"
    entry = json.loads(logs.JsonFormatter().format(extra))
    assert entry["queue"] == "jobrunner.api.logs"
    assert "color_message" not in entry
