"""`jobrunner secrets set | list | delete`: the value from --value, stdin or a hidden prompt."""

import io
import json
import sys

import pytest
from jobrunner_cli.secrets import read_value

from tests.cli.conftest import jobrunner


def test_a_value_from_stdin_loses_only_its_final_line_break(monkeypatch):
    def read(stdin: str, given: str | None = None) -> str:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        return read_value("X", given)

    assert read("tok\n") == "tok"
    assert read("tok\r\n") == "tok"
    assert read("line1\nline2\n\n") == "line1\nline2\n"
    assert read("no-newline") == "no-newline"
    assert read("ignored\n", given="given\n") == "given\n"


def test_a_terminal_is_asked_without_echo(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stdin", Tty())
    monkeypatch.setattr("getpass.getpass", lambda prompt: f"typed for {prompt}")
    assert read_value("Value of X", None) == "typed for Value of X: "


@pytest.mark.parametrize(("status", "word"), [(201, "created"), (200, "replaced")])
def test_set_says_created_or_replaced(api, token, capsys, monkeypatch, status, word):
    route = api.put("/secrets/DEPLOY").respond(status, json={"name": "DEPLOY"})
    monkeypatch.setattr(sys, "stdin", io.StringIO("s3cret\n"))
    assert jobrunner("secrets", "set", "DEPLOY") == 0
    assert capsys.readouterr().out == f"{word} secret DEPLOY\n"
    assert json.loads(route.calls.last.request.content) == {"value": "s3cret"}


def test_an_empty_value_is_refused_before_the_api(api, token, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert jobrunner("secrets", "set", "X") == 2
    assert "empty value" in capsys.readouterr().err and not api.calls


def test_list_shows_names_and_dates(api, token, capsys):
    found = [{"name": "DEPLOY", "created_at": "2026-11-27T10:00:00Z",
              "updated_at": "2026-11-28T10:00:00Z"}]
    api.get("/secrets").respond(json=found)
    assert jobrunner("secrets", "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == ["DEPLOY", "2026-11-27", "10:00:00", "2026-11-28", "10:00:00"]
    assert jobrunner("secrets", "list", "--json") == 0
    assert json.loads(capsys.readouterr().out) == found


def test_delete(api, token, capsys):
    api.delete("/secrets/DEPLOY").respond(204)
    assert jobrunner("secrets", "delete", "DEPLOY") == 0
    assert capsys.readouterr().out == "deleted secret DEPLOY\n"
