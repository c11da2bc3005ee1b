"""What nobody will report: expired leases, overrun timeouts, publishes never confirmed.

Runs in every API process. It changes no job itself: it publishes `AttemptExpired` on the
job-events queue (whose single consumer applies it, once) or publishes an attempt again, so two
API processes sweeping at once do no harm.
"""

import asyncio
import logging
import random
from datetime import datetime, timedelta

from beanie import PydanticObjectId

from jobrunner_api.documents import Job, OutboxEntry, Worker
from jobrunner_api.jobs import WORKER_LOST
from jobrunner_api.platform import Platform
from jobrunner_shared import amqp, names
from jobrunner_shared.messages import AttemptExpired, JobStatus, utcnow

log = logging.getLogger(__name__)


class Sweeper:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.settings = platform.settings
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
        await self.expire_attempts(now)
        await self.republish_unconfirmed(now)
        await self.forget_old_workers(now)

    async def expire_attempts(self, now: datetime) -> None:
        workers = {w.id: w async for w in Worker.find_all()}
        active = Job.find({"status": {"$in": [JobStatus.queued.value, JobStatus.running.value]}})
        async for job in active:
            if job.current.worker is None:
                continue  # not handed to any worker yet: it waits in RabbitMQ
            reason = self.expiry(job, workers.get(job.current.worker), now)
            if reason is not None:
                await amqp.publish_event(
                    self.platform.broker,
                    AttemptExpired(job_id=str(job.id), tenant_id=job.tenant_id,
                                   attempt=job.attempt, reason=reason),
                    amqp.JOBS,
                    names.JOB_EXPIRED_KEY,
                )

    def expiry(self, job: Job, worker: Worker | None, now: datetime) -> str | None:
        """Why the platform must give up on the job's current attempt, if it must."""
        attempt = job.current
        lease = timedelta(seconds=self.settings.lease_seconds)
        beat = worker.last_heartbeat if worker else None
        heard = max(t for t in (attempt.assigned_at, attempt.started_at, beat) if t is not None)
        if now - heard > lease:
            return WORKER_LOST  # its worker has been silent for longer than the lease
        taken = attempt.assigned_at or attempt.started_at
        if (beat is not None and taken is not None and beat - taken > lease
                and str(job.id) not in worker.running_jobs):
            return WORKER_LOST  # its worker beats, but has not run it for a whole lease
        grace = timedelta(seconds=self.settings.timeout_grace_seconds)
        if (job.timeout_seconds and attempt.started_at is not None
                and now - attempt.started_at > timedelta(seconds=job.timeout_seconds) + grace):
            return "timeout"  # its worker did not end it in time: the platform does
        return None

    async def republish_unconfirmed(self, now: datetime) -> None:
        cutoff = now - timedelta(seconds=self.settings.outbox_grace_seconds)
        async for entry in OutboxEntry.find(OutboxEntry.created_at < cutoff):
            job = await Job.get(PydanticObjectId(entry.job_id))
            if job is None or job.attempt != entry.attempt or job.status != JobStatus.queued:
                await entry.delete()  # never stored, or superseded: nothing to publish
                continue
            log.warning("publishing job %s attempt %s again: never confirmed", job.id,
                        job.attempt)
            await self.platform.dispatcher.publish(job)

    async def forget_old_workers(self, now: datetime) -> None:
        """Each worker process has an id of its own: old, gone ones would pile up in the list."""
        cutoff = now - timedelta(seconds=self.settings.worker_forget_after_seconds)
        await Worker.find(Worker.last_heartbeat < cutoff).delete()
