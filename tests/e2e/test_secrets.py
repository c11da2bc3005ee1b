"""Tenant secrets (SPEC §3, §6.7): encrypted at rest, never returned, `***` in logs."""

import hashlib
import secrets as random
import time
from datetime import datetime
from pathlib import Path

import pytest

from jobrunner_shared import names
from jobrunner_shared.secretbox import DEV_KEY, SecretBox
from tests.support.platform import Tenant

pytestmark = pytest.mark.e2e


def new_value(prefix: str = "tok") -> str:
    return f"{prefix}-{random.token_hex(12)}"


def put(tenant: Tenant, name: str, value: str) -> dict:
    with tenant.client() as client:
        response = client.put(f"/secrets/{name}", json={"value": value})
    assert response.status_code in (200, 201), response.text
    return response.json()


def when(response, field: str) -> datetime:
    return datetime.fromisoformat(response.json()[field])


def tenant_id(tenant: Tenant) -> str:
    with tenant.client() as client:
        return client.get("/me").json()["tenant"]["id"]


def test_set_list_replace_delete_and_the_value_is_never_returned(tenant: Tenant) -> None:
    value, other = new_value(), new_value()
    responses = []
    with tenant.client() as client:
        # When a secret is set, it is created (201) with its name and dates only
        created = client.put("/secrets/DEPLOY_TOKEN", json={"value": value})
        responses.append(created)
        assert created.status_code == 201
        assert set(created.json()) == {"name", "created_at", "updated_at"}
        assert created.json()["name"] == "DEPLOY_TOKEN"
        responses.append(client.put("/secrets/API_KEY", json={"value": other}))
        # And setting it again replaces it (200), keeping its creation date
        time.sleep(0.01)  # dates are kept to the millisecond
        replaced = client.put("/secrets/DEPLOY_TOKEN", json={"value": value + "-2"})
        responses.append(replaced)
        assert replaced.status_code == 200
        assert when(replaced, "created_at") == when(created, "created_at")
        assert when(replaced, "updated_at") > when(created, "updated_at")
        # And the list holds names and dates, sorted by name, never values
        listed = client.get("/secrets")
        responses.append(listed)
        assert [s["name"] for s in listed.json()] == ["API_KEY", "DEPLOY_TOKEN"]
        assert all(set(s) == {"name", "created_at", "updated_at"} for s in listed.json())
        # When it is deleted, it is gone; a second delete is 404
        deleted = client.delete("/secrets/DEPLOY_TOKEN")
        assert deleted.status_code == 204
        assert client.delete("/secrets/DEPLOY_TOKEN").status_code == 404
        assert [s["name"] for s in client.get("/secrets").json()] == ["API_KEY"]
    for response in responses:
        assert value not in response.text and other not in response.text


INVALID = [
    ("1BAD", {"value": "v"}, "is not valid"),
    ("BAD-NAME", {"value": "v"}, "is not valid"),
    ("X" * 129, {"value": "v"}, "at most 128"),
    ("GOOD", {"value": ""}, "at least 1 character"),
    ("GOOD", {"value": "x" * (64 * 1024 + 1) + "-marker"}, "at most 65536 bytes"),
    ("GOOD", {"value": "nul\x00-marker"}, "NUL"),
    ("GOOD", {"value": 12345678}, "valid string"),
    ("GOOD", {"value": "v", "extra": "x-marker"}, "Extra inputs"),
]


def test_an_invalid_secret_is_422_with_a_reason_that_does_not_quote_it(tenant: Tenant) -> None:
    with tenant.client() as client:
        for name, body, reason in INVALID:
            response = client.put(f"/secrets/{name}", json=body)
            assert response.status_code == 422, (name, response.text)
            assert reason in response.text
            assert "marker" not in response.text and "12345678" not in response.text
        assert client.get("/secrets").json() == []
        # The largest value allowed is accepted
        assert client.put("/secrets/GOOD", json={"value": "x" * 64 * 1024}).status_code == 201


def test_the_stored_document_holds_only_ciphertext(tenant: Tenant, platform, mongodb_url,
                                                   mongodb_db_name) -> None:
    from pymongo import MongoClient

    value = new_value("plain") + "\nsecond-line-of-it"
    put(tenant, "STORED", value)
    with MongoClient(mongodb_url, serverSelectionTimeoutMS=10_000) as client:
        doc = client[mongodb_db_name][names.SECRETS_COLLECTION].find_one(
            {"_id": f"{tenant_id(tenant)}:STORED"}
        )
    assert doc is not None
    stored = repr(doc)
    assert value.split("\n")[0] not in stored and "second-line-of-it" not in stored
    # It is the value encrypted with ENCRYPTION_KEY (development mode's default here)
    assert SecretBox(DEV_KEY).decrypt(doc["ciphertext"]) == value


