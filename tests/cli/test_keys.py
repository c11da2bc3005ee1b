"""`jobrunner keys list | create | revoke`."""

import json

from tests.cli.conftest import jobrunner

KEYS = [{"id": "k1", "name": "gpu-box", "kind": "worker", "prefix": "jrw_ab12",
         "created_at": "2026-11-27T10:00:00Z", "last_used_at": None}]


def test_create_prints_only_the_key(api, token, capsys):
    route = api.post("/api-keys").respond(201, json={**KEYS[0], "key": "jrw_ab12secret"})
    assert jobrunner("keys", "create", "gpu-box") == 0
    assert capsys.readouterr().out == "jrw_ab12secret\n"  # KEY=$(jobrunner keys create ...)
    assert json.loads(route.calls.last.request.content) == {"name": "gpu-box", "kind": "worker"}
    assert jobrunner("keys", "create", "amqp", "--kind", "submit", "--json") == 0
    assert json.loads(route.calls.last.request.content)["kind"] == "submit"
    assert json.loads(capsys.readouterr().out)["key"] == "jrw_ab12secret"


def test_list_and_revoke_by_name(api, token, capsys):
    api.get("/api-keys").respond(json=KEYS)
    revoked = api.delete("/api-keys/k1").respond(204)
    assert jobrunner("keys", "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NAME", "KIND", "PREFIX", "CREATED", "LAST", "USED", "ID"]
    assert lines[1].split() == ["gpu-box", "worker", "jrw_ab12", "2026-11-27", "10:00:00", "-",
                                "k1"]
    assert jobrunner("keys", "revoke", "gpu-box") == 0
    assert capsys.readouterr().out == "revoked key gpu-box (k1)\n"
    assert revoked.called
