"""`jobrunner tenants list | create` (platform admin)."""

import io
import json
import sys

from tests.cli.conftest import jobrunner

TENANT = {"id": "t1", "name": "acme", "created_at": "2026-11-27T10:00:00Z"}


def test_create_with_the_password_from_stdin(api, token, capsys, monkeypatch):
    route = api.post("/tenants").respond(201, json=TENANT)
    monkeypatch.setattr(sys, "stdin", io.StringIO("long-password\n"))
    assert jobrunner("tenants", "create", "acme", "--admin-username", "boss") == 0
    assert capsys.readouterr().out == "created tenant acme (t1); its admin logs in as boss\n"
    assert json.loads(route.calls.last.request.content) == {
        "name": "acme", "admin_username": "boss", "admin_password": "long-password"}


def test_list_and_a_non_admins_403(api, token, capsys):
    api.get("/tenants").respond(json=[TENANT])
    assert jobrunner("tenants", "list") == 0
    assert capsys.readouterr().out.splitlines()[1].split() == ["acme", "2026-11-27", "10:00:00",
                                                               "t1"]
    api.get("/tenants").respond(403, json={"detail": "platform admin only"})
    assert jobrunner("tenants", "list") == 1
    assert capsys.readouterr().err == "jobrunner: platform admin only (HTTP 403)\n"
