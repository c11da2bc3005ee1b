"""What nobody will report: leases run out, timeouts overrun, retries whose backoff ended,
publishes never confirmed; and finished jobs, audit entries and login counts past their time.

Runs in every API process. Each look reads only what is due, by an index, at most BATCH at a
time, and applies the transition itself: it is an atomic conditional update, so two API
processes sweeping the same job at once change it once.
"""

import asyncio
import logging
import random
from datetime import datetime, timedelta

from jobrunner_api import transitions
from jobrunner_api.documents import AuditEntry, Job, LogChunk
from jobrunner_api.login_throttle import LoginThrottle
from jobrunner_api.platform import Platform
from jobrunner_api.scheduler import Scheduler
from jobrunner_shared.messages import utcnow

log = logging.getLogger(__name__)
BATCH = 100


class Sweeper:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.settings = platform.settings
        self.jobs = platform.jobs
        self.scheduler = Scheduler(platform.jobs, self.settings.schedule_misfire_grace_seconds)
        self.misses = 0

    async def run(self) -> None:
        interval = self.settings.sweep_interval_seconds
        while True:
            try:
                await self.sweep()
                self.misses = 0
                delay = interval
            except Exception:  # noqa: BLE001 - a broken sweep must not end the sweeping
                self.misses += 1
                log.exception("sweep failed (%d in a row)", self.misses)
                # Why: back off while MongoDB or RabbitMQ is away, with jitter across replicas.
                delay = min(60.0, interval * 2**self.misses)
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))

    async def sweep(self, now: datetime | None = None) -> None:
        now = now or utcnow()
        await self.expire_leases(now)
        await self.end_overrun(now)
        await self.publish_due(now)
        await self.platform.presence.mark_silent_offline(
            now, self.settings.worker_offline_after_seconds)
        await self.delete_expired(now)
        await self.delete_old_audit(now)
        await LoginThrottle.delete_expired(now)
        await self.scheduler.fire_due(now)  # schedules whose fire time came

    async def _due(self, field: str, now: datetime) -> list[str]:
        docs = await Job.get_pymongo_collection().find(
            {field: {"$lte": now}}, {"_id": 1}
        ).sort(field, 1).limit(BATCH).to_list()
        return [str(doc["_id"]) for doc in docs]

    async def expire_leases(self, now: datetime) -> None:
        """Attempts whose worker went away: silent for a lease, or disconnected past the grace."""
        timing = self.jobs.timing
        for job_id in await self._due("lease.expires_at", now):
            job = await self.jobs.apply(
                job_id, lambda j: transitions.lease_expired(j, now, timing), fresh=True)
            if job is not None:
                log.warning("job %s: its worker went away; attempt %s %s", job_id, job.attempt,
                            job.status)

    async def end_overrun(self, now: datetime) -> None:
        """Attempts past their timeout (plus TIMEOUT_GRACE_SECONDS) whose worker did not end them."""
        timing = self.jobs.timing
        for job_id in await self._due("timeout_at", now):
            await self.jobs.apply(job_id, lambda j: transitions.timed_out(j, now, timing),
                                  fresh=True)

    async def publish_due(self, now: datetime) -> None:
        """Attempts due to be published: retries whose backoff ended, and attempts queued but
        not confirmed by RabbitMQ in time (published again)."""
        for job_id in await self._due("publish_due_at", now):
            job = await self.jobs.get(job_id)
            if job is None or job.publish_due_at is None:
                continue  # published since the look
            if job.current.not_before is None or job.current.not_before < job.publish_due_at:
                log.warning("publishing job %s attempt %s again: never confirmed", job_id,
                            job.attempt)
            # A copy: its first publish may have reached RabbitMQ unconfirmed, so the master
            # reads the job before offering this one (a retry's first publish is read too).
            await self.jobs.publish(job, copy=True)

    async def delete_expired(self, now: datetime) -> int:
        """Finished jobs older than JOB_RETENTION_DAYS, with their log chunks (SPEC §6.10):
        at most RETENTION_BATCH per sweep, by the index on finished_at. Nothing else is ever
        deleted by the platform on its own.

        The chunks go first: a sweep stopped in between leaves jobs without their logs, deleted
        by the next one, never logs without their job.
        """
        cutoff = now - timedelta(days=self.settings.job_retention_days)
        jobs = Job.get_pymongo_collection()
        expired = [doc["_id"] for doc in await jobs.find(
            {"finished_at": {"$lt": cutoff}}, {"_id": 1}
        ).sort("finished_at", 1).limit(self.settings.retention_batch).to_list()]
        if not expired:
            return 0
        await LogChunk.get_pymongo_collection().delete_many(
            {"job_id": {"$in": [str(job_id) for job_id in expired]}})
        result = await jobs.delete_many({"_id": {"$in": expired}, "finished_at": {"$lt": cutoff}})
        log.info("retention: deleted %d jobs finished before %s, with their logs",
                 result.deleted_count, cutoff.isoformat(timespec="seconds"))
        return result.deleted_count

    async def delete_old_audit(self, now: datetime) -> int:
        """Audit entries are kept as long as jobs (JOB_RETENTION_DAYS), RETENTION_BATCH a sweep."""
        cutoff = now - timedelta(days=self.settings.job_retention_days)
        entries = AuditEntry.get_pymongo_collection()
        old = [doc["_id"] for doc in await entries.find(
            {"at": {"$lt": cutoff}}, {"_id": 1}
        ).sort("at", 1).limit(self.settings.retention_batch).to_list()]
        if not old:
            return 0
        result = await entries.delete_many({"_id": {"$in": old}})
        return result.deleted_count
