"""`jobrunner keys list | create | revoke`."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from jobrunner_cli.keys import parse_expires

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
    assert lines[0].split() == ["NAME", "KIND", "PREFIX", "CREATED", "LAST", "USED", "EXPIRES",
                                "ID"]
    assert lines[1].split() == ["gpu-box", "worker", "jrw_ab12", "2026-11-27", "10:00:00", "-",
                                "never", "k1"]
    assert jobrunner("keys", "revoke", "gpu-box") == 0
    assert capsys.readouterr().out == "revoked key gpu-box (k1)\n"
    assert revoked.called


NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("given", "expected"), [
    ("30d", NOW + timedelta(days=30)),
    ("12h", NOW + timedelta(hours=12)),
    ("90m", NOW + timedelta(minutes=90)),
    ("2w", NOW + timedelta(weeks=2)),
    ("2027-01-31T18:00:00Z", datetime(2027, 1, 31, 18, 0, tzinfo=UTC)),
    ("2027-01-31T18:00:00+01:00", datetime(2027, 1, 31, 17, 0, tzinfo=UTC)),
    ("2027-01-31T18:00", datetime(2027, 1, 31, 18, 0, tzinfo=UTC)),  # local time: TZ=UTC here
])
def test_expires_is_a_duration_or_a_date_time(given, expected):
    assert parse_expires(given, NOW) == expected


def test_create_with_expires_sends_an_aware_future_date(api, token, capsys):
    route = api.post("/api-keys").respond(201, json={
        **KEYS[0], "key": "jrw_ab12secret", "expires_at": "2027-01-31T18:00:00Z",
    })
    assert jobrunner("keys", "create", "ci", "--kind", "submit", "--expires",
                     "2027-01-31T18:00:00Z") == 0
    assert capsys.readouterr().out == "jrw_ab12secret\n"
    assert json.loads(route.calls.last.request.content) == {
        "name": "ci", "kind": "submit", "expires_at": "2027-01-31T18:00:00+00:00"}
    assert jobrunner("keys", "create", "ci", "--expires", "30d") == 0
    sent = datetime.fromisoformat(json.loads(route.calls.last.request.content)["expires_at"])
    assert timedelta(days=30) - timedelta(minutes=1) < sent - datetime.now(UTC) <= \
        timedelta(days=30)


@pytest.mark.parametrize(("given", "reason"), [
    ("soon", "--expires 'soon': give a duration (90m, 12h, 30d, 2w) or an ISO date-time"),
    ("2020-01-01T00:00:00Z", "--expires '2020-01-01T00:00:00Z' is not in the future"),
    ("0d", "--expires '0d' is not in the future"),
])
def test_a_bad_expires_is_a_usage_error_before_the_api(api, token, capsys, given, reason):
    assert jobrunner("keys", "create", "ci", "--expires", given) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"jobrunner: {reason}") and err.count("\n") == 1
    assert not api.calls


def test_an_expiry_the_api_refuses_is_its_one_line_reason(api, token, capsys):
    api.post("/api-keys").respond(422, json={"detail": [
        {"loc": ["body", "expires_at"], "msg": "Value error, must be in the future"}]})
    assert jobrunner("keys", "create", "ci", "--expires", "1m") == 1
    assert capsys.readouterr().err == \
        "jobrunner: expires_at: Value error, must be in the future (HTTP 422)\n"


def test_list_shows_when_keys_expire_and_which_have(api, token, capsys):
    api.get("/api-keys").respond(json=[
        {**KEYS[0], "expires_at": "2027-01-31T18:00:00Z", "expired": False},
        {**KEYS[0], "id": "k2", "name": "old", "expires_at": "2026-11-30T08:00:00Z",
         "expired": True},
    ])
    assert jobrunner("keys", "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[6:] == ["2027-01-31", "18:00:00", "k1"]
    assert lines[2].split()[6:] == ["2026-11-30", "08:00:00", "(expired)", "k2"]
    assert jobrunner("keys", "list", "--json") == 0
    assert [k["expired"] for k in json.loads(capsys.readouterr().out)] == [False, True]
