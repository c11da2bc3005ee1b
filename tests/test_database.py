"""The database the suite runs against does what the platform relies on.

Whichever server it is (the local stand-in, mongod, a container or MONGODB_URL): a
compare-and-set has one winner, concurrent updates of one document are all kept, unique indexes
hold, and every query shape, update and aggregation the services use gives MongoDB's answer.
Stand-in gaps (no $dateTrunc, no $percentile, ...) are listed in docs/local-database.md.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from pymongo import AsyncMongoClient, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

pytestmark = pytest.mark.integration

CLIENTS = 20
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def collection(pymongo_db: AsyncDatabase) -> AsyncCollection:
    """A collection of this test's own."""
    return pymongo_db[f"database_{uuid.uuid4().hex[:8]}"]


@pytest.fixture
async def client_collections(mongodb_url: str, mongodb_db_name: str,
                             collection: AsyncCollection) -> AsyncIterator[list[AsyncCollection]]:
    """The test's collection through 20 clients, each with connections of its own."""
    clients = [AsyncMongoClient(mongodb_url, serverSelectionTimeoutMS=10_000)
               for _ in range(CLIENTS)]
    try:
        yield [client[mongodb_db_name][collection.name] for client in clients]
    finally:
        for client in clients:
            await client.close()


async def test_a_compare_and_set_has_exactly_one_winner_per_race(
        client_collections: list[AsyncCollection]) -> None:
    # Given 300 documents at version 0
    first = client_collections[0]
    await first.insert_many([{"_id": f"race-{n}", "version": 0} for n in range(300)])

    # When 20 clients at once try to move each one from version 0 to 1
    winners = []
    for n in range(300):
        results = await asyncio.gather(*(
            each.find_one_and_update({"_id": f"race-{n}", "version": 0},
                                     {"$inc": {"version": 1}})
            for each in client_collections))
        winners.append(sum(result is not None for result in results))

    # Then each race has exactly one winner, and each document moved once
    assert winners == [1] * 300
    assert await first.count_documents({"version": 1}) == 300


async def test_concurrent_increments_and_pushes_on_one_document_are_all_kept(
        client_collections: list[AsyncCollection]) -> None:
    # Given a counter document
    await client_collections[0].insert_one({"_id": "counter", "n": 0, "items": []})

    # When 500 increments and 500 pushes arrive at once from 20 clients
    await asyncio.gather(
        *(client_collections[i % CLIENTS].update_one({"_id": "counter"}, {"$inc": {"n": 1}})
          for i in range(500)),
        *(client_collections[i % CLIENTS].update_one({"_id": "counter"}, {"$push": {"items": i}})
          for i in range(500)))

    # Then none is lost
    counter = await client_collections[0].find_one({"_id": "counter"})
    assert counter["n"] == 500
    assert sorted(counter["items"]) == list(range(500))


async def test_unique_indexes_refuse_a_second_document_with_the_same_key(
        collection: AsyncCollection) -> None:
    # Given a unique key and a unique (tenant, name) pair, as the API keys and secrets have
    await collection.create_index("key_hash", unique=True)
    await collection.create_index([("tenant_id", 1), ("name", 1)], unique=True)
    await collection.insert_one({"key_hash": "h1", "tenant_id": "a", "name": "deploy"})
    await collection.insert_one({"key_hash": "h2", "tenant_id": "b", "name": "deploy"})

    # Then neither an insert nor an update can make a duplicate
    with pytest.raises(DuplicateKeyError):
        await collection.insert_one({"key_hash": "h1", "tenant_id": "c", "name": "other"})
    with pytest.raises(DuplicateKeyError):
        await collection.insert_one({"key_hash": "h3", "tenant_id": "a", "name": "deploy"})
    with pytest.raises(DuplicateKeyError):
        await collection.update_one({"key_hash": "h2"}, {"$set": {"tenant_id": "a"}})
    # And the documents are as they were
    stored = await collection.find({}, {"_id": 0}).sort("key_hash", 1).to_list()
    assert stored == [{"key_hash": "h1", "tenant_id": "a", "name": "deploy"},
                      {"key_hash": "h2", "tenant_id": "b", "name": "deploy"}]


def job(n: int) -> dict:
    """Job n of 12: created 40 s apart, tenant a or b, a status, ran for n seconds."""
    created = T0 + timedelta(seconds=40 * n)
    return {
        "_id": f"job-{n:02d}",
        "tenant_id": "a" if n % 3 else "b",
        "status": ["succeeded", "failed", "running"][n % 3],
        "name": f"build {n}",
        "created_at": created,
        "started_at": created + timedelta(seconds=1),
        "finished_at": created + timedelta(seconds=1 + n),
    }


