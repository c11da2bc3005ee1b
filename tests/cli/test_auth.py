"""`jobrunner login`, `logout` and `profiles`."""

import io
import json
import os
import stat
import sys

import httpx
from jobrunner_cli import config

from tests.cli.conftest import API_URL, TOKEN, jobrunner


def token_route(api):
    def answer(request: httpx.Request) -> httpx.Response:
        form = dict(item.split("=", 1) for item in request.content.decode().split("&"))
        if (form.get("username"), form.get("password")) != ("admin", "admin"):
            return httpx.Response(401, json={"detail": "wrong username or password"})
        return httpx.Response(200, json={"access_token": TOKEN, "token_type": "bearer"})

    return api.post("/auth/token").mock(side_effect=answer)


def test_login_saves_the_token_and_later_commands_send_it(api, capsys):
    token_route(api)
    jobs = api.get("/jobs").respond(json={"items": [], "next_cursor": None})
    assert jobrunner("login", "-u", "admin", "-p", "admin") == 0
    assert f"logged in to {API_URL} as admin (profile default" in capsys.readouterr().out
    saved = json.loads(config.config_path().read_text())
    assert saved["profiles"]["default"] == {"api_url": API_URL, "token": TOKEN,
                                            "username": "admin"}
    assert stat.S_IMODE(os.stat(config.config_path()).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(config.config_path().parent).st_mode) == 0o700
    assert jobrunner("jobs") == 0
    assert jobs.calls.last.request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_login_reads_the_password_from_stdin_when_it_is_not_a_terminal(api, monkeypatch):
    token_route(api)
    monkeypatch.setattr(sys, "stdin", io.StringIO("admin\n"))
    assert jobrunner("login", "--username", "admin") == 0


def test_a_wrong_password_is_exit_3_with_the_apis_reason(api, capsys):
    token_route(api)
    assert jobrunner("login", "-u", "admin", "-p", "nope") == 3
    assert capsys.readouterr().err == "jobrunner: login failed: wrong username or password\n"
    assert not config.config_path().exists()


def test_profiles_keep_one_login_per_platform(api, monkeypatch, capsys):
    token_route(api)
    monkeypatch.delenv("JOBRUNNER_API_URL")
    with_prod = api.get("https://prod.example/api/v1/workers").respond(json=[])
    api.post("https://prod.example/api/v1/auth/token").respond(json={"access_token": "prod-tok"})
    assert jobrunner("login", "-u", "admin", "-p", "admin", "--api-url", API_URL) == 0
    assert jobrunner("--profile", "prod", "login", "-u", "ops", "-p", "x",
                     "--api-url", "https://prod.example/") == 0
    # The profile picks the API and the token; without one, `default`
    monkeypatch.setenv("JOBRUNNER_PROFILE", "prod")
    assert jobrunner("workers") == 0
    assert with_prod.calls.last.request.headers["Authorization"] == "Bearer prod-tok"
    capsys.readouterr()
    assert jobrunner("profiles") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["PROFILE", "API", "USER", "LOGGED", "IN", "IN", "USE"]
    assert lines[1].split() == ["default", API_URL, "admin", "yes", "-"]
    assert lines[2].split() == ["prod", "https://prod.example", "ops", "yes", "yes"]
    assert jobrunner("profiles", "--json") == 0
    assert "prod-tok" not in capsys.readouterr().out  # never a token


def test_logout_forgets_the_token(api, capsys):
    token_route(api)
    assert jobrunner("login", "-u", "admin", "-p", "admin") == 0
    assert jobrunner("logout") == 0
    assert "token" not in json.loads(config.config_path().read_text())["profiles"]["default"]
    capsys.readouterr()
    assert jobrunner("jobs") == 3
    assert "run `jobrunner login`" in capsys.readouterr().err


def test_not_logged_in_in_another_profile_names_that_profile(capsys):
    assert jobrunner("--profile", "staging", "jobs") == 3
    assert "run `jobrunner --profile staging login`" in capsys.readouterr().err
