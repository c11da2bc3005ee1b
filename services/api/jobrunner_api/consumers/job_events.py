"""The job-events topic: what masters (and older APIs) report about attempts -> job state."""

import asyncio
import logging
from collections import Counter

from faststream.rabbit import RabbitRouter

from jobrunner_api import logs, metrics, transitions
from jobrunner_api.documents import JobView
from jobrunner_api.platform import Platform
from jobrunner_shared import amqp, dberrors, names
from jobrunner_shared.batching import GroupCommit
from jobrunner_shared.messages import (
    AttemptExpired,
    AttemptUnrunnable,
    CancelRequested,
    JobAssignedEvent,
    JobEvent,
    JobEventBatch,
    JobEventMessage,
    JobFinishedEvent,
    JobRanEvent,
    JobStartedEvent,
    LogBatchEvent,
)

log = logging.getLogger(__name__)
# Messages applied together at most (each may be a batch of events itself).
MESSAGES_PER_WRITE = 32
# While messages come close together, how long they wait for others to be applied with
# (batching.py). Why: under a steady load the master's messages come one at a time, each just
# after the last write; applied alone, each cost a chunk insert and an update (~0.2 ms of this
# process's CPU per pymongo operation, whatever its size). Gathered, the API's CPU per job fell
# by a tenth in `make bench`; the job's state is applied at most this much later (its times are
# the events'). A message that comes alone (one job at a time) is applied at once.
GATHER_SECONDS = 0.02
# The events that record a worker taking an attempt (the dispatch latency metric).
DISPATCHING = (JobAssignedEvent, JobStartedEvent, JobRanEvent)


def decider(event: JobEvent, timing: transitions.Timing,
            stored: Counter[tuple[str, int]] | None = None) -> transitions.Decide:
    """The transition an event asks for, as a function of the job it applies to.

    `stored`: lines of job:ran events just stored, by (job, attempt): the first event of that
    attempt takes them (out of `stored`), to count them with its change, once.
    """
    match event:
        case JobAssignedEvent():
            return lambda job: transitions.assigned(job, event, timing)
        case JobStartedEvent():
            return lambda job: transitions.started(job, event, timing)
        case JobFinishedEvent():
            return lambda job: transitions.finished(job, event, timing)
        case JobRanEvent():
            lines = stored.pop((event.job_id, event.attempt), 0) if stored else 0
            return lambda job: transitions.ran(job, event, timing, new_lines=lines)
        case AttemptUnrunnable():
            return lambda job: transitions.unrunnable(job, event)
        case CancelRequested():
            return lambda job: transitions.cancel_requested(job, event.at)
        case AttemptExpired(reason="timeout"):
            return lambda job: transitions.timed_out(job, event.at, timing, attempt=event.attempt)
        case AttemptExpired():
            return lambda job: transitions.lease_expired(job, event.at, timing,
                                                         attempt=event.attempt)
    raise TypeError(f"no transition for {type(event).__name__}")  # pragma: no cover


