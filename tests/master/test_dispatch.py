"""dispatch.Assigner: whether a delivered attempt still runs, read for many deliveries at once."""

import asyncio
import uuid

import pytest
from bson import ObjectId
from pymongo.asynchronous.database import AsyncDatabase

from jobrunner_master.dispatch import Assigner
from jobrunner_shared import names
from jobrunner_shared.messages import JobAssignment
from jobrunner_shared.secretbox import DEV_KEY, SecretBox

pytestmark = pytest.mark.integration


def assignment(job_id: str, tenant_id: str = "t1", attempt: int = 1) -> JobAssignment:
    return JobAssignment(job_id=job_id, tenant_id=tenant_id, attempt=attempt, command="true",
                         max_log_bytes=1024)


def assigner(db: AsyncDatabase) -> Assigner:
    async def unused(*_: object, **__: object) -> None:
        raise AssertionError("not called here")

    return Assigner(db, SecretBox(DEV_KEY), 1.0, unused, unused)


async def test_each_delivery_read_together_gets_its_own_answer(pymongo_db: AsyncDatabase
                                                               ) -> None:
    # Given jobs in every state a delivery can meet, under a collection of this test's own
    jobs = pymongo_db[names.JOBS_COLLECTION]
    ids = {name: ObjectId() for name in ("queued", "retry", "taken", "cancelled", "other")}
    await jobs.insert_many([
        {"_id": ids["queued"], "tenant_id": "t1", "status": "queued", "attempt": 1,
         "attempts": [{"n": 1}]},
        {"_id": ids["retry"], "tenant_id": "t1", "status": "queued", "attempt": 2,
         "attempts": [{"n": 1, "worker": "w1"}, {"n": 2}]},
        {"_id": ids["taken"], "tenant_id": "t1", "status": "queued", "attempt": 1,
         "attempts": [{"n": 1, "worker": "w1"}]},
        {"_id": ids["cancelled"], "tenant_id": "t1", "status": "cancelled", "attempt": 1,
         "attempts": [{"n": 1}]},
        {"_id": ids["other"], "tenant_id": "t2", "status": "queued", "attempt": 1,
         "attempts": [{"n": 1}]},
    ])
    deliveries = {
        "queued": assignment(str(ids["queued"])),
        "queued, again": assignment(str(ids["queued"])),  # the same job twice in one read
        "retry": assignment(str(ids["retry"]), attempt=2),
        "stale attempt": assignment(str(ids["retry"]), attempt=1),
        "taken": assignment(str(ids["taken"])),
        "cancelled": assignment(str(ids["cancelled"])),
        "another tenant's": assignment(str(ids["other"])),
        "unknown": assignment(str(ObjectId())),
        "not an id": assignment(uuid.uuid4().hex),
    }
    checker = assigner(pymongo_db)
    # When all of them are delivered at once
    answers = await asyncio.gather(*(checker.still_wanted(job) for job in deliveries.values()))
    # Then only the attempts still waiting run; the rest are dropped
    assert dict(zip(deliveries, answers, strict=True)) == {
        "queued": True, "queued, again": True, "retry": True, "stale attempt": False,
        "taken": False, "cancelled": False, "another tenant's": False, "unknown": False,
        "not an id": False,
    }
    await jobs.delete_many({"_id": {"$in": list(ids.values())}})
