"""Jobs in MongoDB: submit one, and apply a transition to one atomically, then what follows.

Every change of a job's state is one `find_one_and_update` filtered on the job's `version`
as it was read, so it lands only on the state it was decided on (transitions.py). Any number
of API processes, consumers and routes may apply changes to one job at once: no locks, no
ordering between them. A decision that lost a race is made again on the job as it is now.

Why a cache of the jobs this process last wrote: most events of a job follow one another in
one process, and deciding on the version it wrote saves a read per event. A cached job is only
ever trusted through that version filter: a change that lands proves it was current; one that
does not land, or a decision to change nothing, is made again on the job as stored.
"""

import asyncio
import logging
from collections import OrderedDict, defaultdict
from datetime import timedelta

from beanie import PydanticObjectId
from faststream.rabbit import RabbitBroker
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from jobrunner_api import secretstore, transitions
from jobrunner_api.dispatch import Dispatcher, Unrunnable
from jobrunner_api.documents import Job, JobView
from jobrunner_api.feed import Feed
from jobrunner_shared import amqp, names
from jobrunner_shared.messages import AttemptUnrunnable, JobSpec, utcnow

log = logging.getLogger(__name__)
# A job that changes under us this many times in a row (it cannot, short of a bug): requeue.
MAX_TRIES = 10
CACHED_JOBS = 10_000
# Confirmed publishes are marked in MongoDB in batches, this often at most (one write for many).
CONFIRM_FLUSH_SECONDS = 0.02