async def test_the_aggregation_stages_and_expressions_the_platform_uses(
        collection: AsyncCollection) -> None:
    jobs = [job(n) for n in range(12)]
    await collection.insert_many(jobs)

    # $match, $group with $sum, $sort: jobs by status for one tenant
    by_status = await (await collection.aggregate([
        {"$match": {"tenant_id": "a"}},
        {"$group": {"_id": "$status", "count": {"$sum": 1}}},
        {"$sort": {"_id": 1}},
    ])).to_list()
    assert by_status == [{"_id": "failed", "count": 4}, {"_id": "running", "count": 4}]

    # $sort, $limit, $project: the newest two names
    newest = await (await collection.aggregate([
        {"$sort": {"created_at": -1}}, {"$limit": 2}, {"$project": {"_id": 0, "name": 1}},
    ])).to_list()
    assert newest == [{"name": "build 11"}, {"name": "build 10"}]

    # $count
    assert await (await collection.aggregate([
        {"$match": {"status": "running"}}, {"$count": "n"},
    ])).to_list() == [{"n": 4}]

    # $toLong, $divide, $floor: jobs created per minute (no $dateTrunc on the stand-in)
    per_minute = await (await collection.aggregate([
        {"$group": {"_id": {"$floor": {"$divide": [{"$toLong": "$created_at"}, 60_000]}},
                    "count": {"$sum": 1}}},
        {"$sort": {"_id": 1}},
    ])).to_list()
    first_minute = int(T0.timestamp()) // 60
    expected: dict[int, int] = {}
    for n in range(12):
        minute = first_minute + (40 * n) // 60
        expected[minute] = expected.get(minute, 0) + 1
    assert [(int(row["_id"]), row["count"]) for row in per_minute] == sorted(expected.items())

    # $subtract on dates (milliseconds) and $bucket: how long the finished jobs ran
    durations = await (await collection.aggregate([
        {"$match": {"status": {"$in": ["succeeded", "failed"]}}},
        {"$project": {"ms": {"$subtract": ["$finished_at", "$started_at"]}}},
        {"$bucket": {"groupBy": "$ms", "boundaries": [0, 5_000, 60_000],
                     "output": {"jobs": {"$sum": 1}}}},
    ])).to_list()
    finished = [n for n in range(12) if n % 3 != 2]
    assert durations == [{"_id": 0, "jobs": sum(n < 5 for n in finished)},
                         {"_id": 5_000, "jobs": sum(n >= 5 for n in finished)}]

    # $facet: counts and a page in one round trip
    facets = await (await collection.aggregate([
        {"$match": {"tenant_id": "b"}},
        {"$facet": {"total": [{"$count": "n"}],
                    "page": [{"$sort": {"_id": 1}}, {"$limit": 2}, {"$project": {"_id": 1}}]}},
    ])).to_list()
    assert facets == [{"total": [{"n": 4}], "page": [{"_id": "job-00"}, {"_id": "job-03"}]}]


async def test_find_one_and_update_on_attempt_paths_returns_the_new_document(
        collection: AsyncCollection) -> None:
    # Given a job on its second attempt
    await collection.insert_one({"_id": "j1", "status": "queued", "attempt": 2, "attempts": [
        {"number": 1, "status": "failed"}, {"number": 2, "status": "queued"}]})

    # When attempt 2 starts, conditionally on its being queued
    after = await collection.find_one_and_update(
        {"_id": "j1", "attempt": 2, "attempts.1.status": "queued"},
        {"$set": {"status": "running", "attempts.1.status": "running", "attempts.1.worker": "w1"}},
        return_document=ReturnDocument.AFTER)

    # Then the new document comes back, and only attempt 2 changed
    assert after == {"_id": "j1", "status": "running", "attempt": 2, "attempts": [
        {"number": 1, "status": "failed"}, {"number": 2, "status": "running", "worker": "w1"}]}
    # And the positional filter finds it by attempt 2's status, not attempt 1's
    running = await collection.find({"attempts.1.status": "running"}).to_list()
    assert [d["_id"] for d in running] == ["j1"]
    assert await collection.find_one({"attempts.1.status": "failed"}) is None
    # And the same condition no longer holds: a second start changes nothing
    assert await collection.find_one_and_update(
        {"_id": "j1", "attempts.1.status": "queued"},
        {"$set": {"attempts.1.status": "running"}}) is None


async def test_find_one_and_update_upserts_once_then_updates(collection: AsyncCollection) -> None:
    update = {"$setOnInsert": {"first_seen": T0}, "$inc": {"seen": 1}}

    created = await collection.find_one_and_update(
        {"_id": "tenant:key"}, update, upsert=True, return_document=ReturnDocument.AFTER)
    again = await collection.find_one_and_update(
        {"_id": "tenant:key"}, update, upsert=True, return_document=ReturnDocument.AFTER)

    assert created == {"_id": "tenant:key", "first_seen": T0.replace(tzinfo=None), "seen": 1}
    assert again == {**created, "seen": 2}
    assert await collection.count_documents({}) == 1


async def test_update_many_by_a_list_of_ids(collection: AsyncCollection) -> None:
    await collection.insert_many([{"_id": f"j{n}", "status": "queued"} for n in range(10)])

    result = await collection.update_many({"_id": {"$in": ["j1", "j3", "j5", "gone"]}},
                                          {"$set": {"status": "cancelled"}})

    assert (result.matched_count, result.modified_count) == (3, 3)
    cancelled = await collection.find({"status": "cancelled"}).sort("_id", 1).to_list()
    assert [d["_id"] for d in cancelled] == ["j1", "j3", "j5"]
    assert await collection.count_documents({"status": "queued"}) == 7


async def test_deleting_the_oldest_few_by_ids_found_first(collection: AsyncCollection) -> None:
    # Given ten log chunks of a job and two of another
    await collection.insert_many(
        [{"_id": f"j1:1:{seq}", "job_id": "j1", "seq": seq} for seq in range(10)]
        + [{"_id": f"j2:1:{seq}", "job_id": "j2", "seq": seq} for seq in range(2)])

    # When the four oldest of j1 are found, then deleted by id (delete_many has no limit)
    oldest = await collection.find({"job_id": "j1"}, {"_id": 1}).sort("seq", 1).limit(4).to_list()
    result = await collection.delete_many({"_id": {"$in": [d["_id"] for d in oldest]}})

    # Then exactly those are gone
    assert result.deleted_count == 4
    left = await collection.find({"job_id": "j1"}).sort("seq", 1).to_list()
    assert [d["seq"] for d in left] == [4, 5, 6, 7, 8, 9]
    assert await collection.count_documents({"job_id": "j2"}) == 2
