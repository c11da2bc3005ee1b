"""`POST /jobs/cancel` and `POST /jobs/rerun`: many jobs in one request, an answer per id."""

import pytest
from bson import ObjectId

from jobrunner_api.schemas import MAX_BULK
from tests.support.platform import Platform, Tenant

pytestmark = pytest.mark.e2e


def outcomes(response) -> dict[str, dict]:  # noqa: ANN001 - an httpx response
    assert response.status_code == 200, response.text
    return {result["id"]: result for result in response.json()["results"]}


def test_bulk_cancel_says_per_job_what_happened(platform: Platform, tenant: Tenant,
                                                start_worker) -> None:
    # Given a worker of capacity 1 running a long job, another job queued behind it, a job
    # that ended, another tenant's job, and ids of no job at all
    start_worker(tenant.worker_key(), labels="bulk", capacity=1)
    tenant.wait_workers_online(1)
    ended = tenant.submit(command="true", labels=["bulk"])
    tenant.wait_final(ended["id"])
    running = tenant.submit(command="sleep 30", labels=["bulk"])
    tenant.wait_job(running["id"], lambda job: job["status"] == "running")
    queued = tenant.submit(command="sleep 30", labels=["bulk"])
    theirs = platform.new_tenant().submit(command="true", labels=["nowhere"])
    missing = str(ObjectId())
    asked = [running["id"], queued["id"], ended["id"], theirs["id"], missing, "not-an-id",
             queued["id"].upper()]

    # When they are cancelled in one request
    with tenant.client() as client:
        response = client.post("/jobs/cancel", json={"ids": asked})

    # Then each id is answered once, in the order asked
    results = outcomes(response)
    assert list(results) == [running["id"], queued["id"], ended["id"], theirs["id"], missing,
                             "not-an-id"]
    assert results[queued["id"]] == {"id": queued["id"], "outcome": "cancelled",
                                     "status": "cancelled"}
    assert results[running["id"]]["outcome"] == "cancelling"
    assert results[ended["id"]] == {"id": ended["id"], "outcome": "already_final",
                                    "status": "succeeded"}
    for other in (theirs["id"], missing, "not-an-id"):
        assert results[other] == {"id": other, "outcome": "not_found", "status": None}
    # And the running job is stopped by its worker, the queued one never starts
    assert tenant.wait_final(running["id"], timeout=20)["status"] == "cancelled"
    assert tenant.job(queued["id"])["attempts"][0]["started_at"] is None
    # And the other tenant's job is untouched
    assert tenant.job(ended["id"])["status"] == "succeeded"
    with tenant.client() as client:
        assert client.get(f"/jobs/{theirs['id']}").status_code == 404


def test_bulk_rerun_makes_a_new_job_of_each(platform: Platform, tenant: Tenant) -> None:
    # Given two jobs of the tenant (one naming a secret that is deleted since) and another
    # tenant's job
    with tenant.client() as client:
        assert client.put("/secrets/GONE", json={"value": "x"}).status_code == 201
    first = tenant.submit(command="echo one", labels=["nowhere"], env={"A": "1"}, priority=3)
    second = tenant.submit(argv=["echo", "two"], labels=["nowhere"], name="second")
    needs_secret = tenant.submit(command="echo $GONE", labels=["nowhere"], secrets=["GONE"])
    theirs = platform.new_tenant().submit(command="true", labels=["nowhere"])
    with tenant.client() as client:
        assert client.delete("/secrets/GONE").status_code == 204

        # When they are rerun in one request
        response = client.post("/jobs/rerun", json={
            "ids": [first["id"], second["id"], needs_secret["id"], theirs["id"], first["id"]]})
        results = outcomes(response)

        # Then each of the tenant's jobs has a new job of the same spec, in the order asked
        assert list(results) == [first["id"], second["id"], needs_secret["id"], theirs["id"]]
        for old in (first, second):
            result = results[old["id"]]
            assert result["outcome"] == "rerun"
            new = client.get(f"/jobs/{result['job_id']}").json()
            assert new["rerun_of"] == old["id"] and new["status"] == "queued"
            for field in ("command", "argv", "labels", "env", "priority", "name"):
                assert new[field] == old[field], field
        # And a job that cannot run again says why; another tenant's is not found
        assert results[needs_secret["id"]]["outcome"] == "refused"
        assert "unknown secret GONE" in results[needs_secret["id"]]["detail"]
        assert results[theirs["id"]] == {"id": theirs["id"], "outcome": "not_found",
                                         "job_id": None, "detail": None}
        # And the list shows the two new jobs (and nothing was made for the others)
        listed = client.get("/jobs", params={"label": "nowhere"}).json()["items"]
        assert len(listed) == 5
        cancelled = client.post("/jobs/cancel", json={"ids": [j["id"] for j in listed]})
        assert {r["outcome"] for r in cancelled.json()["results"]} == {"cancelled"}


@pytest.mark.parametrize("ids", [[], [str(ObjectId()) for _ in range(MAX_BULK + 1)], ["x" * 65]])
def test_a_bulk_request_of_no_or_too_many_ids_is_refused(tenant: Tenant, ids: list[str]) -> None:
    with tenant.client() as client:
        for action in ("cancel", "rerun"):
            response = client.post(f"/jobs/{action}", json={"ids": ids})
            assert response.status_code == 422, response.text
            assert response.json()["detail"][0]["loc"][:2] == ["body", "ids"]
