"""The `jobrunner` CLI against a fake REST API (an aiohttp app in the test's event loop)."""

import asyncio
import json
import os
import stat
import subprocess
import sys

import pytest
from aiohttp import web
from jobrunner_worker import cli

TOKEN = "tok-1"
LINES = [
    {"seq": 1, "stream": "stdout", "text": "hello", "ts": "2026-01-01T00:00:00Z"},
    {"seq": 2, "stream": "stderr", "text": "warning: x", "ts": "2026-01-01T00:00:00Z"},
    {"seq": 3, "stream": "stdout", "text": "bye", "ts": "2026-01-01T00:00:01Z"},
]


class FakeApi:
    def __init__(self) -> None:
        self.submitted: list[dict] = []
        self.stream_requests: list[dict] = []
        self.auth_headers: list[str | None] = []
        app = web.Application()
        app.router.add_post("/api/v1/auth/token", self.token)
        app.router.add_post("/api/v1/jobs", self.submit)
        app.router.add_get("/api/v1/jobs", self.jobs)
        app.router.add_get("/api/v1/jobs/{id}/logs", self.logs)
        app.router.add_get("/api/v1/jobs/{id}/logs/stream", self.stream)
        app.router.add_get("/api/v1/workers", self.workers)
        self.app = app

    def authorized(self, request) -> bool:
        self.auth_headers.append(request.headers.get("Authorization"))
        return request.headers.get("Authorization") == f"Bearer {TOKEN}"

    async def token(self, request):
        form = await request.post()
        if (form.get("username"), form.get("password")) != ("admin", "admin"):
            return web.json_response({"detail": "Incorrect username or password"}, status=401)
        return web.json_response({"access_token": TOKEN, "token_type": "bearer"})

    async def submit(self, request):
        if not self.authorized(request):
            return web.json_response({"detail": "Not authenticated"}, status=401)
        body = await request.json()
        if body.get("priority", 0) > 9:
            return web.json_response({"detail": "priority must be at most 9"}, status=422)
        self.submitted.append(body)
        return web.json_response({"id": f"job-{len(self.submitted)}", "status": "queued"}, status=201)

    async def jobs(self, request):
        self.authorized(request)
        return web.json_response({"items": [
            {"id": "job-2", "status": "failed", "exit_code": 3, "worker": "w1",
             "created_at": "2026-11-27T10:00:00Z", "command": "exit 3", "name": None},
            {"id": "job-1", "status": "queued", "exit_code": None, "worker": None,
             "created_at": "2026-11-27T09:00:00Z", "argv": ["echo", "a b"]},
        ], "next_cursor": None})

    async def workers(self, request):
        self.authorized(request)
        return web.json_response([{"id": "w-1", "name": "builder", "labels": ["gpu", "linux"],
                                   "capacity": 4, "running": 2, "status": "online",
                                   "last_heartbeat": "2026-11-27T10:00:00Z", "version": "0.1.0",
                                   "hostname": "host-a"}])

    async def logs(self, request):
        after, limit = int(request.query["after"]), 2  # small pages: the CLI must follow `next`
        page = [line for line in LINES if line["seq"] > after][:limit]
        return web.json_response({"lines": page, "next": page[-1]["seq"] if page else after,
                                  "complete": len(page) < limit})

    async def stream(self, request):
        last = request.headers.get("Last-Event-ID") or request.query.get("after") or "0"
        self.stream_requests.append({"last_event_id": request.headers.get("Last-Event-ID")})
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        if last == "0":
            # the first connection breaks after two lines
            await response.write(b": keep-alive\n\n")
            await response.write(b"event: log\nid: 2\ndata: " + json.dumps({"lines": LINES[:2]}).encode() + b"\n\n")
            request.transport.close()
            return response
        rest = [line for line in LINES if line["seq"] > int(last)]
        await response.write(b"event: log\nid: 3\ndata: " + json.dumps({"lines": rest}).encode() + b"\n\n")
        await response.write(b'event: end\ndata: {"status": "failed", "exit_code": 3}\n\n')
        return response


