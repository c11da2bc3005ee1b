"""`jobrunner submit`: the body it sends, and `--wait`'s exit codes."""

import json

import httpx
import pytest

from tests.cli.conftest import job, jobrunner, sse


@pytest.fixture
def submitted(api):
    route = api.post("/jobs").respond(201, json=job(id="job-1"))
    return lambda: [json.loads(call.request.content) for call in route.calls]


def test_the_body_from_the_options(api, token, submitted, capsys):
    assert jobrunner("submit", "--name", "n", "--label", "gpu", "--label", "linux", "--env", "A=1",
                     "--env", "B=x=y", "--secret", "TOKEN", "--timeout", "60", "--retries", "2",
                     "--priority", "5", "--idempotency-key", "k-1",
                     "--", "echo", "a b", "$HOME") == 0
    assert capsys.readouterr().out == "job-1\n"
    assert jobrunner("submit", "--argv", "--", "echo", "a b") == 0
    assert jobrunner("submit", "--", "echo $HOME | wc -c") == 0
    assert jobrunner("submit", "echo", "--not-an-option") == 0  # after CMD: all the command's
    first, second, third, fourth = submitted()
    assert first == {"command": "echo 'a b' '$HOME'", "name": "n", "labels": ["gpu", "linux"],
                     "env": {"A": "1", "B": "x=y"}, "secrets": ["TOKEN"], "timeout_seconds": 60,
                     "max_retries": 2, "priority": 5, "idempotency_key": "k-1"}
    assert second == {"argv": ["echo", "a b"]}
    assert third == {"command": "echo $HOME | wc -c"}
    assert fourth == {"command": "echo --not-an-option"}


def test_json_prints_the_created_job(api, token, submitted, capsys):
    assert jobrunner("submit", "--json", "--", "true") == 0
    assert json.loads(capsys.readouterr().out)["id"] == "job-1"


def end(status: str, exit_code: int | None):
    return sse([("log", "1", {"lines": [{"seq": 1, "stream": "stdout", "text": "hi"}]}),
                ("end", None, {"status": status, "exit_code": exit_code})])


@pytest.mark.parametrize(("status", "exit_code", "expected"), [
    ("succeeded", 0, 0),
    ("failed", 3, 3),
    ("failed", 137, 137),
    ("timed_out", None, 124),
    ("cancelled", None, 125),
    ("failed", None, 125),
])
def test_wait_exits_with_the_jobs_exit_code(api, token, submitted, capsys, status, exit_code,
                                            expected):
    api.get("/jobs/job-1/logs/stream").mock(return_value=end(status, exit_code))
    api.get("/jobs/job-1").respond(json=job(status=status, error="worker_lost"))
    assert jobrunner("submit", "--wait", "--", "some job") == expected
    out, err = capsys.readouterr()
    assert out == "hi\n"
    assert err.splitlines()[0] == "job-1"  # the id on stderr: stdout is the job's output
    if exit_code is None:
        assert err.splitlines()[1].startswith(f"jobrunner: job job-1 {status.replace('_', ' ')}")


def test_wait_on_a_rerun(api, token, capsys):
    api.post("/jobs/job-1/rerun").respond(201, json=job(id="job-2"))
    api.get("/jobs/job-2/logs/stream").mock(return_value=end("failed", 4))
    assert jobrunner("jobs", "rerun", "--wait", "job-1") == 4


def test_a_lost_api_while_waiting_is_exit_4(api, token, submitted, capsys, monkeypatch):
    monkeypatch.setattr("jobrunner_cli.follow.time.sleep", lambda s: None)
    api.get("/jobs/job-1/logs/stream").mock(side_effect=httpx.ConnectError("refused"))
    assert jobrunner("submit", "--wait", "--", "x") == 4
    assert "cannot connect to the API" in capsys.readouterr().err
