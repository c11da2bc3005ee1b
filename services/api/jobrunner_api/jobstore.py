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
import contextlib
import logging
import uuid
from collections import OrderedDict, defaultdict
from datetime import datetime, timedelta

from beanie import PydanticObjectId
from faststream.rabbit import RabbitBroker
from pymongo import ReturnDocument, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure

from jobrunner_api import metrics, secretstore, transitions
from jobrunner_api.dispatch import Dispatcher, Unrunnable
from jobrunner_api.documents import Job, JobView
from jobrunner_api.feed import Feed
from jobrunner_api.updates import apply_update
from jobrunner_api.updates import merge as updates_merge
from jobrunner_shared import amqp, dberrors, names
from jobrunner_shared.batching import GroupCommit
from jobrunner_shared.messages import AttemptUnrunnable, JobSpec, utcnow

log = logging.getLogger(__name__)
# A job that changes under us this many times in a row (it cannot, short of a bug): requeue.
MAX_TRIES = 10
CACHED_JOBS = 10_000
# Confirmed publishes are marked in MongoDB in batches, this share of publish_grace_seconds
# after the first of them was confirmed (one write for many). Why wait: an attempt's start
# unsets the mark in the write that records it, so those this process saw start within it need
# no write at all; and the later the flush, the more of a backlog has started by then (each
# mark left to write cost the stand-in database ~0.3 ms, a tenth of a short job's CPU in all).
# Why half: the other half is the margin before the sweeper would publish an unmarked attempt
# again (5 s with the default OUTBOX_GRACE_SECONDS).
CONFIRM_FLUSH_SHARE = 0.5


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
        # Jobs submitted at once are inserted with one insert_many (group commit).
        self._inserts: GroupCommit[dict] = GroupCommit(self._insert_many)
        self._confirmed: dict[int, list[PydanticObjectId]] = defaultdict(list)
        self._confirm_flush: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()

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

    async def submit(self, spec: JobSpec, tenant_id: str, rerun_of: str | None = None,
                     schedule_id: str | None = None) -> tuple[JobView, bool]:
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
                      schedule_id=schedule_id, idempotency_scope=scope,
                      created_at=now, updated_at=now,
                      # Why: stored as due before it is published, so that whatever dies before
                      # RabbitMQ's confirm, the sweeper publishes it: a job that got its 201 runs.
                      publish_due_at=now + timedelta(seconds=self.timing.publish_grace_seconds),
                      **spec.model_dump())
        try:
            # Without its empty fields: the sparse unique index on idempotency_scope holds only
            # the jobs that have one (a null would be a value, the same for every other job).
            await self._inserts.submit(job.model_dump(by_alias=True, exclude_none=True))
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

    async def _insert_many(self, docs: list[dict]) -> list[BaseException | None]:
        """One round trip for the jobs of concurrent submissions; each gets its own outcome
        (a duplicate idempotency key is the one submission's, not the others')."""
        outcomes: list[BaseException | None] = [None] * len(docs)
        try:
            await self.collection().insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            for error in exc.details.get("writeErrors", []):
                duplicate = error.get("code") == dberrors.DUPLICATE_KEY
                outcomes[error["index"]] = (DuplicateKeyError(error.get("errmsg", "duplicate key"))
                                            if duplicate else OperationFailure(
                                                error.get("errmsg", "insert failed"),
                                                error.get("code")))
        return outcomes

    async def _first_with(self, scope: str) -> JobView | None:
        doc = await self.collection().find_one({"idempotency_scope": scope})
        return None if doc is None else JobView.model_validate(doc)

    async def publish(self, job: JobView, sealed: dict[str, str] | None = None,
                      copy: bool = False) -> bool:
        """Publish the job's current attempt; True once it is in RabbitMQ (or ended unrunnable).

        On False the job keeps its publish_due_at, and the sweeper publishes it later, as a
        `copy` (Dispatcher.publish).
        """
        result = await self.dispatcher.publish(job, sealed=sealed, copy=copy)
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
        # close() ends the wait: a stopping process writes its marks rather than let the sweeper
        # publish those attempts again, and it does not keep its shutdown waiting.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(),
                                   self.timing.publish_grace_seconds * CONFIRM_FLUSH_SHARE)
        confirmed, self._confirmed = self._confirmed, defaultdict(list)
        for attempt, all_ids in confirmed.items():
            ids = [job_id for job_id in all_ids if self._still_due(str(job_id), attempt)]
            if not ids:
                continue
            try:
                await self.collection().update_many(
                    {"_id": {"$in": ids}, "attempt": attempt}, {"$unset": {"publish_due_at": ""}})
            except Exception as exc:  # noqa: BLE001 - the sweeper publishes them once more
                # Why harmless: a second copy of an attempt is dropped by the master.
                log.warning("could not mark %d published attempts: %r", len(ids), exc)

    def _still_due(self, job_id: str, attempt: int) -> bool:
        """Whether the attempt may still carry its publish_due_at, as far as this process knows
        (a change it wrote since, like the attempt's start, unset it)."""
        job = self._cache.get(job_id)
        return job is None or (job.attempt == attempt and job.publish_due_at is not None)

    async def close(self) -> None:
        """Write the marks still waiting (at most 5 s: the sweeper covers what is not)."""
        self._closing.set()
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
                    {"_id": job.id, "version": job.version}, stamped(decision.update),
                    return_document=ReturnDocument.AFTER,
                )
                if doc is None:
                    job = None  # changed since: decide again on what it is now
                    continue
                before, job = job, JobView.model_validate(doc)
                metrics.observe_change(before, job)
                self._remember(job)
            await self._follow_up(job, decision)
            return job
        raise amqp.TransientError(f"job {job_id} kept changing while a change was applied")

    async def apply_many(self, changes: list[tuple[str, str | None, transitions.Decide]]
                         ) -> dict[str, JobView]:
        """Apply several jobs' transitions (job id, tenant, decide), each job's in order: one
        read of the jobs this process has no copy of, and one `bulk_write` for all of them.

        Returns the jobs as they are afterwards, by id. Why: under load a batch of events from
        the master holds many jobs' starts and ends;
        written one by one each costs a round trip to MongoDB. A job whose decisions cannot be
        written together (it changed meanwhile, it is not in this process's cache and a
        decision changed nothing, or MongoDB would refuse the merged update) goes through
        `apply`, one change at a time, and decides again: no change is applied twice.
        """
        by_job: dict[str, list[tuple[str | None, transitions.Decide]]] = {}
        for job_id, tenant_id, decide in changes:
            by_job.setdefault(job_id, []).append((tenant_id, decide))
        states = {job_id: self._cache[job_id] for job_id in by_job if job_id in self._cache}
        cached = set(states)
        missing = [PydanticObjectId(j) for j in by_job
                   if j not in states and PydanticObjectId.is_valid(j)]
        if missing:
            async for doc in self.collection().find({"_id": {"$in": missing}}):
                states[str(doc["_id"])] = JobView.model_validate(doc)
        one_by_one: list[str] = []
        plans: dict[str, tuple[JobView, JobView, dict, list[transitions.Decision]]] = {}
        now = utcnow()
        for job_id, entries in by_job.items():
            job = states.get(job_id)
            if job is None:
                continue  # no such job: as `apply` answers None
            state, updates, decisions = job, [], []
            for tenant_id, decide in entries:
                if tenant_id is not None and job.tenant_id != tenant_id:
                    continue
                decision = decide(state)
                if decision.update is None and job_id in cached:
                    break  # only the stored job says there is nothing to change
                decisions.append(decision)
                if decision.update is not None:
                    updates.append(decision.update)
                    state = JobView.model_validate(apply_update(
                        state.model_dump(by_alias=True), stamped(decision.update, now)))
            else:
                merged = updates_merge(updates) if updates else None
                if updates and merged is None:
                    one_by_one.append(job_id)
                elif merged is not None:
                    plans[job_id] = (job, state, stamped(merged, now), decisions)
                else:
                    for decision in decisions:  # nothing to write: stale or repeated reports
                        await self._follow_up(job, decision)
                continue
            one_by_one.append(job_id)
        if plans:
            # Each write carries a token: should some not land (the job changed since it was
            # read), the tokens tell which did. The version alone cannot: a rival write from
            # the same version makes the same next version.
            token = uuid.uuid4().hex
            result = await self.collection().bulk_write(
                [UpdateOne({"_id": job.id, "version": job.version},
                           {**update, "$set": {**update["$set"], "write_token": token}})
                 for job, _, update, _ in plans.values()], ordered=False)
            if result.matched_count != len(plans):
                landed = {str(doc["_id"]) async for doc in self.collection().find(
                    {"_id": {"$in": [job.id for job, _, _, _ in plans.values()]},
                     "write_token": token}, {"_id": 1})}
                for job_id in list(plans):
                    if job_id not in landed:
                        del plans[job_id]  # another process changed it first
                        one_by_one.append(job_id)
            for job_id, (before, after, _, decisions) in plans.items():
                metrics.observe_change(before, after)
                self._remember(after)
                for decision in decisions:
                    await self._follow_up(after, decision, feed=False)
                self.feed.job(after)
        done = {job_id: after for job_id, (_, after, _, _) in plans.items()}
        for job_id in one_by_one:
            for tenant_id, decide in by_job[job_id]:
                if (job := await self.apply(job_id, decide, tenant_id)) is not None:
                    done[job_id] = job
        return done

    async def _follow_up(self, job: JobView, decision: transitions.Decision,
                         feed: bool = True) -> None:
        for cancel in decision.cancel:
            await amqp.publish_control(self.broker, cancel, names.CONTROL_CANCEL_KEY)
        if decision.publish:
            log.info("job %s: attempt %s queued", job.id, job.attempt)
            await self.publish(job)
        if feed and decision.update is not None:
            self.feed.job(job)


def stamped(update: dict, now: datetime | None = None) -> dict:
    """The update with the job's `updated_at` set: the time this process applies it."""
    return {**update, "$set": {**update.get("$set", {}), "updated_at": now or utcnow()}}
