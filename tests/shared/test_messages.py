"""The message schemas accept what the SPEC allows and reject the rest with a reason."""

import pytest
from pydantic import TypeAdapter, ValidationError

from jobrunner_shared.messages import (
    ControlMessage,
    DrainWorker,
    JobEvent,
    JobFinishedEvent,
    JobLog,
    JobSpec,
    JobStartedEvent,
    WorkerAuth,
)


def test_a_command_job_is_valid_and_labels_are_normalised() -> None:
    spec = JobSpec.model_validate({"command": "echo hi", "labels": ["gpu", "a", "gpu"]})
    assert spec.command == "echo hi"
    assert spec.labels == ["a", "gpu"]
    assert spec.max_retries == 0 and spec.priority == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "command"),
        ({"command": "x", "argv": ["x"]}, "command"),
        ({"command": ""}, "command"),
        ({"argv": []}, "argv"),
        ({"command": "x", "labels": ["has space"]}, "labels"),
        ({"command": "x", "env": {"1BAD": "v"}}, "env"),
        ({"command": "x", "timeout_seconds": 0}, "timeout_seconds"),
        ({"command": "x", "priority": 10}, "priority"),
        ({"command": "x", "max_retries": -1}, "max_retries"),
        ({"command": "x", "unknown": 1}, "unknown"),
    ],
)
def test_an_invalid_job_is_rejected_naming_the_problem(body: dict, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        JobSpec.model_validate(body)
    assert field in str(info.value)


def test_job_events_are_told_apart_by_kind() -> None:
    ref = {"job_id": "j", "attempt": 2, "tenant_id": "t", "worker_id": "w", "worker_name": "n"}
    adapter = TypeAdapter(JobEvent)
    started = adapter.validate_json(JobStartedEvent(**ref, pid=5).model_dump_json())
    finished = adapter.validate_json(
        JobFinishedEvent(**ref, status="failed", exit_code=3, last_seq=2).model_dump_json()
    )
    assert isinstance(started, JobStartedEvent) and started.pid == 5
    assert isinstance(finished, JobFinishedEvent) and finished.exit_code == 3


def test_control_messages_are_told_apart_by_kind() -> None:
    parsed = TypeAdapter(ControlMessage).validate_python(
        DrainWorker(tenant_id="t", worker_id="w").model_dump()
    )
    assert isinstance(parsed, DrainWorker)


def test_a_log_batch_needs_lines_with_a_known_stream() -> None:
    line = {"seq": 1, "stream": "stdout", "text": "x", "ts": "2026-01-01T00:00:00Z"}
    assert JobLog.model_validate({"job_id": "j", "attempt": 1, "lines": [line]})
    with pytest.raises(ValidationError):
        JobLog.model_validate({"job_id": "j", "attempt": 1, "lines": []})
    with pytest.raises(ValidationError):
        JobLog.model_validate(
            {"job_id": "j", "attempt": 1, "lines": [{**line, "stream": "stdin"}]}
        )
    with pytest.raises(ValidationError):
        JobLog.model_validate({"job_id": "j", "attempt": 0, "lines": [line]})


def test_worker_auth_needs_a_key_and_a_sane_capacity() -> None:
    assert WorkerAuth.model_validate({"api_key": "k", "name": "w", "capacity": 4}).capacity == 4
    for bad in ({"name": "w"}, {"api_key": "k", "name": "w", "capacity": 0}):
        with pytest.raises(ValidationError):
            WorkerAuth.model_validate(bad)


def test_a_variable_both_in_env_and_secrets_is_rejected_naming_it() -> None:
    with pytest.raises(ValidationError, match="TOKEN: both in 'env' and in 'secrets'"):
        JobSpec.model_validate({"command": "x", "env": {"TOKEN": "v"}, "secrets": ["TOKEN"]})


def test_secret_names_must_be_variable_names_and_are_kept_once_in_order() -> None:
    with pytest.raises(ValidationError, match="not a valid variable name"):
        JobSpec.model_validate({"command": "x", "secrets": ["BAD-NAME"]})
    spec = JobSpec.model_validate({"command": "x", "secrets": ["B", "A", "B"]})
    assert spec.secrets == ["B", "A"]


def test_an_unrunnable_attempt_is_a_job_event() -> None:
    from jobrunner_shared.messages import AttemptUnrunnable

    event = AttemptUnrunnable(job_id="j", attempt=1, tenant_id="t", error="secret_missing: A")
    parsed = TypeAdapter(JobEvent).validate_json(event.model_dump_json())
    assert isinstance(parsed, AttemptUnrunnable) and parsed.error == "secret_missing: A"