def build_router(platform: Platform) -> RabbitRouter:
    router = RabbitRouter()
    jobs = platform.jobs

    async def store_output(events: list[JobEvent]) -> Counter[tuple[str, int]]:
        """The lines of short attempts (job:ran), stored before their end is applied: an ended
        job's readers then find every line at once. Returns the lines stored now (not
        before: a resend is stored once), by (job, attempt), for the transition to count."""
        batches = [LogBatchEvent(job_id=e.job_id, attempt=e.attempt, lines=e.lines,
                                 tenant_id=e.tenant_id, worker_id=e.worker_id,
                                 worker_name=e.worker_name)
                   for e in events if isinstance(e, JobRanEvent) and e.lines]
        stored: Counter[tuple[str, int]] = Counter()
        if batches:
            for batch in await logs.insert_chunks(batches):
                stored[(batch.job_id, batch.attempt)] += len(batch.lines)
                metrics.LOG_LINES.inc(len(batch.lines))
                platform.feed.log(batch.tenant_id, batch.job_id, batch.attempt,
                                  max(line.seq for line in batch.lines))
        return stored

    async def apply(event: JobEvent, decide: transitions.Decide) -> None:
        job = await jobs.apply(event.job_id, decide, event.tenant_id)
        if isinstance(event, DISPATCHING) and job is not None:
            _observe_dispatch(job, event)

    async def apply_in_order(events: list[tuple[JobEvent, transitions.Decide]]) -> None:
        for event, decide in events:  # one job's events: in the order its worker sent them
            try:
                await apply(event, decide)
            except Exception as exc:
                if isinstance(exc, amqp.TransientError) or dberrors.is_transient(exc):
                    raise  # the whole message comes back; what was applied is not applied twice
                # Why alone: one poison event must not take the others of its batch with it.
                log.exception("dead-lettering a job event that failed to apply")
                await amqp.publish_dead_letter(
                    platform.broker, event.model_dump_json().encode(),
                    f"{type(exc).__name__}: {exc}"[:500], names.JOB_EVENTS_BATCH_KEY)

    async def apply_events(events: list[JobEvent]) -> None:
        """Store the output the events carry, then apply them, each job's in order: one write
        for the chunks and one for the jobs (jobstore.apply_many)."""
        stored = await store_output(events)
        decides = [decider(event, jobs.timing, stored) for event in events]
        if len(events) == 1:
            await apply(events[0], decides[0])
            return
        try:
            # Why together: one read and one write for the whole batch (jobstore.apply_many).
            done = await jobs.apply_many([(event.job_id, event.tenant_id, decide)
                                          for event, decide in zip(events, decides)])
        except Exception as exc:
            if isinstance(exc, amqp.TransientError) or dberrors.is_transient(exc):
                raise
            log.exception("a batch of job events failed together; applying them one by one")
        else:
            for event in events:
                if isinstance(event, DISPATCHING) and event.job_id in done:
                    _observe_dispatch(done[event.job_id], event)
            return
        by_job: dict[str, list[tuple[JobEvent, transitions.Decide]]] = {}
        for event, decide in zip(events, decides):
            by_job.setdefault(event.job_id, []).append((event, decide))
        await asyncio.gather(*(apply_in_order(events) for events in by_job.values()))

    # Why a group commit: messages are handled side by side (up to CONSUMER_PREFETCH); under
    # load, those that come while one write is under way, or close together (GATHER_SECONDS),
    # are applied together in the next.
    # A message is acknowledged once its batch is applied; a batch that fails comes back whole
    # (what was applied of it is not applied twice).
    applying: GroupCommit[list[JobEvent]] = GroupCommit(
        lambda messages: apply_events([event for events in messages for event in events]),
        # At most the messages RabbitMQ lets this consumer hold: once they are all here, no
        # more come until they are applied and acknowledged; gathering longer would only wait.
        max_batch=min(MESSAGES_PER_WRITE, platform.settings.consumer_prefetch),
        gather=GATHER_SECONDS)

    @router.subscriber(amqp.JOB_EVENTS_QUEUE, amqp.JOBS, title="job-events")
    async def on_job_events(message: JobEventMessage) -> None:
        """What moves a job: assigned, started, finished, ran (a short attempt's start, output
        and end), unrunnable (and, from APIs before 0.2, cancel requested and expired); one
        event, or a batch of them."""
        await applying.submit(message.events if isinstance(message, JobEventBatch) else [message])

    return router


def _observe_dispatch(job: JobView, event: JobAssignedEvent | JobStartedEvent | JobRanEvent
                      ) -> None:
    """The attempt's wait for a worker, once: by the event that recorded its taking."""
    attempt = job.attempts[event.attempt - 1] if event.attempt <= len(job.attempts) else None
    if attempt is None or attempt.worker != event.worker_id or attempt.assigned_at is None:
        return
    taken = event.started_at() if isinstance(event, JobRanEvent) else event.at
    if abs((attempt.assigned_at - taken).total_seconds()) < 0.001:  # MongoDB keeps ms
        metrics.DISPATCH_LATENCY.observe((attempt.assigned_at - attempt.queued_at).total_seconds())
