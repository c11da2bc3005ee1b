"""Schedules over REST (SPEC §3), end to end on the session's API and master: preview, create,
list, pause and resume, trigger, history, delete; roles, tenants and bad input."""

import secrets
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from bson import ObjectId
from pymongo import MongoClient

from tests.support.platform import Tenant, login

pytestmark = pytest.mark.e2e
FIELDS = {"id", "name", "cron", "timezone", "enabled", "misfire", "job", "next_run_at",
          "last_run_at", "last_job_id", "last_error", "created_at", "updated_at"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def create(client: httpx.Client, **body) -> dict:
    body = {"name": f"s-{secrets.token_hex(3)}", "cron": "30 2 * * *",
            "job": {"command": "echo nightly"}, **body}
    answer = client.post("/schedules", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


def as_role(tenant: Tenant, admin: httpx.Client, role: str) -> httpx.Client:
    username, password = f"{role}-{secrets.token_hex(4)}", secrets.token_urlsafe(12)
    made = admin.post("/users", json={"username": username, "password": password, "role": role})
    assert made.status_code == 201, made.text
    token = login(tenant.platform.api_url, username, password)
    return httpx.Client(base_url=f"{tenant.platform.api_url}/api/v1",
                        headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_a_schedule_is_previewed_created_listed_and_read(tenant: Tenant) -> None:
    with tenant.client() as admin:
        # Given the preview of an expression in a time zone, as the create form shows it
        preview = admin.get("/schedules/preview", params={
            "cron": "30 2 * * *", "timezone": "Europe/Berlin", "count": 3})
        assert preview.status_code == 200, preview.text
        runs = [at(run) for run in preview.json()["next_runs"]]
        assert preview.json()["description"] == "At 02:30 every day"
        assert len(runs) == 3 and runs == sorted(runs) and runs[0] > datetime.now(UTC)
        for run in runs:  # in the zone's own time, with its offset (03:00 in a spring gap)
            local = run.astimezone(ZoneInfo("Europe/Berlin"))
            assert (local.hour, local.minute) in {(2, 30), (3, 0)}
            assert run.utcoffset() == local.utcoffset()
        # When an admin creates that schedule
        made = create(admin, name="b-nightly", timezone="Europe/Berlin")
        # Then it answers its fields, the next fire time the first of the preview
        assert set(made) == FIELDS
        assert made["enabled"] is True and made["misfire"] == "run_once"
        assert made["job"]["command"] == "echo nightly"
        assert at(made["next_run_at"]) == runs[0]
        assert made["last_run_at"] is None and made["last_job_id"] is None
        # And it is listed, by name, and read as it was answered
        create(admin, name="a-hourly", cron="@hourly")
        assert [s["name"] for s in admin.get("/schedules").json()] == ["a-hourly", "b-nightly"]
        assert admin.get(f"/schedules/{made['id']}").json() == made
        # And a second schedule of that name is refused
        again = admin.post("/schedules", json={"name": "b-nightly", "cron": "* * * * *",
                                               "job": {"command": "true"}})
        assert again.status_code == 409 and "b-nightly" in again.json()["detail"]
        actions = [e["action"] for e in admin.get("/audit").json()["items"]]
        assert actions.count("schedule.create") == 2


def test_pause_resume_and_a_new_cron(tenant: Tenant) -> None:
    with tenant.client() as admin:
        made = create(admin, cron="*/5 * * * *")
        # Paused: no next fire time
        paused = admin.patch(f"/schedules/{made['id']}", json={"enabled": False})
        assert paused.status_code == 200, paused.text
        assert paused.json()["enabled"] is False and paused.json()["next_run_at"] is None
        # Resumed: the next fire time after now, on the five minutes
        before = datetime.now(UTC)
        resumed = admin.patch(f"/schedules/{made['id']}", json={"enabled": True}).json()
        next_run = at(resumed["next_run_at"])
        assert before < next_run and next_run.minute % 5 == 0 and next_run.second == 0
        # A new cron and zone move it: 09:00 in Tokyo is 00:00 UTC
        moved = admin.patch(f"/schedules/{made['id']}",
                            json={"cron": "0 9 * * *", "timezone": "Asia/Tokyo"}).json()
        assert (moved["cron"], moved["timezone"]) == ("0 9 * * *", "Asia/Tokyo")
        assert at(moved["next_run_at"]).astimezone(UTC).hour == 0
        # A rename onto another schedule's name is refused
        other = create(admin)
        clash = admin.patch(f"/schedules/{made['id']}", json={"name": other["name"]})
        assert clash.status_code == 409
        targets = [e["target"] for e in admin.get("/audit").json()["items"]
                   if e["action"] == "schedule.update"]
        assert any("paused" in t for t in targets) and any("resumed" in t for t in targets)


def test_a_trigger_makes_a_job_now_and_the_history_lists_it(tenant: Tenant) -> None:
    with tenant.client() as admin:
        made = create(admin, enabled=False)
        # When it is triggered twice (paused or not)
        jobs = []
        for _ in range(2):
            answer = admin.post(f"/schedules/{made['id']}/trigger")
            assert answer.status_code == 201, answer.text
            jobs.append(answer.json())
        # Then each is a job of the schedule's body, carrying its id
        for job in jobs:
            assert job["schedule_id"] == made["id"] and job["command"] == "echo nightly"
            assert admin.get(f"/jobs/{job['id']}").json()["schedule_id"] == made["id"]
        # And the history lists them newest first, page by page
        first = admin.get(f"/schedules/{made['id']}/jobs", params={"limit": 1}).json()
        assert [j["id"] for j in first["items"]] == [jobs[1]["id"]]
        second = admin.get(f"/schedules/{made['id']}/jobs",
                           params={"limit": 1, "cursor": first["next_cursor"]}).json()
        assert [j["id"] for j in second["items"]] == [jobs[0]["id"]]
        assert second["next_cursor"] is None
        after = admin.get(f"/schedules/{made['id']}").json()
        assert after["last_job_id"] == jobs[1]["id"] and after["next_run_at"] is None
        # And a deleted schedule's jobs stay, with its id
        assert admin.delete(f"/schedules/{made['id']}").status_code == 204
        assert admin.get(f"/schedules/{made['id']}").status_code == 404
        assert admin.get(f"/jobs/{jobs[0]['id']}").json()["schedule_id"] == made["id"]
        actions = [e["action"] for e in admin.get("/audit").json()["items"]]
        assert actions.count("schedule.trigger") == 2 and "schedule.delete" in actions


def test_the_sweeper_fires_a_schedule_whose_time_came(
    tenant: Tenant, mongodb_url: str, mongodb_db_name: str
) -> None:
    with tenant.client() as admin:
        made = create(admin, cron="0 0 1 1 *")  # next January: it would not fire by itself
        # Given its fire time has come (set in the database: no test waits for January)
        due = datetime.now(UTC).replace(microsecond=0)
        with MongoClient(mongodb_url, serverSelectionTimeoutMS=10_000) as mongo:
            mongo[mongodb_db_name].schedules.update_one({"_id": ObjectId(made["id"])},
                                                        {"$set": {"next_run_at": due}})
        # Then the API's sweeper makes its job within a second or so
        deadline = time.monotonic() + 10
        while (after := admin.get(f"/schedules/{made['id']}").json())["last_job_id"] is None:
            assert time.monotonic() < deadline, "the due schedule made no job"
            time.sleep(0.2)
        history = admin.get(f"/schedules/{made['id']}/jobs").json()["items"]
        assert [job["id"] for job in history] == [after["last_job_id"]]
        assert history[0]["schedule_id"] == made["id"]
        assert at(after["next_run_at"]).month == 1 and at(after["next_run_at"]) > due


def test_roles_and_tenants(tenant: Tenant, platform) -> None:
    with tenant.client() as admin:
        made = create(admin)
        path = f"/schedules/{made['id']}"
        # A member (and a viewer) reads schedules but manages none
        for role in ("member", "viewer"):
            with as_role(tenant, admin, role) as user:
                assert user.get("/schedules").status_code == 200
                assert user.get(path).status_code == 200
                assert user.get(f"{path}/jobs").status_code == 200
                assert user.get("/schedules/preview", params={"cron": "@daily"}).status_code \
                    == 200
                for method, where, body in [
                    ("POST", "/schedules", {"name": "x", "cron": "@daily",
                                            "job": {"command": "true"}}),
                    ("PATCH", path, {"enabled": False}),
                    ("DELETE", path, None),
                    ("POST", f"{path}/trigger", None),
                ]:
                    answer = user.request(method, where, json=body)
                    assert answer.status_code == 403, (role, method, where, answer.text)
    # Another tenant's schedule is not found, through any route
    with platform.new_tenant().client() as stranger:
        assert made["id"] not in {s["id"] for s in stranger.get("/schedules").json()}
        for method, where in [("GET", path), ("PATCH", path), ("DELETE", path),
                              ("POST", f"{path}/trigger"), ("GET", f"{path}/jobs")]:
            body = {"enabled": False} if method == "PATCH" else None
            answer = stranger.request(method, where, json=body)
            assert answer.status_code == 404, (method, where, answer.text)
    with tenant.client() as admin:
        assert admin.get(path).json()["enabled"] is True


def test_bad_input_is_refused_with_its_reason(tenant: Tenant) -> None:
    with tenant.client() as admin:
        job = {"command": "true"}
        for body, reason in [
            ({"name": "a", "cron": "61 * * * *", "job": job}, "bad minute field"),
            ({"name": "a", "cron": "* * *", "job": job}, "five fields"),
            ({"name": "a", "cron": "@daily", "timezone": "Mars/Olympus", "job": job},
             "unknown time zone"),
            ({"name": "a", "cron": "@daily", "job": {**job, "idempotency_key": "k"}},
             "idempotency_key"),
            ({"name": "a", "cron": "@daily", "job": {"command": "true", "argv": ["x"]}},
             "exactly one of"),
            ({"name": "a", "cron": "@daily", "job": {**job, "secrets": ["NOT_SET"]}},
             "unknown secret NOT_SET"),
            ({"name": "a", "cron": "@daily", "job": job, "misfire": "twice"}, "run_once"),
        ]:
            answer = admin.post("/schedules", json=body)
            assert answer.status_code == 422, (body, answer.text)
            assert reason in str(answer.json()["detail"]), (body, answer.text)
        preview = admin.get("/schedules/preview", params={"cron": "0 0 30 2 *"})
        assert preview.status_code == 422
        assert preview.json()["detail"] == "'0 0 30 2 *': bad day-of-month field"
        zone = admin.get("/schedules/preview", params={"cron": "@daily", "timezone": "Nope"})
        assert zone.status_code == 422 and "unknown time zone" in zone.json()["detail"]
        made = create(admin)
        bad = admin.patch(f"/schedules/{made['id']}", json={"cron": "* * * * * *"})
        assert bad.status_code == 422 and "five fields" in bad.text
        assert admin.get("/schedules/not-an-id").status_code == 404
        assert admin.get(f"/schedules/{made['id']}/jobs",
                         params={"cursor": "nope"}).status_code == 422
        assert admin.get("/schedules").json()[0]["cron"] == "30 2 * * *"
