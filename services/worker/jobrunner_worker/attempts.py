"""The attempts this worker runs: slots, assign, cancel, drain.

Each attempt is a `Runner` whose lines go through an `AttemptLog` into the outbox, framed by
`job:started` and `job:finished`; a `StartHolder` holds the start back a moment, so that a short
attempt goes as one `job:ran` instead. Never more running attempts than the capacity.
"""

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from jobrunner_shared.messages import AssignAck, AttemptRef, JobAssignment, JobFinished, JobStarted

from .coalesce import StartHolder
from .logs import AttemptLog
from .outbox import Outbox
from .runner import Outcome, Runner, base_environment
from .settings import WorkerSettings

log = logging.getLogger(__name__)

AttemptKey = tuple[str, int]
# Finished attempts remembered so that a repeated assignment is not run a second time.
REMEMBER_FINISHED = 1000


@dataclass
class RunningAttempt:
    runner: Runner
    task: asyncio.Task[None]


class Attempts:
    def __init__(self, settings: WorkerSettings, outbox: Outbox) -> None:
        self.settings = settings
        self.outbox = outbox
        self.capacity = settings.worker_capacity
        self.draining = False
        self._running: dict[AttemptKey, RunningAttempt] = {}
        self._finished: OrderedDict[AttemptKey, None] = OrderedDict()
        self._changed = asyncio.Event()
        self._base_env = base_environment()  # the worker's environment does not change
        # Called whenever the set of running attempts changed (the session beats soon after).
        self.on_change: Callable[[], None] = lambda: None

    def running_refs(self) -> list[AttemptRef]:
        return [AttemptRef(job_id=job_id, attempt=n) for job_id, n in self._running]

    def __len__(self) -> int:
        return len(self._running)

    def assign(self, assignment: JobAssignment) -> AssignAck:
        key = (assignment.job_id, assignment.attempt)
        if key in self._running or key in self._finished:
            # A repeated assignment (e.g. our first ack was lost): already ours, run it once.
            return AssignAck(accepted=True, reason="already taken")
        if self.draining:
            return AssignAck(accepted=False, reason="worker is draining")
        if len(self._running) >= self.capacity:
            return AssignAck(accepted=False, reason=f"no free slot (capacity {self.capacity})")
        report = StartHolder(
            outbox=self.outbox,
            linger=self.settings.worker_start_linger_seconds,
            batch_lines=self.settings.log_batch_lines,
            batch_bytes=self.settings.log_batch_bytes,
        )
        attempt_log = AttemptLog(
            job_id=assignment.job_id,
            attempt=assignment.attempt,
            mask=assignment.mask,
            ship=report.log,
            batch_lines=self.settings.log_batch_lines,
            batch_bytes=self.settings.log_batch_bytes,
            flush_interval=self.settings.log_flush_interval,
            max_bytes=assignment.max_log_bytes,
        )
        try:
            runner = Runner(
                command=assignment.command,
                argv=assignment.argv,
                env=assignment.env,
                timeout_seconds=assignment.timeout_seconds,
                kill_grace_seconds=self.settings.kill_grace_seconds,
                max_line_bytes=self.settings.max_line_bytes,
                keep_whole=attempt_log.mask.values,
                on_line=attempt_log.add,
                on_started=lambda pid: self._started(assignment, report, pid),
                base_env=self._base_env,
            )
        except ValueError as exc:
            return AssignAck(accepted=False, reason=f"invalid assignment: {exc}")
        task = asyncio.create_task(self._run(assignment, runner, attempt_log, report))
        self._running[key] = RunningAttempt(runner, task)
        self.on_change()
        log.debug("job %s attempt %d: accepted", *key)  # the start says it at INFO
        return AssignAck(accepted=True)

    def _started(self, assignment: JobAssignment, report: StartHolder, pid: int | None) -> None:
        # Logged at INFO when the start is reported (StartHolder): a short attempt, reported
        # as one `job:ran`, logs one line, its end.
        log.debug("job %s attempt %d: started, pid %s", assignment.job_id, assignment.attempt, pid)
        report.started(JobStarted(job_id=assignment.job_id, attempt=assignment.attempt, pid=pid))

    async def _run(
        self, assignment: JobAssignment, runner: Runner, attempt_log: AttemptLog,
        report: StartHolder,
    ) -> None:
        key = (assignment.job_id, assignment.attempt)
        try:
            try:
                outcome = await runner.run()
            except Exception as exc:
                log.exception("job %s attempt %d: worker error", *key)
                outcome = Outcome("failed", None, f"worker error: {exc!r}")
            if runner.pid is None:
                # It never started; the platform still gets started -> logs -> finished, in
                # that order (the line saying why is still pending in attempt_log here), or all
                # of it in one job:ran.
                self._started(assignment, report, None)
            attempt_log.close()
            error = attempt_log.mask(outcome.error) if outcome.error else None
            finished = JobFinished(
                job_id=assignment.job_id,
                attempt=assignment.attempt,
                status=outcome.status,
                exit_code=outcome.exit_code,
                error=error,
                last_seq=attempt_log.last_seq,
                log_truncated=attempt_log.truncated,
            )
            report.finished(finished)
            log.info("job %s attempt %d: %s, exit code %s (pid %s)", *key, outcome.status,
                     outcome.exit_code, runner.pid)
        finally:
            # Why: a worker going away must not leave a start held (a no-op once finished).
            report.release()
            self._running.pop(key, None)
            self._finished[key] = None
            while len(self._finished) > REMEMBER_FINISHED:
                self._finished.popitem(last=False)
            self._changed.set()
            self.on_change()

    def cancel(self, job_id: str, attempt: int) -> bool:
        running = self._running.get((job_id, attempt))
        if running is None:
            return False
        log.info("job %s attempt %d: cancelling", job_id, attempt)
        running.runner.cancel()
        return True

    def cancel_all(self) -> None:
        for job_id, attempt in list(self._running):
            self.cancel(job_id, attempt)

    def drain(self) -> None:
        if not self.draining:
            log.info("draining: no new jobs, %d running", len(self._running))
        self.draining = True
        self._changed.set()

    async def wait_drained(self) -> None:
        """Until the worker is draining and nothing runs any more."""
        while not (self.draining and not self._running):
            self._changed.clear()
            await self._changed.wait()