def test_a_job_gets_its_secrets_as_environment_and_its_log_shows_them_masked(
    tenant: Tenant, platform, start_worker
) -> None:
    # Given two secrets, one of them of several lines, and a worker
    token = new_value()
    pem = f"-----BEGIN TEST KEY-----\n{random.token_hex(20)}\n-----END TEST KEY-----\n"
    put(tenant, "TOKEN", token)
    put(tenant, "PEM", pem)
    worker = start_worker(tenant.worker_key())
    digest = hashlib.sha256(token.encode()).hexdigest()
    # When a job that names them checks and prints them
    job = tenant.submit(
        command=(
            f'test "$(printf %s "$TOKEN" | sha256sum | cut -d" " -f1)" = "{digest}" && echo ok; '
            'echo "token is $TOKEN"; printf %s "$PEM"; echo "$TOKEN" >&2'
        ),
        secrets=["TOKEN", "PEM"],
        env={"PLAIN": "visible"},
    )
    assert job["secrets"] == ["TOKEN", "PEM"] and job["env"] == {"PLAIN": "visible"}
    done = tenant.wait_final(job["id"])
    assert done["status"] == "succeeded", done
    # Then the job had the value, and its stored log shows only ***
    lines = tenant.all_lines(job["id"])
    stdout = [ln["text"] for ln in lines if ln["stream"] == "stdout"]
    stderr = [ln["text"] for ln in lines if ln["stream"] == "stderr"]
    assert stdout == ["ok", "token is ***", "***", "***", "***"]
    assert stderr == ["***"]
    pem_lines = pem.strip().splitlines()
    with tenant.client() as client:
        for response in (
            client.get(f"/jobs/{job['id']}"),
            client.get(f"/jobs/{job['id']}/logs/download"),
            client.get("/jobs"),
        ):
            assert token not in response.text
            assert not any(line in response.text for line in pem_lines)
    # And no service wrote a value into its own logs
    for process in (platform.api, platform.master, worker):
        output = process.output()
        assert token not in output
        assert pem_lines[1] not in output


def test_a_job_naming_an_unknown_secret_or_one_also_in_env_is_422(tenant: Tenant) -> None:
    put(tenant, "KNOWN", new_value())
    with tenant.client() as client:
        unknown = client.post("/jobs", json={"command": "true", "secrets": ["KNOWN", "NOPE"]})
        assert unknown.status_code == 422
        assert "unknown secret NOPE" in unknown.json()["detail"]
        both = client.post(
            "/jobs", json={"command": "true", "env": {"KNOWN": "x"}, "secrets": ["KNOWN"]}
        )
        assert both.status_code == 422
        assert "KNOWN: both in 'env' and in 'secrets'" in both.text
        assert client.get("/jobs").json()["items"] == []
        # A corrected resend with the same idempotency key is accepted
        headers = {"Idempotency-Key": "fix-me"}
        first = client.post("/jobs", json={"command": "true", "secrets": ["NOPE"]},
                            headers=headers)
        assert first.status_code == 422
        fixed = client.post("/jobs", json={"command": "true", "secrets": ["KNOWN"],
                                           "labels": ["nobody"]}, headers=headers)
        assert fixed.status_code == 201, fixed.text


def test_another_tenant_can_neither_see_delete_nor_use_a_secret(platform, start_worker) -> None:
    a, b = platform.new_tenant(), platform.new_tenant()
    a_value, b_value = new_value("a"), new_value("b")
    put(a, "SHARED_NAME", a_value)
    with b.client() as client:
        assert client.get("/secrets").json() == []
        assert client.delete("/secrets/SHARED_NAME").status_code == 404
        response = client.post("/jobs", json={"command": "true", "secrets": ["SHARED_NAME"]})
        assert response.status_code == 422
    # b's own secret of the same name is b's, and a's stays a's
    assert put(b, "SHARED_NAME", b_value)["name"] == "SHARED_NAME"
    start_worker(a.worker_key(), name="a-secrets")
    start_worker(b.worker_key(), name="b-secrets")
    jobs = [
        (t, t.submit(command='test "$SHARED_NAME" = "$EXPECTED" && echo mine',
                     secrets=["SHARED_NAME"], env={"EXPECTED": v}))
        for t, v in ((a, a_value), (b, b_value))
    ]
    for t, job in jobs:
        assert t.wait_final(job["id"])["status"] == "succeeded"
        assert [ln["text"] for ln in t.all_lines(job["id"])] == ["mine"]
    with a.client() as client:
        assert [s["name"] for s in client.get("/secrets").json()] == ["SHARED_NAME"]


def test_a_secret_deleted_before_a_retry_is_queued_fails_the_job_naming_it(
    tenant: Tenant, start_worker, tmp_path: Path
) -> None:
    # Given a job with a secret and a retry, whose first attempt waits for a go, then fails
    put(tenant, "GONE_SOON", new_value())
    go = tmp_path / "go"
    start_worker(tenant.worker_key())
    job = tenant.submit(
        command=f'while [ ! -e "{go}" ]; do sleep 0.05; done; test -n "$GONE_SOON"; exit 1',
        secrets=["GONE_SOON"], max_retries=1,
    )
    tenant.wait_job(job["id"], lambda j: j["status"] == "running")
    # When the secret is deleted while attempt 1 runs, and attempt 1 then fails
    with tenant.client() as client:
        assert client.delete("/secrets/GONE_SOON").status_code == 204
    go.touch()
    # Then attempt 2 never runs: the job fails, saying which secret is missing
    done = tenant.wait_final(job["id"])
    assert done["status"] == "failed"
    assert done["error"] == "secret_missing: GONE_SOON"
    first, second = done["attempts"]
    assert first["status"] == "failed" and first["exit_code"] == 1
    assert second["status"] == "failed" and second["worker"] is None
    assert second["error"] == "secret_missing: GONE_SOON"
    time.sleep(0.5)
    assert tenant.job(job["id"])["status"] == "failed"  # and it stays so
