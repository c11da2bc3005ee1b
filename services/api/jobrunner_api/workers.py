"""Worker presence as reported on the heartbeat topic, and the leases it renews or cuts.

Each event is one conditional update of the worker's document (applied only when it is newer
than what is stored: events of one worker may be consumed out of order by several API
processes), then one `update_many` of the leases of its jobs:
- connected / heartbeat: the attempts it reports running are renewed for LEASE_SECONDS;
- disconnected: its leases are cut to RECONNECT_GRACE_SECONDS, so that a worker whose
  connection closed (process killed, host gone) has its jobs run elsewhere within seconds,
  unless it reconnects and reports them first.
Renewals only lengthen a lease (`$max`), a cut only shortens it (`$min`), and a cut spares a
lease renewed by a later event, so that the order in which they land does not matter.
"""

from datetime import datetime, timedelta
from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from jobrunner_api.documents import ApiKey, Job, Worker
from jobrunner_api.feed import Feed
from jobrunner_shared.messages import WorkerEvent

# What the workers list shows of a worker: a change of any of these goes to the live feed.
VISIBLE = ("name", "labels", "capacity", "running_jobs", "connected", "draining", "version",
           "hostname")


class Presence:
    def __init__(self, feed: Feed, lease_seconds: float, reconnect_grace_seconds: float) -> None:
        self.feed = feed
        self.lease = timedelta(seconds=lease_seconds)
        self.grace = timedelta(seconds=reconnect_grace_seconds)

    async def apply(self, event: WorkerEvent) -> None:
        fields = self._fields(event)
        collection = Worker.get_pymongo_collection()
        try:
            # Events can arrive out of order: only a newer one is applied. The tenant in the
            # filter keeps a worker id in its tenant (another tenant's is a duplicate key).
            before = await collection.find_one_and_update(
                {"_id": event.worker_id, "tenant_id": event.tenant_id,
                 "last_heartbeat": {"$lte": event.at}},
                {"$set": fields},
                upsert=True, return_document=ReturnDocument.BEFORE,
            )
        except DuplicateKeyError:
            return  # a newer event of this worker is stored already: this one changes nothing
        if event.event == "connected" and event.api_key_id and PydanticObjectId.is_valid(
                event.api_key_id):
            await ApiKey.get_pymongo_collection().update_one(
                {"_id": PydanticObjectId(event.api_key_id)}, {"$set": {"last_used_at": event.at}}
            )
        await self._leases(event)
        after = {**(before or {}), **fields, "_id": event.worker_id, "tenant_id": event.tenant_id}
        if before is None or any(before.get(k) != after.get(k) for k in VISIBLE):
            self.feed.worker(Worker.model_validate(after))

    @staticmethod
    def _fields(event: WorkerEvent) -> dict[str, Any]:
        fields: dict[str, Any] = {"name": event.worker_name, "last_heartbeat": event.at}
        if event.event == "disconnected":
            fields.update(connected=False, running_jobs=[])
            return fields
        fields.update(
            connected=True, labels=event.labels, capacity=event.capacity, version=event.version,
            hostname=event.hostname, draining=event.draining,
            running_jobs=[ref.job_id for ref in event.running],
        )
        if event.api_key_id:
            fields["api_key_id"] = event.api_key_id
        if event.event == "connected":
            fields["connected_at"] = event.at
        return fields

    async def _leases(self, event: WorkerEvent) -> None:
        jobs = Job.get_pymongo_collection()
        if event.event == "disconnected":
            await jobs.update_many(
                {"lease.worker": event.worker_id, "lease.renewed_at": {"$lte": event.at}},
                {"$min": {"lease.expires_at": event.at + self.grace}},
            )
            return
        ids = [PydanticObjectId(ref.job_id) for ref in event.running
               if PydanticObjectId.is_valid(ref.job_id)]
        if ids:
            await jobs.update_many(
                {"_id": {"$in": ids}, "lease.worker": event.worker_id},
                {"$max": {"lease.expires_at": event.at + self.lease, "lease.renewed_at": event.at}},
            )

    async def drain(self, worker_id: str, tenant_id: str) -> Worker | None:
        doc = await Worker.get_pymongo_collection().find_one_and_update(
            {"_id": worker_id, "tenant_id": tenant_id}, {"$set": {"draining": True}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            return None
        worker = Worker.model_validate(doc)
        self.feed.worker(worker)
        return worker

    async def mark_silent_offline(self, now: datetime, offline_after: float) -> int:
        """Workers not heard from for OFFLINE_AFTER are offline: tell the live feed once."""
        cutoff = now - timedelta(seconds=offline_after)
        collection = Worker.get_pymongo_collection()
        silent = await collection.find(
            {"connected": True, "last_heartbeat": {"$lt": cutoff}}, {"_id": 1}
        ).limit(100).to_list()
        for doc in silent:
            after = await collection.find_one_and_update(
                {"_id": doc["_id"], "connected": True, "last_heartbeat": {"$lt": cutoff}},
                {"$set": {"connected": False, "running_jobs": []}},
                return_document=ReturnDocument.AFTER,
            )
            if after is not None:
                self.feed.worker(Worker.model_validate(after))
        return len(silent)
