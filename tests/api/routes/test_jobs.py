"""`GET /jobs`: every sort pages through each job exactly once, the created range is exact, and
bad values are refused with the reason."""

import os
import struct
from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId

from tests.support.platform import Tenant

pytestmark = pytest.mark.integration

# Yesterday: well within JOB_RETENTION_DAYS, so the sweeper leaves the ended ones alone.
T0 = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0)


def id_at(at: datetime) -> ObjectId:
    """An ObjectId made at `at`, as the API makes a job's (its creation second, then random)."""
    return ObjectId(struct.pack(">I", int(at.timestamp())) + os.urandom(8))


def tenant_id_of(tenant: Tenant) -> str:
    with tenant.client() as client:
        return client.get("/me").json()["tenant"]["id"]


def all_pages(tenant: Tenant, limit: int, **params: str) -> list[list[str]]:
    """The ids of each page, following next_cursor to the end."""
    pages: list[list[str]] = []
    cursor = None
    with tenant.client() as client:
        while True:
            response = client.get("/jobs", params={**params, "limit": limit,
                                                   **({"cursor": cursor} if cursor else {})})
            assert response.status_code == 200, response.text
            page = response.json()
            pages.append([job["id"] for job in page["items"]])
            cursor = page["next_cursor"]
            if cursor is None:
                return pages
            assert len(pages) < 50, "the cursor never ends"


@pytest.fixture
async def stored(tenant: Tenant, pymongo_db) -> list[dict]:
    """23 jobs of the tenant, a second apart; 15 ended, several of them in the same millisecond
    (ties the cursor must get past), and 8 not ended."""
    tenant_id = tenant_id_of(tenant)
    docs = []
    for i in range(23):
        created = T0 + timedelta(seconds=i, milliseconds=250)
        doc = {"_id": id_at(created), "tenant_id": tenant_id, "command": f"job {i}",
               "status": "queued" if i % 3 == 0 else ("failed" if i % 2 else "succeeded"),
               "created_at": created, "updated_at": created}
        if doc["status"] != "queued":
            # Ends in reverse order of creation, in groups of three at the same instant.
            doc["started_at"] = created
            doc["finished_at"] = T0 + timedelta(hours=1, seconds=-(i // 3))
        docs.append(doc)
    await pymongo_db.jobs.insert_many(docs)
    return docs


def ids(docs: list[dict]) -> list[str]:
    return [str(doc["_id"]) for doc in docs]


async def test_every_sort_pages_through_each_job_once_in_its_order(
        tenant: Tenant, stored: list[dict]) -> None:
    by_created = sorted(stored, key=lambda d: d["created_at"])
    ended = [d for d in stored if "finished_at" in d]
    by_finished = sorted(ended, key=lambda d: (d["finished_at"], d["_id"]))
    expected = {
        "-created_at": ids(by_created[::-1]),
        "created_at": ids(by_created),
        "-finished_at": ids(by_finished[::-1]),
        "finished_at": ids(by_finished),
    }
    for sort, order in expected.items():
        # When the jobs are read 4 at a time (page ends fall inside groups of equal finished_at)
        pages = all_pages(tenant, 4, sort=sort)
        # Then the pages, end to end, are the whole order: nothing missed, nothing twice
        assert [i for page in pages for i in page] == order, sort
        assert all(len(page) == 4 for page in pages[:-1])
    # The default is newest first, as it always was
    assert [i for page in all_pages(tenant, 10) for i in page] == expected["-created_at"]
    # A filter keeps its sort: the failed jobs by the time they ended
    failed = [i for i in expected["-finished_at"]
              if next(d for d in stored if str(d["_id"]) == i)["status"] == "failed"]
    pages = all_pages(tenant, 2, sort="-finished_at", status="failed")
    assert [i for page in pages for i in page] == failed


async def test_the_created_range_is_exact(tenant: Tenant, stored: list[dict]) -> None:
    # Jobs are created at T0 + i s + 250 ms: [T0 + 3.25 s, T0 + 7.25 s) holds jobs 3 to 6
    after = (T0 + timedelta(seconds=3, milliseconds=250)).isoformat()
    before = (T0 + timedelta(seconds=7, milliseconds=250)).isoformat()
    with tenant.client() as client:
        page = client.get("/jobs", params={"created_after": after, "created_before": before,
                                           "sort": "created_at"}).json()
        assert [j["command"] for j in page["items"]] == ["job 3", "job 4", "job 5", "job 6"]
        # A millisecond later, job 3 is out; without a time zone, the time is UTC
        naive = (T0 + timedelta(seconds=3, milliseconds=251)).replace(tzinfo=None).isoformat()
        page = client.get("/jobs", params={"created_after": naive, "created_before": before,
                                           "sort": "created_at"}).json()
        assert [j["command"] for j in page["items"]] == ["job 4", "job 5", "job 6"]
        # Another zone's spelling of the same instant is the same bound
        east = (T0 + timedelta(seconds=7, milliseconds=250)).astimezone(
            datetime.fromisoformat("2026-01-01T00:00:00+02:00").tzinfo).isoformat()
        page = client.get("/jobs", params={"created_after": after, "created_before": east,
                                           "status": "succeeded"}).json()
        assert [j["command"] for j in page["items"]] == ["job 4"]
        # With a range, pages still follow each other exactly
    pages = all_pages(tenant, 3, created_after=after, sort="-created_at")
    assert [i for page in pages for i in page] == ids(stored[3:][::-1])


@pytest.mark.parametrize(("params", "reason"), [
    ({"sort": "name"}, "-created_at"),
    ({"created_after": "yesterday"}, "datetime"),
    ({"created_after": "2026-01-02T00:00:00Z", "created_before": "2026-01-01T00:00:00Z"},
     "created_after must be earlier than created_before"),
    ({"sort": "-finished_at", "cursor": "0123456789abcdef01234567"},
     "invalid cursor for sort=-finished_at"),
    ({"cursor": "1767225600000-0123456789abcdef01234567"}, "invalid cursor for sort=-created_at"),
    ({"sort": "finished_at", "cursor": "999999999999999-0123456789abcdef01234567"},
     "invalid cursor for sort=finished_at"),
    ({"created_before": "9999-12-31T23:59:59Z"}, "created_before must be between 1970 and 2105"),
    ({"created_after": "0001-01-01T00:00:00Z"}, "created_after must be between 1970 and 2105"),
])
def test_bad_values_are_refused_with_the_reason(tenant: Tenant, params: dict, reason: str) -> None:
    with tenant.client() as client:
        response = client.get("/jobs", params=params)
    assert response.status_code == 422
    assert reason in response.text


def test_a_job_id_begins_with_its_creation_second(tenant: Tenant) -> None:
    """What the created sorts and range rely on (routes/jobs.py, ID_SLACK)."""
    for _ in range(5):
        job = tenant.submit(command="true", labels=["nowhere"])
        created = datetime.fromisoformat(job["created_at"])
        made = ObjectId(job["id"]).generation_time
        assert timedelta(0) <= made - created.replace(microsecond=0) <= timedelta(seconds=1)
