"""Worker presence as reported on the heartbeat topic."""

from datetime import datetime, timedelta

from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from jobrunner_api.documents import ApiKey, Worker
from jobrunner_api.locks import job_lock
from jobrunner_shared.messages import WorkerEvent, utcnow


async def apply_event(event: WorkerEvent) -> None:
    """Record what the event says, unless a newer event about the worker is already stored."""
    fields: dict = {"name": event.worker_name, "last_heartbeat": event.at}
    if event.event == "disconnected":
        fields["connected"] = False
    else:
        fields.update(
            connected=True,
            labels=event.labels,
            capacity=event.capacity,
            version=event.version,
            hostname=event.hostname,
            draining=event.draining,
            running_jobs=[ref.job_id for ref in event.running],
        )
        if event.api_key_id:
            fields["api_key_id"] = event.api_key_id
        if event.event == "connected":
            fields["connected_at"] = event.at
            if event.api_key_id and ObjectId.is_valid(event.api_key_id):
                await ApiKey.get_pymongo_collection().update_one(
                    {"_id": ObjectId(event.api_key_id)}, {"$set": {"last_used_at": event.at}}
                )
    collection = Worker.get_pymongo_collection()
    # Why the lock: a heartbeat and a disconnect handled at once must not interleave (the
    # filter below is atomic on MongoDB, not on FerretDB v1).
    async with job_lock(f"worker:{event.worker_id}"):
        # Events can arrive out of order; the tenant in the filter keeps a worker in its tenant.
        result = await collection.update_one(
            {"_id": event.worker_id, "tenant_id": event.tenant_id,
             "last_heartbeat": {"$lte": event.at}},
            {"$set": fields},
        )
        if result.matched_count:
            return
        worker = Worker(id=event.worker_id, tenant_id=event.tenant_id, **fields)
        try:
            await worker.insert()
        except DuplicateKeyError:
            pass  # it exists with a newer event (or under another tenant): nothing to do


def status(worker: Worker, offline_after: float, now: datetime | None = None) -> str:
    """online, draining or offline; a worker silent for too long counts as offline."""
    now = now or utcnow()
    fresh = worker.last_heartbeat is not None and (
        now - worker.last_heartbeat < timedelta(seconds=offline_after)
    )
    if not worker.connected or not fresh:
        return "offline"
    return "draining" if worker.draining else "online"
