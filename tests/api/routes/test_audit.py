"""The audit log (SPEC §3): every action named there, by whom, on what; admins only; per tenant."""

import pytest

from tests.support.platform import Tenant

pytestmark = pytest.mark.e2e


def test_actions_are_logged_newest_first_with_filters_and_pages(tenant: Tenant, platform) -> None:
    with tenant.client() as admin:
        me = admin.get("/me").json()["username"]
        key = admin.post("/api-keys", json={"name": "ci", "kind": "submit"}).json()
        assert admin.delete(f"/api-keys/{key['id']}").status_code == 204
        assert admin.put("/secrets/TOKEN", json={"value": "s3cret-value"}).status_code == 201
        assert admin.delete("/secrets/TOKEN").status_code == 204
        user = admin.post("/users", json={"username": f"{me}-v", "password": "long enough pw",
                                          "role": "viewer"}).json()
        assert admin.patch(f"/users/{user['id']}", json={"role": "member"}).status_code == 200
        assert admin.delete(f"/users/{user['id']}").status_code == 204
        job = admin.post("/jobs", json={"command": "sleep 30"}).json()
        assert admin.post(f"/jobs/{job['id']}/cancel").status_code == 202
        assert admin.post(f"/jobs/{job['id']}/rerun").status_code == 201

        entries = admin.get("/audit", params={"actor": me, "limit": 100}).json()["items"]
        actions = [e["action"] for e in reversed(entries) if e["action"] != "login"]
        assert actions == [
            "api_key.create", "api_key.revoke", "secret.set", "secret.delete", "user.create",
            "user.update", "user.delete", "job.cancel", "job.rerun",
        ]
        assert all(e["actor"] == me for e in entries)
        by_action = {e["action"]: e for e in entries}
        assert by_action["api_key.revoke"]["target"].startswith("ci (submit, jrs_")
        assert by_action["secret.set"]["target"] == "TOKEN"
        assert "s3cret-value" not in str(entries)
        assert by_action["user.update"]["target"] == f"{me}-v: role viewer → member"
        assert job["id"] in by_action["job.cancel"]["target"]

        only = admin.get("/audit", params={"action": "secret.set"}).json()["items"]
        assert [e["action"] for e in only] == ["secret.set"]
        first = admin.get("/audit", params={"limit": 2}).json()
        second = admin.get("/audit", params={"limit": 2, "cursor": first["next_cursor"]}).json()
        assert [e["id"] for e in first["items"]] == [e["id"] for e in entries[:2]]
        assert [e["id"] for e in second["items"]] == [e["id"] for e in entries[2:4]]
        assert admin.get("/audit", params={"action": "nonsense"}).status_code == 422

    with platform.new_tenant().client() as stranger:
        theirs = stranger.get("/audit", params={"limit": 100}).json()["items"]
        assert not any(e["actor"] == me for e in theirs)
