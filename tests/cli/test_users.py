"""`jobrunner users list | show | create | set-role | set-password | delete`, by username or id;
passwords asked hidden (twice) or read with --password-stdin."""

import io
import json
import sys

import pytest

from tests.cli.conftest import jobrunner

USERS = [
    {"id": "u1", "username": "ann", "role": "admin", "created_at": "2026-11-27T10:00:00Z"},
    {"id": "u2", "username": "bob", "role": "viewer", "created_at": "2026-11-28T10:00:00Z"},
]


class Tty(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def listed(api):
    return api.get("/users").respond(json=USERS)


@pytest.fixture
def typed(monkeypatch):
    """A terminal on which the given answers are typed at the hidden prompts."""
    prompts = []

    def type_in(*answers: str) -> list[str]:
        given = iter(answers)
        monkeypatch.setattr(sys, "stdin", Tty())
        monkeypatch.setattr("getpass.getpass", lambda prompt: prompts.append(prompt) or
                            next(given))
        return prompts

    return type_in


def sent(route) -> dict:
    return json.loads(route.calls.last.request.content)


def test_list_and_show(api, token, listed, capsys):
    assert jobrunner("users", "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["USERNAME", "ROLE", "CREATED", "ID"]
    assert lines[2].split() == ["bob", "viewer", "2026-11-28", "10:00:00", "u2"]
    assert jobrunner("users", "list", "--json") == 0
    assert json.loads(capsys.readouterr().out) == USERS
    assert jobrunner("users", "show", "bob") == 0
    assert capsys.readouterr().out.splitlines()[2].split() == ["role:", "viewer"]
    assert jobrunner("users", "show", "u1", "--json") == 0
    assert json.loads(capsys.readouterr().out) == USERS[0]


def test_create_asks_the_password_twice_hidden(api, token, typed, capsys):
    created = api.post("/users").respond(201, json={**USERS[1], "id": "u3", "username": "cy",
                                                    "role": "member"})
    prompts = typed("pass-word-1", "pass-word-1")
    assert jobrunner("users", "create", "cy") == 0
    assert prompts == ["Password of cy: ", "Password of cy (again): "]
    assert sent(created) == {"username": "cy", "password": "pass-word-1", "role": "member"}
    assert capsys.readouterr().out == "created user cy (member, u3)\n"


def test_create_with_password_stdin_and_a_role(api, token, monkeypatch, capsys):
    created = api.post("/users").respond(201, json=USERS[1])
    monkeypatch.setattr(sys, "stdin", io.StringIO("pass-word-1\n"))
    assert jobrunner("users", "create", "bob", "--role", "viewer", "--password-stdin",
                     "--json") == 0
    assert sent(created) == {"username": "bob", "password": "pass-word-1", "role": "viewer"}
    assert json.loads(capsys.readouterr().out) == USERS[1]


@pytest.mark.parametrize(("stdin", "argv", "reason"), [
    (io.StringIO(""), [], "no terminal to ask the password on: pass --password-stdin"),
    (io.StringIO("\n"), ["--password-stdin"], "empty password"),
    (io.StringIO(""), ["--role", "root"], "'root' is not one of 'viewer', 'member', 'admin'"),
])
def test_create_without_a_password_is_a_usage_error(api, token, monkeypatch, capsys, stdin,
                                                     argv, reason):
    monkeypatch.setattr(sys, "stdin", stdin)
    assert jobrunner("users", "create", "cy", *argv) == 2
    assert reason in capsys.readouterr().err and not api.calls


def test_two_different_entries_create_nobody(api, token, typed, capsys):
    typed("pass-word-1", "pass-word-2")
    assert jobrunner("users", "create", "cy") == 2
    assert capsys.readouterr().err == "jobrunner: the two entries differ\n" and not api.calls


def test_a_taken_username_is_the_apis_reason(api, token, monkeypatch, capsys):
    api.post("/users").respond(409, json={"detail": "username 'ann' is taken"})
    monkeypatch.setattr(sys, "stdin", io.StringIO("pass-word-1"))
    assert jobrunner("users", "create", "ann", "--password-stdin") == 1
    assert capsys.readouterr().err == "jobrunner: username 'ann' is taken (HTTP 409)\n"


def test_set_role_by_username(api, token, listed, capsys):
    patched = api.patch("/users/u2").respond(json={**USERS[1], "role": "member"})
    assert jobrunner("users", "set-role", "bob", "member") == 0
    assert sent(patched) == {"role": "member"}
    assert capsys.readouterr().out == "user bob is now member (was viewer)\n"
    assert jobrunner("users", "set-role", "bob", "owner") == 2


def test_the_last_admin_stays_one(api, token, listed, capsys):
    api.patch("/users/u1").respond(409, json={
        "detail": "the tenant's last admin cannot be removed or demoted"})
    api.delete("/users/u1").respond(409, json={
        "detail": "the tenant's last admin cannot be removed or demoted"})
    assert jobrunner("users", "set-role", "ann", "viewer") == 1
    assert capsys.readouterr().err == ("jobrunner: the tenant's last admin cannot be removed or "
                                       "demoted (HTTP 409)\n")
    assert jobrunner("users", "delete", "ann") == 1


def test_set_password_asks_it_hidden_twice(api, token, listed, typed, capsys):
    patched = api.patch("/users/u2").respond(json=USERS[1])
    prompts = typed("new-pass-1", "new-pass-1")
    assert jobrunner("users", "set-password", "bob") == 0
    assert prompts == ["New password of bob: ", "New password of bob (again): "]
    assert sent(patched) == {"password": "new-pass-1"}
    assert capsys.readouterr().out == "password of bob set; their tokens no longer work\n"


def test_set_password_from_stdin(api, token, listed, monkeypatch, capsys):
    patched = api.patch("/users/u2").respond(json=USERS[1])
    monkeypatch.setattr(sys, "stdin", io.StringIO("new-pass-1\r\n"))
    assert jobrunner("users", "set-password", "u2", "--password-stdin") == 0
    assert sent(patched) == {"password": "new-pass-1"}
    # Without a terminal nor --password-stdin: said before asking the API anything
    api.reset()
    monkeypatch.setattr(sys, "stdin", io.StringIO("new-pass-1\n"))
    assert jobrunner("users", "set-password", "bob") == 2
    assert "pass --password-stdin" in capsys.readouterr().err and not api.calls


def test_delete_by_username_and_an_unknown_user(api, token, listed, capsys):
    deleted = api.delete("/users/u2").respond(204)
    assert jobrunner("users", "delete", "bob") == 0
    assert capsys.readouterr().out == "deleted user bob (u2)\n"
    assert deleted.called
    assert jobrunner("users", "delete", "zed") == 1
    assert capsys.readouterr().err == ("jobrunner: no user with the id or name 'zed' "
                                       "(`jobrunner users list` lists them)\n")


def test_a_member_managing_users_is_told_the_role_needed(api, token, monkeypatch, capsys):
    api.post("/users").respond(403, json={
        "detail": "your role (member) may not do this; it needs admin or above"})
    monkeypatch.setattr(sys, "stdin", io.StringIO("pass-word-1"))
    assert jobrunner("users", "create", "cy", "--password-stdin") == 1
    assert capsys.readouterr().err == ("jobrunner: your role (member) may not do this; it needs "
                                       "admin or above (HTTP 403)\n")


def test_completion_offers_usernames(api, token, listed, monkeypatch, capsys):
    monkeypatch.setenv("_JOBRUNNER_COMPLETE", "complete_bash")
    monkeypatch.setenv("COMP_WORDS", "jobrunner users set-role b")
    monkeypatch.setenv("COMP_CWORD", "3")
    with pytest.raises(SystemExit):
        jobrunner()
    assert capsys.readouterr().out.split() == ["bob"]