class InvalidSubmission(Exception):
    """A job that is valid in itself but cannot be accepted for its tenant (REST: 422)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Jobs:
    def __init__(self, broker: RabbitBroker, dispatcher: Dispatcher, feed: Feed,
                 timing: transitions.Timing) -> None:
        self.broker = broker
        self.dispatcher = dispatcher
        self.feed = feed
        self.timing = timing
        self._cache: OrderedDict[str, JobView] = OrderedDict()
        self._confirmed: dict[int, list[PydanticObjectId]] = defaultdict(list)
        self._confirm_flush: asyncio.Task[None] | None = None

    @staticmethod
    def collection():  # noqa: ANN205 - pymongo's AsyncCollection
        return Job.get_pymongo_collection()

    async def get(self, job_id: str, tenant_id: str | None = None) -> JobView | None:
        if not PydanticObjectId.is_valid(job_id):
            return None
        query: dict = {"_id": PydanticObjectId(job_id)}
        if tenant_id is not None:
            query["tenant_id"] = tenant_id
        doc = await self.collection().find_one(query)
        return None if doc is None else JobView.model_validate(doc)

    # --- submitting ---------------------------------------------------------------------------

    async def submit(self, spec: JobSpec, tenant_id: str,
                     rerun_of: str | None = None) -> tuple[JobView, bool]:
        """Store the job, then publish it. Returns (job, created); a repeated key returns the first.

        Raises InvalidSubmission for a secret the tenant does not have.
        """
        scope = f"{tenant_id}:{spec.idempotency_key}" if spec.idempotency_key else None
        if scope is not None:
            # Before the secrets: a repeat gets the first job even if a secret has gone since.
            first = await self._first_with(scope)
            if first is not None:
                return first, False
        sealed, unknown = await secretstore.sealed(tenant_id, spec.secrets)
        if unknown:
            raise InvalidSubmission(
                f"secrets: unknown secret {', '.join(unknown)} (set it first: "
                f"PUT /api/v1/secrets/{unknown[0]})"
            )
        now = utcnow()
        job = JobView(_id=PydanticObjectId(), tenant_id=tenant_id, rerun_of=rerun_of,
                      idempotency_scope=scope, created_at=now, updated_at=now,
                      # Why: stored as due before it is published, so that whatever dies before
                      # RabbitMQ's confirm, the sweeper publishes it: a job that got its 201 runs.
                      publish_due_at=now + timedelta(seconds=self.timing.publish_grace_seconds),
                      **spec.model_dump())
        try:
            # Without its empty fields: the sparse unique index on idempotency_scope holds only
            # the jobs that have one (a null would be a value, the same for every other job).
            await self.collection().insert_one(job.model_dump(by_alias=True, exclude_none=True))
        except DuplicateKeyError:
            # The same key in a submission racing this one: the unique index chose the first.
            first = await self._first_with(scope) if scope else None
            if first is None:
                raise
            return first, False
        self._remember(job)
        await self.publish(job, sealed=sealed)  # read just now: not again
        self.feed.job(job)
        return job, True

    async def _first_with(self, scope: str) -> JobView | None:
        doc = await self.collection().find_one({"idempotency_scope": scope})
        return None if doc is None else JobView.model_validate(doc)

    async def publish(self, job: JobView, sealed: dict[str, str] | None = None) -> bool:
        """Publish the job's current attempt; True once it is in RabbitMQ (or ended unrunnable).

        On False the job keeps its publish_due_at, and the sweeper publishes it later.
        """
        result = await self.dispatcher.publish(job, sealed=sealed)
        if isinstance(result, Unrunnable):
            event = AttemptUnrunnable(job_id=str(job.id), tenant_id=job.tenant_id,
                                      attempt=job.attempt, error=result.error)
            log.warning("job %s attempt %s cannot run: %s", job.id, job.attempt, result.error)
            await self.apply(str(job.id), lambda current: transitions.unrunnable(current, event))
            return True
        if result:
            self._mark_confirmed(job)
        return result

    def _mark_confirmed(self, job: JobView) -> None:
        """Unset publish_due_at (soon, with others): bookkeeping, not a change of state, so no
        new version. Only for this attempt: a retry queued meanwhile keeps its own."""
        self._confirmed[job.attempt].append(job.id)
        if self._confirm_flush is None or self._confirm_flush.done():
            self._confirm_flush = asyncio.get_running_loop().create_task(self._flush_confirmed())

    async def _flush_confirmed(self) -> None:
        await asyncio.sleep(CONFIRM_FLUSH_SECONDS)
        confirmed, self._confirmed = self._confirmed, defaultdict(list)
        for attempt, ids in confirmed.items():
            try:
                await self.collection().update_many(
                    {"_id": {"$in": ids}, "attempt": attempt}, {"$unset": {"publish_due_at": ""}})
            except Exception as exc:  # noqa: BLE001 - the sweeper publishes them once more
                # Why harmless: a second copy of an attempt is dropped by the master.
                log.warning("could not mark %d published attempts: %r", len(ids), exc)

    async def close(self) -> None:
        if self._confirm_flush is not None:
            await asyncio.wait({self._confirm_flush}, timeout=5)

    def _remember(self, job: JobView) -> None:
        key = str(job.id)
        self._cache[key] = job
        self._cache.move_to_end(key)
        if len(self._cache) > CACHED_JOBS:
            self._cache.popitem(last=False)

    # --- changing state -------------------------------------------------------------------------

    async def apply(self, job_id: str, decide: transitions.Decide, tenant_id: str | None = None,
                    *, fresh: bool = False) -> JobView | None:
        """Decide on the job and write the decision to that version of it, then do what
        follows (stop stale copies, publish a new attempt, tell the live feed).

        `fresh`: decide on the job as stored, never on this process's last copy of it (for
        decisions on fields that change without a new version, like a lease's deadline).
        Returns the job as it is afterwards; None when there is no such job (of that tenant).
        """
        job = None if fresh else self._cache.get(job_id)
        cached = job is not None
        for _ in range(MAX_TRIES):
            if job is None:
                job, cached = await self.get(job_id, tenant_id), False
                if job is None:
                    return None
            if tenant_id is not None and job.tenant_id != tenant_id:
                return None
            decision = decide(job)
            if decision.update is None and cached:
                job = None  # only the stored job says there is nothing to change
                continue
            if decision.update is not None:
                doc = await self.collection().find_one_and_update(
                    {"_id": job.id, "version": job.version}, decision.update,
                    return_document=ReturnDocument.AFTER,
                )
                if doc is None:
                    job = None  # changed since: decide again on what it is now
                    continue
                job = JobView.model_validate(doc)
                self._remember(job)
            await self._follow_up(job, decision)
            return job
        raise amqp.TransientError(f"job {job_id} kept changing while a change was applied")

    async def _follow_up(self, job: JobView, decision: transitions.Decision) -> None:
        for cancel in decision.cancel:
            await amqp.publish_control(self.broker, cancel, names.CONTROL_CANCEL_KEY)
        if decision.publish:
            log.info("job %s: attempt %s queued", job.id, job.attempt)
            await self.publish(job)
        if decision.update is not None:
            self.feed.job(job)