@pytest.fixture
async def api(port, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("JOBRUNNER_TOKEN", raising=False)
    monkeypatch.setenv("JOBRUNNER_API_URL", f"http://127.0.0.1:{port}")
    fake = FakeApi()
    runner = web.AppRunner(fake.app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield fake
    await runner.cleanup()


async def jobrunner(*argv: str) -> int:
    """Run the CLI in a thread: it is synchronous and the fake API lives on this loop."""
    return await asyncio.to_thread(cli.main, list(argv))


async def test_login_saves_the_token_privately_and_later_commands_use_it(api, tmp_path, capsys):
    assert await jobrunner("login", "--username", "admin", "--password", "admin") == 0
    path = tmp_path / "config" / "jobrunner" / "config.json"
    assert json.loads(path.read_text())["token"] == TOKEN
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert await jobrunner("submit", "--", "echo hi") == 0
    assert capsys.readouterr().out.strip().endswith("job-1")
    assert api.auth_headers[-1] == f"Bearer {TOKEN}"


async def test_wrong_password_fails_with_the_reason(api, capsys):
    assert await jobrunner("login", "-u", "admin", "-p", "nope") == 1
    assert "Incorrect username or password" in capsys.readouterr().err


async def test_without_a_token_the_user_is_told_to_log_in(api, capsys):
    assert await jobrunner("submit", "--", "true") == 1
    assert "run `jobrunner login`" in capsys.readouterr().err


async def test_other_errors_print_the_detail(api, monkeypatch, capsys):
    monkeypatch.setenv("JOBRUNNER_TOKEN", TOKEN)
    assert await jobrunner("submit", "--priority", "12", "--", "true") == 1
    assert "priority must be at most 9" in capsys.readouterr().err


async def test_submit_body_from_options(api, monkeypatch, capsys):
    monkeypatch.setenv("JOBRUNNER_TOKEN", TOKEN)
    await jobrunner("submit", "--name", "n", "--label", "gpu", "--label", "linux", "--env", "A=1",
                    "--env", "B=x=y", "--timeout", "60", "--retries", "2", "--priority", "5",
                    "--", "echo", "a b", "$HOME")
    await jobrunner("submit", "--argv", "--", "echo", "a b")
    await jobrunner("submit", "--", "echo $HOME | wc -c")
    first, second, third = api.submitted
    assert first == {"command": "echo 'a b' '$HOME'", "name": "n", "labels": ["gpu", "linux"],
                     "env": {"A": "1", "B": "x=y"}, "timeout_seconds": 60, "max_retries": 2,
                     "priority": 5}
    assert second == {"argv": ["echo", "a b"]}
    assert third == {"command": "echo $HOME | wc -c"}


async def test_submit_wait_streams_output_resumes_and_returns_the_exit_code(api, monkeypatch, capsys):
    monkeypatch.setenv("JOBRUNNER_TOKEN", TOKEN)
    assert await jobrunner("submit", "--wait", "--", "some job") == 3
    out, err = capsys.readouterr()
    assert out.splitlines() == ["hello", "bye"]
    assert "warning: x" in err.splitlines()
    # the stream broke once and was resumed after the last id seen, without repeating lines
    assert [r["last_event_id"] for r in api.stream_requests] == [None, "2"]


async def test_logs_pages_through_every_line(api, monkeypatch, capsys):
    monkeypatch.setenv("JOBRUNNER_TOKEN", TOKEN)
    assert await jobrunner("logs", "job-1") == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == ["hello", "bye"] and err.splitlines() == ["warning: x"]


async def test_jobs_and_workers_tables(api, monkeypatch, capsys):
    monkeypatch.setenv("JOBRUNNER_TOKEN", TOKEN)
    assert await jobrunner("jobs", "--status", "failed") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ID", "STATUS", "EXIT", "WORKER", "CREATED", "COMMAND"]
    assert lines[1].split() == ["job-2", "failed", "3", "w1", "2026-11-27", "10:00:00", "exit", "3"]
    assert "echo 'a b'" in lines[2]
    assert await jobrunner("workers") == 0
    out = capsys.readouterr().out
    assert "builder" in out and "2/4" in out and "gpu,linux" in out and "online" in out


def test_unreachable_api_is_a_clear_message(port, monkeypatch, tmp_path):
    env = dict(os.environ, JOBRUNNER_API_URL=f"http://127.0.0.1:{port}", JOBRUNNER_TOKEN=TOKEN,
               XDG_CONFIG_HOME=str(tmp_path))
    result = subprocess.run([sys.executable, "-m", "jobrunner_worker.cli", "jobs"], env=env,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert "cannot connect to the API" in result.stderr and "Traceback" not in result.stderr


def test_a_secret_from_stdin_loses_only_its_final_line_break(monkeypatch) -> None:
    import argparse
    import io

    def read(stdin: str, value: str | None = None) -> str:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        return cli.read_secret_value(argparse.Namespace(name="X", value=value))

    assert read("tok\n") == "tok"
    assert read("tok\r\n") == "tok"
    assert read("line1\nline2\n\n") == "line1\nline2\n"
    assert read("no-newline") == "no-newline"
    assert read("ignored\n", value="given\n") == "given\n"
