"""Several API processes sweeping one MongoDB: each fire time of each schedule makes exactly one
job (SPEC §3, §6.9), however many processes find it due at once.
"""

import time
from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId
from pymongo import MongoClient

from tests.support.platform import BIN, Tenant
from tests.support.ports import free_port
from tests.support.process import ManagedProcess

pytestmark = pytest.mark.e2e
SCHEDULES = 12
ROUNDS = 4


def api_process(name: str, env: dict[str, str]) -> ManagedProcess:
    port = free_port()
    return ManagedProcess(name, [str(BIN / "jobrunner-api")], env={**env, "PORT": str(port)},
                          ready_url=f"http://127.0.0.1:{port}/readyz", ready_timeout=60).start()


def fire_key(schedule_id: str, fire: datetime) -> str:
    return f"schedule:{schedule_id}:{fire.isoformat(timespec='seconds')}"


def test_three_api_processes_make_one_job_per_fire_time(
    platform, tenant: Tenant, mongodb_url: str, mongodb_db_name: str
) -> None:
    # Given two more API processes beside the session's, sweeping 20 times a second, so that
    # they often find the same fire times due together
    env = {**platform.env, "SWEEP_INTERVAL_SECONDS": "0.05"}
    apis = [api_process(f"api-sched-{n}", env) for n in (1, 2)]
    try:
        # And schedules that would not fire by themselves before next January
        with tenant.client() as admin:
            ids = []
            for n in range(SCHEDULES):
                answer = admin.post("/schedules", json={
                    "name": f"race-{n}", "cron": "0 0 1 1 *", "job": {"command": f"echo {n}"}})
                assert answer.status_code == 201, answer.text
                ids.append(answer.json()["id"])
        oids = [ObjectId(i) for i in ids]
        base = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=ROUNDS)
        fires = [base + timedelta(minutes=r) for r in range(ROUNDS)]
        with MongoClient(mongodb_url, serverSelectionTimeoutMS=10_000, tz_aware=True) as mongo:
            db = mongo[mongodb_db_name]
            # When, round after round, every schedule's fire time comes at once
            for fire in fires:
                db.schedules.update_many({"_id": {"$in": oids}}, {"$set": {"next_run_at": fire}})
                deadline = time.monotonic() + 20
                while db.schedules.count_documents(
                        {"_id": {"$in": oids}, "next_run_at": {"$lte": fire}}):
                    assert time.monotonic() < deadline, "schedules were not advanced in time"
                    time.sleep(0.05)
            # Then each schedule made one job per fire time: keyed by it, none twice
            for schedule_id in ids:
                jobs = list(db.jobs.find({"schedule_id": schedule_id}))
                keys = sorted(job["idempotency_key"] for job in jobs)
                assert keys == [fire_key(schedule_id, fire) for fire in fires], schedule_id
                stored = db.schedules.find_one({"_id": ObjectId(schedule_id)})
                assert stored["last_job_id"] in {str(job["_id"]) for job in jobs}
                assert stored["next_run_at"].year == datetime.now(UTC).year + 1
        # And the history over REST, from any process, says the same
        with tenant.client() as admin:
            for schedule_id in ids:
                history = admin.get(f"/schedules/{schedule_id}/jobs").json()["items"]
                assert len(history) == ROUNDS
                assert {job["schedule_id"] for job in history} == {schedule_id}
    finally:
        for api in apis:
            api.stop()
