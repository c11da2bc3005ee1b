"""Users and roles (SPEC §3): what a viewer, a member and an admin may do; 403 otherwise."""

import secrets

import httpx
import pytest

from tests.support.platform import Tenant, login

pytestmark = pytest.mark.e2e


def add_user(admin: httpx.Client, role: str) -> tuple[str, str, str]:
    username, password = f"u-{secrets.token_hex(4)}", secrets.token_urlsafe(12)
    created = admin.post("/users", json={"username": username, "password": password,
                                          "role": role})
    assert created.status_code == 201, created.text
    assert created.json()["role"] == role
    return created.json()["id"], username, password


def as_user(tenant: Tenant, username: str, password: str) -> httpx.Client:
    token = login(tenant.platform.api_url, username, password)
    return httpx.Client(base_url=f"{tenant.platform.api_url}/api/v1",
                        headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_each_role_does_what_it_may_and_gets_403_beyond(tenant: Tenant) -> None:
    with tenant.client() as admin:
        _, viewer_name, viewer_pw = add_user(admin, "viewer")
        _, member_name, member_pw = add_user(admin, "member")
        job = admin.post("/jobs", json={"command": "true"}).json()
    with as_user(tenant, viewer_name, viewer_pw) as viewer:
        assert viewer.get("/me").json()["role"] == "viewer"
        # A viewer reads everything of the tenant's...
        for path in ("/jobs", f"/jobs/{job['id']}", "/workers", "/secrets", "/api-keys",
                     "/users", "/stats"):
            assert viewer.get(path).status_code == 200, path
        # ... and changes nothing
        for method, path, body in [
            ("POST", "/jobs", {"command": "true"}),
            ("POST", f"/jobs/{job['id']}/cancel", None),
            ("POST", f"/jobs/{job['id']}/rerun", None),
            ("POST", "/api-keys", {"name": "k", "kind": "worker"}),
            ("PUT", "/secrets/TOKEN", {"value": "x"}),
            ("POST", "/users", {"username": "x-new", "password": "long enough pw", "role": "admin"}),
            ("GET", "/audit", None),
        ]:
            answer = viewer.request(method, path, json=body)
            assert answer.status_code == 403, (method, path, answer.text)
            assert "viewer" in answer.json()["detail"]
    with as_user(tenant, member_name, member_pw) as member:
        # A member submits, cancels and reruns...
        submitted = member.post("/jobs", json={"command": "true"})
        assert submitted.status_code == 201
        assert member.post(f"/jobs/{submitted.json()['id']}/cancel").status_code == 202
        assert member.post(f"/jobs/{job['id']}/rerun").status_code == 201
        # ... and manages nothing
        assert member.post("/api-keys", json={"name": "k", "kind": "worker"}).status_code == 403
        assert member.put("/secrets/TOKEN", json={"value": "x"}).status_code == 403
        assert member.delete(f"/users/{submitted.json()['id']}").status_code == 403
        assert member.get("/audit").status_code == 403


def test_a_role_change_or_deletion_takes_effect_for_tokens_already_issued(tenant: Tenant) -> None:
    with tenant.client() as admin:
        user_id, name, password = add_user(admin, "member")
        with as_user(tenant, name, password) as user:
            assert user.post("/jobs", json={"command": "true"}).status_code == 201
            assert admin.patch(f"/users/{user_id}", json={"role": "viewer"}).json()["role"] \
                == "viewer"
            assert user.post("/jobs", json={"command": "true"}).status_code == 403
            assert admin.delete(f"/users/{user_id}").status_code == 204
            assert user.get("/jobs").status_code == 401
        assert admin.get(f"/users/{user_id}").status_code == 404


def test_the_last_admin_stays_and_usernames_are_unique(tenant: Tenant) -> None:
    with tenant.client() as admin:
        me = admin.get("/me").json()
        (mine,) = [u for u in admin.get("/users").json() if u["username"] == me["username"]]
        demote = admin.patch(f"/users/{mine['id']}", json={"role": "member"})
        assert demote.status_code == 409 and "last admin" in demote.json()["detail"]
        assert admin.delete(f"/users/{mine['id']}").status_code == 409
        _, name, _ = add_user(admin, "viewer")
        again = admin.post("/users", json={"username": name, "password": "another good one"})
        assert again.status_code == 409 and "taken" in again.json()["detail"]


def test_the_password_policy(tenant: Tenant) -> None:
    with tenant.client() as admin:
        for password, reason in [("xq7z", "at least 8"),
                                 ("my-name-carol-x1!", "username")]:
            answer = admin.post("/users", json={"username": "my-name-carol", "password": password})
            assert answer.status_code == 422, answer.text
            assert reason in str(answer.json()["detail"])
            # The refused password is not quoted back
            assert password not in answer.text


def test_a_password_change_ends_earlier_tokens(tenant: Tenant) -> None:
    with tenant.client() as admin:
        _, name, password = add_user(admin, "member")
    with as_user(tenant, name, password) as user:
        wrong = user.post("/auth/password", json={"current_password": "nope",
                                                   "new_password": "a brand new one"})
        assert wrong.status_code == 403
        weak = user.post("/auth/password", json={"current_password": password,
                                                  "new_password": "short"})
        assert weak.status_code == 422
        changed = user.post("/auth/password", json={"current_password": password,
                                                     "new_password": "a brand new one"})
        assert changed.status_code == 200, changed.text
        # The token used for the change is over; the one answered works
        assert user.get("/me").status_code == 401
        fresh = {"Authorization": f"Bearer {changed.json()['access_token']}"}
        assert user.get("/me", headers=fresh).json()["username"] == name
    assert login(tenant.platform.api_url, name, "a brand new one")
    with pytest.raises(httpx.HTTPStatusError):
        login(tenant.platform.api_url, name, password)


def test_another_tenants_users_are_not_found(tenant: Tenant, platform) -> None:
    other = platform.new_tenant()
    with tenant.client() as admin, other.client() as stranger:
        user_id, name, _ = add_user(admin, "viewer")
        assert name not in {u["username"] for u in stranger.get("/users").json()}
        assert stranger.get(f"/users/{user_id}").status_code == 404
        assert stranger.patch(f"/users/{user_id}", json={"role": "admin"}).status_code == 404
        assert stranger.delete(f"/users/{user_id}").status_code == 404
