"""`jobrunner audit [--action] [--actor] [--limit] [--cursor] [--json]`: the tenant's audit log."""

import json

from jobrunner_cli import output

from tests.cli.conftest import jobrunner

PAGE = {
    "items": [
        {"id": "a2", "at": "2026-12-01T10:05:00Z", "actor": "ann", "action": "api_key.create",
         "target": "ci (submit)", "address": "10.0.0.7"},
        {"id": "a1", "at": "2026-12-01T10:00:00Z", "actor": "bob", "action": "login.failed",
         "target": "", "address": None},
    ],
    "next_cursor": "a1",
}


def test_the_table_newest_first(api, token, capsys):
    route = api.get("/audit").respond(json=PAGE)
    assert jobrunner("audit") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["AT", "ACTOR", "ACTION", "TARGET", "ADDRESS"]
    assert lines[1].split() == ["2026-12-01", "10:05:00", "ann", "api_key.create", "ci",
                                "(submit)", "10.0.0.7"]
    assert lines[2].split() == ["2026-12-01", "10:00:00", "bob", "login.failed", "-", "-"]
    assert dict(route.calls.last.request.url.params) == {}


def test_filters_and_paging_go_to_the_api(api, token, monkeypatch, capsys):
    route = api.get("/audit").respond(json=PAGE)
    assert jobrunner("audit", "--action", "login.failed", "--actor", "bob", "--limit", "2",
                     "--cursor", "a9", "--json") == 0
    assert dict(route.calls.last.request.url.params) == {
        "action": "login.failed", "actor": "bob", "limit": "2", "cursor": "a9"}
    assert json.loads(capsys.readouterr().out) == PAGE
    # On a terminal, the command that shows the next page, with the same filters
    monkeypatch.setattr(output, "is_terminal", lambda: True)
    assert jobrunner("audit", "--actor", "bob smith", "--limit", "2") == 0
    assert capsys.readouterr().err == ("jobrunner: more entries; the next ones: jobrunner audit "
                                       "--actor 'bob smith' --limit 2 --cursor a1\n")
    api.get("/audit").respond(json={**PAGE, "next_cursor": None})
    assert jobrunner("audit") == 0
    assert capsys.readouterr().err == ""


def test_only_admins_read_it(api, token, capsys):
    api.get("/audit").respond(403, json={
        "detail": "your role (member) may not do this; it needs admin or above"})
    assert jobrunner("audit") == 1
    assert capsys.readouterr().err == ("jobrunner: your role (member) may not do this; it needs "
                                       "admin or above (HTTP 403)\n")


def test_an_unknown_action_is_the_apis_reason_and_a_bad_limit_a_usage_error(api, token, capsys):
    api.get("/audit").respond(422, json={"detail": [
        {"loc": ["query", "action"], "msg": "Input should be 'login', 'login.failed' or …"}]})
    assert jobrunner("audit", "--action", "nope") == 1
    assert capsys.readouterr().err == \
        "jobrunner: action: Input should be 'login', 'login.failed' or … (HTTP 422)\n"
    api.reset()
    assert jobrunner("audit", "--limit", "0") == 2
    assert not api.calls
