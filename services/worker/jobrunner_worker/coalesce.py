"""One short attempt, one event: a start held back a moment, to be sent with the end as `job:ran`.

Most jobs are short (`echo hello`): reported as `job:started`, `job:log` and `job:finished`
they cost three sequential round trips to the master, three RabbitMQ messages and three
database writes on the platform. So `StartHolder` keeps an attempt's start (and the output
batches shipped meanwhile) out of the outbox for WORKER_START_LINGER_SECONDS. If the attempt
ends within that, all of it goes as one `job:ran`; if not, the start and the batches go out as
they would have, only that much later, and the attempt goes on the classic way. What is held
stays small: past one batch's worth of lines or bytes, it is released at once.

`unfold` does the reverse, for a master that does not know `job:ran` (the outbox calls it):
the classic events the attempt would have been reported with.
"""

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Protocol

from jobrunner_shared import names
from jobrunner_shared.messages import JobFinished, JobLog, JobRan, JobStarted, LogLine, Message

from .logs import encoded_size

log = logging.getLogger(__name__)


class Sink(Protocol):
    """What the holder needs of the outbox."""

    ran_supported: bool

    def put(self, event: str, payload: Message) -> None: ...


class StartHolder:
    """Reports one attempt: holds its start back up to `linger` seconds, hoping for its end.

    Called by the attempt in this order: `started` (pid, or None when it never started), `log`
    for each output batch, `finished` once; `release` any time (the linger ran out, the attempt
    was torn down): from then on everything goes straight to the outbox.
    """

    def __init__(
        self,
        *,
        outbox: Sink,
        linger: float,
        batch_lines: int,
        batch_bytes: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.outbox = outbox
        self.linger = linger
        self.batch_lines = batch_lines
        self.batch_bytes = batch_bytes
        self.clock = clock
        self.released = False  # True: nothing is held, events go straight to the outbox
        self._start: JobStarted | None = None
        self._started_at = 0.0
        self._held: list[JobLog] = []
        self._held_lines = 0
        self._held_bytes = 0
        self._timer: asyncio.TimerHandle | None = None

    def started(self, start: JobStarted) -> None:
        self._start = start
        self._started_at = self.clock()
        if self.linger <= 0 or not self.outbox.ran_supported:
            self.release()
            return
        # Why a timer and not a check at the next event: the start must reach the master
        # within the linger even when the job prints nothing for hours.
        self._timer = asyncio.get_running_loop().call_later(self.linger, self.release)

    def log(self, batch: JobLog) -> None:
        if self.released:
            self.outbox.put(names.EV_JOB_LOG, batch)
            return
        size = sum(encoded_size(line.text) for line in batch.lines)
        lines = self._held_lines + len(batch.lines)
        if self._start is not None and (lines > self.batch_lines
                                        or self._held_bytes + size > self.batch_bytes):
            # Too much for one message: a job this chatty is reported the classic way.
            self.release()
            self.outbox.put(names.EV_JOB_LOG, batch)
            return
        self._held.append(batch)
        self._held_lines, self._held_bytes = lines, self._held_bytes + size

    def finished(self, finished: JobFinished) -> None:
        if self.released or self._start is None or not self.outbox.ran_supported:
            self.release()
            self.outbox.put(names.EV_JOB_FINISHED, finished)
            return
        self._cancel_timer()
        pid = self._start.pid
        ran = JobRan(
            **finished.model_dump(),
            pid=pid,
            # One that never started took no time; the master dates its start by this.
            duration_seconds=max(0.0, self.clock() - self._started_at) if pid is not None else 0.0,
            lines=[line for batch in self._held for line in batch.lines],
        )
        self._drop_held()
        self.released = True
        self.outbox.put(names.EV_JOB_RAN, ran)

    def release(self) -> None:
        """Put what is held into the outbox, in order: the start, then its batches."""
        self._cancel_timer()
        if self.released:
            return
        self.released = True
        if self._start is not None:
            held = max(0.0, self.clock() - self._started_at) if self._start.pid else 0.0
            log.info("job %s attempt %d: started, pid %s", self._start.job_id,
                     self._start.attempt, self._start.pid)
            self.outbox.put(names.EV_JOB_STARTED,
                            self._start.model_copy(update={"held_seconds": round(held, 6)}))
        for batch in self._held:
            self.outbox.put(names.EV_JOB_LOG, batch)
        self._drop_held()

    def _drop_held(self) -> None:
        self._held, self._held_lines, self._held_bytes = [], 0, 0

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


def unfold(ran: JobRan, *, batch_lines: int, batch_bytes: int) -> list[tuple[str, Message]]:
    """The classic events of a `job:ran`: started, its lines in batches (if any), finished."""
    ref = {"job_id": ran.job_id, "attempt": ran.attempt}
    events: list[tuple[str, Message]] = [(names.EV_JOB_STARTED, JobStarted(**ref, pid=ran.pid))]
    batch: list[LogLine] = []
    size = 0
    for line in ran.lines:
        line_size = encoded_size(line.text)
        if batch and (len(batch) >= batch_lines or size + line_size > batch_bytes):
            events.append((names.EV_JOB_LOG, JobLog(**ref, lines=batch)))
            batch, size = [], 0
        batch.append(line)
        size += line_size
    if batch:
        events.append((names.EV_JOB_LOG, JobLog(**ref, lines=batch)))
    finished = JobFinished.model_validate(ran.model_dump(include=set(JobFinished.model_fields)))
    events.append((names.EV_JOB_FINISHED, finished))
    return events
