"""`jobrunner login`, `logout` and `profiles`."""

import io
import json
import os
import re
import stat
import sys
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
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


def test_a_throttled_login_says_when_to_retry(api, capsys):
    route = api.post("/auth/token")
    route.respond(429, headers={"Retry-After": "42"}, json={
        "detail": "too many failed logins; try again in 42 s"})
    assert jobrunner("login", "-u", "admin", "-p", "admin") == 3
    # The API's detail already names the seconds: not said twice
    assert capsys.readouterr().err == \
        "jobrunner: login failed: too many failed logins; try again in 42 s\n"
    route.respond(429, headers={"Retry-After": "42"}, json={"detail": "too many failed logins"})
    assert jobrunner("login", "-u", "admin", "-p", "admin") == 3
    assert capsys.readouterr().err == \
        "jobrunner: login failed: too many failed logins (retry after 42 s)\n"
    assert not config.config_path().exists()


def test_any_429_is_one_line_with_its_retry_after(api, token, capsys):
    route = api.get("/workers")
    route.respond(429, headers={"Retry-After": "7"}, json={"detail": "slow down"})
    assert jobrunner("workers") == 1
    assert capsys.readouterr().err == "jobrunner: slow down (HTTP 429: retry after 7 s)\n"
    # Retry-After as an HTTP date: the seconds until then
    route.respond(429, headers={"Retry-After": format_datetime(
        datetime.now(UTC) + timedelta(seconds=90), usegmt=True)}, json={"detail": "slow down"})
    assert jobrunner("workers") == 1
    assert re.fullmatch(r"jobrunner: slow down \(HTTP 429: retry after (89|90) s\)\n",
                        capsys.readouterr().err)


def test_a_403_names_the_role_the_action_needs(api, token, capsys):
    api.get("/api-keys").respond(json=[{"id": "k1", "name": "ci"}])
    api.delete("/api-keys/k1").respond(403, json={
        "detail": "your role (viewer) may not do this; it needs admin or above"})
    assert jobrunner("keys", "revoke", "ci") == 1
    assert capsys.readouterr().err == ("jobrunner: your role (viewer) may not do this; it needs "
                                       "admin or above (HTTP 403)\n")


ME = {"username": "ann", "role": "member", "platform_admin": False,
      "tenant": {"id": "t1", "name": "acme", "created_at": "2026-11-27T10:00:00Z"}}


def test_whoami_shows_the_role(api, token, capsys):
    api.get("/me").respond(json=ME)
    assert jobrunner("whoami") == 0
    lines = [line.split(None, 1) for line in capsys.readouterr().out.splitlines()]
    assert lines == [["username:", "ann"], ["role:", "member"], ["tenant:", "acme"],
                     ["platform", "admin:  no"], ["api:", API_URL], ["profile:", "default"]]
    assert jobrunner("whoami", "--json") == 0
    assert json.loads(capsys.readouterr().out) == ME


def test_whoami_without_a_login_is_exit_3(api, capsys):
    assert jobrunner("whoami") == 3
    assert "run `jobrunner login`" in capsys.readouterr().err and not api.calls


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_password_changes_it_and_saves_the_new_token_as_login_does(api, monkeypatch, capsys):
    # Given a login saved in the profile
    token_route(api)
    assert jobrunner("login", "-u", "admin", "-p", "admin") == 0
    changed = api.post("/auth/password").respond(json={"access_token": "tok-2",
                                                       "token_type": "bearer"})
    jobs = api.get("/jobs").respond(json={"items": [], "next_cursor": None})
    # When the current and the new password are typed (the new one twice)
    answers = iter(["admin", "new-password-1", "new-password-1"])
    monkeypatch.setattr(sys, "stdin", Tty())
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    capsys.readouterr()
    assert jobrunner("password") == 0
    # Then the API got both, and the new token replaced the old one in the profile
    assert json.loads(changed.calls.last.request.content) == {
        "current_password": "admin", "new_password": "new-password-1"}
    assert changed.calls.last.request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert capsys.readouterr().out.startswith("password of admin changed; the new token is saved")
    saved = json.loads(config.config_path().read_text())["profiles"]["default"]
    assert saved == {"api_url": API_URL, "token": "tok-2", "username": "admin"}
    assert stat.S_IMODE(os.stat(config.config_path()).st_mode) == 0o600
    assert jobrunner("jobs") == 0
    assert jobs.calls.last.request.headers["Authorization"] == "Bearer tok-2"


def test_password_from_stdin_and_the_username_from_the_api(api, token, monkeypatch, capsys):
    # Given a token from JOBRUNNER_TOKEN, no saved profile
    api.get("/me").respond(json=ME)
    changed = api.post("/auth/password").respond(json={"access_token": "tok-2"})
    monkeypatch.setattr(sys, "stdin", io.StringIO("old-pass\nnew-password-1\n"))
    assert jobrunner("password", "--password-stdin") == 0
    assert json.loads(changed.calls.last.request.content) == {
        "current_password": "old-pass", "new_password": "new-password-1"}
    saved = json.loads(config.config_path().read_text())["profiles"]["default"]
    assert saved == {"api_url": API_URL, "token": "tok-2", "username": "ann"}
    # The old token in the environment no longer works: said on stderr
    assert "JOBRUNNER_TOKEN is set, and its token no longer works" in capsys.readouterr().err


def test_a_wrong_current_password_is_exit_3_and_keeps_the_token(api, monkeypatch, capsys):
    token_route(api)
    assert jobrunner("login", "-u", "admin", "-p", "admin") == 0
    api.post("/auth/password").respond(403, json={"detail": "the current password is wrong"})
    monkeypatch.setattr(sys, "stdin", io.StringIO("nope\nnew-password-1\n"))
    capsys.readouterr()
    assert jobrunner("password", "--password-stdin") == 3
    assert capsys.readouterr().err == \
        "jobrunner: password not changed: the current password is wrong\n"
    assert json.loads(config.config_path().read_text())["profiles"]["default"]["token"] == TOKEN


def test_a_new_password_the_policy_refuses_is_exit_1(api, token, monkeypatch, capsys):
    api.get("/me").respond(json=ME)
    api.post("/auth/password").respond(422, json={
        "detail": "the password must not contain the username"})
    monkeypatch.setattr(sys, "stdin", io.StringIO("old-pass\nann-is-me-1\n"))
    assert jobrunner("password", "--password-stdin") == 1
    assert capsys.readouterr().err == \
        "jobrunner: password not changed: the password must not contain the username\n"
    assert not config.config_path().exists()


@pytest.mark.parametrize(("stdin", "argv", "reason"), [
    ("only-one-line\n", ["--password-stdin"], "--password-stdin wants two lines"),
    ("", [], "no terminal to ask the passwords on: pass --password-stdin"),
])
def test_password_without_both_passwords_is_a_usage_error(api, token, monkeypatch, capsys,
                                                          stdin, argv, reason):
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    assert jobrunner("password", *argv) == 2
    assert reason in capsys.readouterr().err and not api.calls


def test_two_different_new_passwords_change_nothing(api, token, monkeypatch, capsys):
    answers = iter(["old-pass", "new-password-1", "new-password-2"])
    monkeypatch.setattr(sys, "stdin", Tty())
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    assert jobrunner("password") == 2
    assert capsys.readouterr().err == "jobrunner: the two entries differ\n" and not api.calls
