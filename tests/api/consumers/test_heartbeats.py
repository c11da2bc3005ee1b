"""The heartbeat consumer: presence, in the order the events happened, and leases."""

import uuid
from datetime import timedelta

import pytest

from jobrunner_api.consumers import heartbeats
from jobrunner_api.documents import Job, Worker
from jobrunner_shared import amqp, names
from jobrunner_shared.messages import WorkerEvent, WorkerEventBatch, utcnow
from tests.api.consumers.conftest import eventually, ms, read_job, stored_job

pytestmark = pytest.mark.integration


def event(kind: str, worker_id: str, tenant_id: str, at, running=()) -> WorkerEvent:
    return WorkerEvent(event=kind, tenant_id=tenant_id, worker_id=worker_id, worker_name="w",
                       capacity=2, at=at,
                       running=[{"job_id": str(j), "attempt": 1} for j in running])


async def held_by(worker_id: str, at) -> object:
    """A running job whose lease the worker holds, renewed at `at`."""
    job = await stored_job(status="running")
    await Job.get_pymongo_collection().update_one({"_id": job.id}, {"$set": {"lease": {
        "worker": worker_id, "expires_at": at + timedelta(seconds=20), "renewed_at": at}}})
    return job


async def test_heartbeats_renew_the_leases_of_what_the_worker_runs(consumer) -> None:
    broker, _, _ = await consumer(heartbeats)
    t0 = ms(utcnow())
    listed, forgotten = await held_by("w-renew", t0), await held_by("w-renew", t0)
    later = t0 + timedelta(seconds=4)
    # When the worker beats listing only one of its two jobs
    await broker.publish(event("heartbeat", "w-renew", listed.tenant_id, later, [listed.id]),
                         exchange=amqp.HEARTBEATS, routing_key=names.HEARTBEAT_KEY, persist=True)
    # Then that one's lease runs from the beat; the other's does not (it expires with its lease)
    renewed = await eventually(lambda: _lease_from(listed, later))
    assert renewed.lease.expires_at == later + timedelta(seconds=20)
    assert (await read_job(forgotten.id)).lease.renewed_at == t0


async def test_a_closed_connection_cuts_the_leases_to_the_reconnect_grace(consumer) -> None:
    broker, _, _ = await consumer(heartbeats)
    t0 = ms(utcnow())
    job = await held_by("w-gone", t0)
    gone = t0 + timedelta(seconds=1)
    await broker.publish(event("disconnected", "w-gone", job.tenant_id, gone),
                         exchange=amqp.HEARTBEATS, routing_key=names.WORKER_DISCONNECTED_KEY,
                         persist=True)
    cut = await eventually(lambda: _lease_before(job, t0 + timedelta(seconds=20)))
    assert cut.lease.expires_at == gone + timedelta(seconds=5)
    worker = await Worker.get("w-gone")
    assert worker is not None and not worker.connected and worker.running_jobs == []


async def test_an_event_older_than_the_stored_one_changes_nothing(consumer) -> None:
    broker, _, seen = await consumer(heartbeats)
    t0 = ms(utcnow())
    tenant, worker_id = "tenant-order", f"w-order-{uuid.uuid4().hex[:6]}"
    newer = event("heartbeat", worker_id, tenant, t0 + timedelta(seconds=5))
    await broker.publish(newer, exchange=amqp.HEARTBEATS, routing_key=names.HEARTBEAT_KEY,
                         persist=True)
    await eventually(lambda: Worker.get(worker_id))
    # When a disconnect that happened before that beat is consumed after it
    older = event("disconnected", worker_id, tenant, t0)
    await broker.publish(older, exchange=amqp.HEARTBEATS,
                         routing_key=names.WORKER_DISCONNECTED_KEY, persist=True)
    await seen.wait("changes")
    # Then the worker is still shown connected, as of the newer beat
    worker = await Worker.get(worker_id)
    assert worker.connected and worker.last_heartbeat == newer.at


async def test_a_batch_applies_each_workers_events_in_order(consumer) -> None:
    broker, _, _ = await consumer(heartbeats)
    t0 = ms(utcnow())
    tenant = "tenant-batch"
    new, known = f"w-new-{uuid.uuid4().hex[:6]}", f"w-known-{uuid.uuid4().hex[:6]}"
    job = await held_by(known, t0)
    # When one message brings a new worker's connect and beat, and another worker's beat
    batch = WorkerEventBatch(events=[
        event("connected", new, tenant, t0 + timedelta(seconds=1)),
        event("heartbeat", known, job.tenant_id, t0 + timedelta(seconds=2), [job.id]),
        event("heartbeat", new, tenant, t0 + timedelta(seconds=3)),
    ])
    await broker.publish(batch, exchange=amqp.HEARTBEATS, routing_key=names.HEARTBEAT_BATCH_KEY,
                         persist=True)
    # Then each is applied: the new worker as of its beat, the other's job lease renewed
    stored = await eventually(lambda: _beat_at(new, t0 + timedelta(seconds=3)))
    assert stored.connected and stored.connected_at == t0 + timedelta(seconds=1)
    renewed = await eventually(lambda: _lease_from(job, t0 + timedelta(seconds=2)))
    assert renewed.lease.expires_at == t0 + timedelta(seconds=22)


async def _beat_at(worker_id, at):
    worker = await Worker.get(worker_id)
    return worker if worker is not None and worker.last_heartbeat == at else None


async def _lease_from(job, at):
    current = await read_job(job.id)
    return current if current.lease and current.lease.renewed_at >= at else None


async def _lease_before(job, deadline):
    current = await read_job(job.id)
    return current if current.lease and current.lease.expires_at < deadline else None
