"""Masking and batching of one attempt's output lines.

`AttemptLog.add` is called synchronously from the pipe readers and never waits: a full batch
is handed to `ship` (the outbox: bounded in memory, spilling to disk) and reading goes on.
"""

import asyncio
import json
from collections.abc import Callable, Iterable

from jobrunner_shared.masking import MASK, mask_values
from jobrunner_shared.messages import JobLog, LogLine, Stream, utcnow

# JSON framing of one line inside a batch ({"seq":..,"stream":"stdout","text":..,"ts":".."}).
LINE_OVERHEAD_BYTES = 80


class Masker:
    """Replaces every secret value with `***` (which strings: jobrunner_shared.masking)."""

    def __init__(self, values: Iterable[str]) -> None:
        self.values = mask_values(values)

    def __call__(self, text: str) -> str:
        for value in self.values:
            if value in text:
                text = text.replace(value, MASK)
        return text


def encoded_size(text: str) -> int:
    """Bytes the line takes in a Socket.IO message (JSON, ASCII-escaped) – what the limit is about."""
    return len(json.dumps(text)) + LINE_OVERHEAD_BYTES


TRUNCATION_LINE = (
    "[jobrunner] output truncated: the stored log is capped at {mib:g} MiB; the job runs on"
)


class AttemptLog:
    """Collects masked lines into `JobLog` batches by count, size and time."""

    def __init__(
        self,
        *,
        job_id: str,
        attempt: int,
        mask: Iterable[str],
        ship: Callable[[JobLog], None],
        batch_lines: int = 1000,
        batch_bytes: int = 256 * 1024,
        flush_interval: float = 0.1,
        max_bytes: int | None = None,
    ) -> None:
        self.job_id = job_id
        self.attempt = attempt
        self.mask = Masker(mask)
        self.ship = ship
        self.batch_lines = batch_lines
        self.batch_bytes = batch_bytes
        self.flush_interval = flush_interval
        self.max_bytes = max_bytes
        self.total_bytes = 0
        self.truncated = False
        self.last_seq = 0  # the seq of the last line kept
        self._lines: list[LogLine] = []
        self._bytes = 0
        self._timer: asyncio.TimerHandle | None = None

    def add(self, seq: int, stream: Stream, text: str) -> None:
        if self.truncated:
            return  # past the cap: the job runs on, its output is read and dropped
        text = self.mask(text)
        stored = len(text.encode())  # the cap counts the text kept, not the wire format
        if self.max_bytes is not None and self.total_bytes + stored > self.max_bytes:
            self.truncated = True
            text, stream = TRUNCATION_LINE.format(mib=self.max_bytes / 2**20), "stderr"
        self.total_bytes += stored
        self.last_seq = seq
        size = encoded_size(text)
        self._lines.append(LogLine(seq=seq, stream=stream, text=text, ts=utcnow()))
        self._bytes += size
        if len(self._lines) >= self.batch_lines or self._bytes >= self.batch_bytes:
            self.flush()
        elif self._timer is None:
            # Near real time: a pending line leaves at most one interval after it arrived.
            self._timer = asyncio.get_running_loop().call_later(self.flush_interval, self.flush)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._lines:
            return
        batch = JobLog(job_id=self.job_id, attempt=self.attempt, lines=self._lines)
        self._lines = []
        self._bytes = 0
        self.ship(batch)

    close = flush
