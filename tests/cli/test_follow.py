"""`jobrunner logs [-f]`: pages, and the live stream resumed after a break (Last-Event-ID)."""

import httpx

from tests.cli.conftest import jobrunner, sse

LINES = [
    {"seq": 1, "stream": "stdout", "text": "hello", "ts": "2026-01-01T00:00:00Z"},
    {"seq": 2, "stream": "stderr", "text": "warning: x", "ts": "2026-01-01T00:00:00Z"},
    {"seq": 3, "stream": "stdout", "text": "bye", "ts": "2026-01-01T00:00:01Z"},
]


def test_logs_pages_through_every_line(api, token, capsys):
    def page(request: httpx.Request) -> httpx.Response:
        after = int(request.url.params["after"])
        lines = [line for line in LINES if line["seq"] > after][:2]  # small pages: follow `next`
        return httpx.Response(200, json={"lines": lines,
                                         "next": lines[-1]["seq"] if lines else after,
                                         "complete": len(lines) < 2})

    route = api.get("/jobs/job-1/logs").mock(side_effect=page)
    assert jobrunner("logs", "job-1") == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == ["hello", "bye"] and err.splitlines() == ["warning: x"]
    assert [call.request.url.params["after"] for call in route.calls] == ["0", "2", "3"]
    assert jobrunner("logs", "--attempt", "2", "job-1") == 0
    assert route.calls.last.request.url.params["attempt"] == "2"


def test_follow_resumes_after_the_last_line_seen(api, token, capsys, monkeypatch):
    monkeypatch.setattr("jobrunner_cli.follow.time.sleep", lambda s: None)
    answers = [
        sse([("log", "2", {"lines": LINES[:2]})], then_break=True),  # breaks after two lines
        sse([("log", "3", {"lines": LINES[2:]}), ("end", None, {"status": "succeeded",
                                                                 "exit_code": 0})]),
    ]
    route = api.get("/jobs/job-1/logs/stream").mock(side_effect=answers)
    assert jobrunner("logs", "-f", "job-1") == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == ["hello", "bye"] and err.splitlines() == ["warning: x"]
    sent = [call.request.headers.get("Last-Event-ID") for call in route.calls]
    assert sent == [None, "2"]
    assert route.calls[0].request.headers["Accept"] == "text/event-stream"


def test_a_retry_starts_the_new_attempts_lines_from_the_beginning(api, token, capsys,
                                                                  monkeypatch):
    monkeypatch.setattr("jobrunner_cli.follow.time.sleep", lambda s: None)
    answers = [
        sse([("log", "2", {"lines": LINES[:2]}), ("attempt", None, {"attempt": 2})],
            then_break=True),
        sse([("log", "1", {"lines": [LINES[0]]}), ("end", None, {"status": "succeeded",
                                                                  "exit_code": 0})]),
    ]
    route = api.get("/jobs/job-1/logs/stream").mock(side_effect=answers)
    assert jobrunner("logs", "-f", "job-1") == 0
    assert [call.request.headers.get("Last-Event-ID") for call in route.calls] == [None, "0"]
    assert capsys.readouterr().out.splitlines() == ["hello", "hello"]


def test_follow_gives_up_after_repeated_breaks(api, token, capsys, monkeypatch):
    monkeypatch.setattr("jobrunner_cli.follow.time.sleep", lambda s: None)
    route = api.get("/jobs/job-1/logs/stream").mock(
        side_effect=lambda request: sse([], then_break=True))
    assert jobrunner("logs", "-f", "job-1") == 4
    err = capsys.readouterr().err
    assert err.startswith("jobrunner: lost the log stream of job job-1: ")
    assert len(route.calls) == 11  # the first try and 10 more


def test_follow_of_an_unknown_job_is_the_apis_404(api, token, capsys):
    api.get("/jobs/nope/logs/stream").respond(404, json={"detail": "job nope not found"})
    assert jobrunner("logs", "-f", "nope") == 1
    assert capsys.readouterr().err == "jobrunner: job nope not found (HTTP 404)\n"
