"""Worker events the master has not acknowledged yet, kept in order and sent with acks.

Socket.IO delivers at most once, so every `job:started`, `job:log` and `job:finished` stays
here until the master answers `EventAck(ok=True)` (it has put the event safely in RabbitMQ).
No answer (ack timeout, disconnect, `ok: false`) means: send it again, later, byte for byte
the same – the platform deduplicates log batches by (job, attempt, first seq).

Order, per attempt: its entries are sent in the order they were put; its log batches only
once its `job:started` was acknowledged, and its `job:finished` only once everything before it
was, so that an attempt's logs never overtake its start and its end never overtakes its logs.
Attempts do not wait for each other: up to `window` entries of any attempts are in flight at
once. (Why not one order for all: a worker running several jobs would wait a round trip to
RabbitMQ per start and per end of every job, one at a time.)

A `job:ran` (a short attempt's start, output and end in one event: coalesce.py) counts as a
start and an end of its attempt: nothing of that attempt goes before it is acknowledged. A
master that does not know the event (an older one) answers it with an empty ack: the entry is
then replaced, where it stands, by the `job:started`, `job:log` and `job:finished` it stands for,
and `ran_supported` is False until the next connection (the holder then sends no more).

Memory is bounded: once the entries in memory hold `memory_limit` bytes, newly put entries
go to a `SpillStore` on disk (when one is given) and are read back, in order, as
acknowledged entries leave memory. `pending_bytes` counts both parts.
"""

import asyncio
import json
import logging
import random
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

from jobrunner_shared import names
from jobrunner_shared.messages import EventAck, JobRan, Message
from pydantic import ValidationError

from .coalesce import unfold
from .spill import Segment, SpillStore

log = logging.getLogger(__name__)

SOCKETIO_MAX_MESSAGE = 1_000_000
MEMORY_LIMIT = 64 * 1024 * 1024


@dataclass(eq=False)
class Entry:
    event: str
    data: dict[str, Any]
    size: int
    # "replaced": a job:ran unfolded into classic entries; answers to it are ignored.
    state: Literal["queued", "sent", "acked", "replaced"] = "queued"
    timer: asyncio.TimerHandle | None = field(default=None, repr=False)
    segment: Segment | None = field(default=None, repr=False)  # the spill file it came from

    @property
    def attempt(self) -> tuple[Any, Any]:
        return self.data.get("job_id"), self.data.get("attempt")


class Outbox:
    def __init__(
        self,
        *,
        namespace: str = names.WORKERS_NAMESPACE,
        window: int = 8,
        ack_timeout: float = 30.0,
        retry_delay: float = 1.0,
        retry_delay_max: float = 30.0,
        memory_limit: int = MEMORY_LIMIT,
        spill: SpillStore | None = None,
        batch_lines: int = 1000,
        batch_bytes: int = 256 * 1024,
    ) -> None:
        self.namespace = namespace
        self.window = window
        self.ack_timeout = ack_timeout
        self.retry_delay = retry_delay
        self.retry_delay_max = retry_delay_max
        self.memory_limit = memory_limit
        self.batch_lines = batch_lines  # the bounds of a job:log made when a job:ran is unfolded
        self.batch_bytes = batch_bytes
        self.memory_bytes = 0
        # Whether the master of this connection knows job:ran (assumed on each connect).
        self.ran_supported = True
        self._entries: deque[Entry] = deque()
        self._spill = spill
        self._client: Any = None
        self._epoch = 0
        self._failures = 0
        self._retry_at = 0.0
        self._wake = asyncio.Event()
        self._empty = asyncio.Event()
        self._empty.set()

    def __len__(self) -> int:
        return len(self._entries) + (len(self._spill) if self._spill is not None else 0)

    @property
    def pending_bytes(self) -> int:
        return self.memory_bytes + (self._spill.bytes if self._spill is not None else 0)

    # --- producers ------------------------------------------------------------------------

    def put(self, event: str, payload: Message) -> None:
        """Queue an event; never waits. The payload is frozen now so a resend is identical."""
        data = payload.model_dump(mode="json")
        size = len(json.dumps(data))
        if size > SOCKETIO_MAX_MESSAGE:
            log.error("%s of %d bytes exceeds the Socket.IO message limit", event, size)
        if self._spilling():
            self._spill.append(event, data, size)  # type: ignore[union-attr]
        else:
            self._entries.append(Entry(event, data, size))
            self.memory_bytes += size
        self._empty.clear()
        self._wake.set()

    async def wait_empty(self) -> None:
        await self._empty.wait()

    def close(self) -> None:
        """Remove the spill files: at exit, whatever is left will not be sent any more."""
        if self._spill is not None:
            self._spill.close()

    # --- connection state (called by the session) -----------------------------------------

    def connected(self, client: Any) -> None:
        self._client = client
        self.ran_supported = True  # a new connection may be to a newer master
        self._retry_at = 0.0
        self._wake.set()

    def disconnected(self) -> None:
        # Acks for calls in flight can no longer arrive (the client drops its callbacks).
        self._client = None
        self._rewind()

    # --- the sender --------------------------------------------------------------------------

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self._wake.clear()
            entry = self._next_to_send()
            if entry is None:
                await self._wake.wait()
                continue
            delay = self._retry_at - loop.time()
            if delay > 0:
                try:
                    await asyncio.wait_for(self._wake.wait(), delay)
                except TimeoutError:
                    pass
                continue
            if entry.event == names.EV_JOB_RAN and not self.ran_supported:
                # This master does not know it: no round trip to learn that again.
                self._unfold(entry)
                continue
            await self._send(entry)

    def _next_to_send(self) -> Entry | None:
        """The first queued entry that its attempt's order allows, if the window has room."""
        if self._client is None:
            return None
        if sum(1 for entry in self._entries if entry.state == "sent") >= self.window:
            return None
        unacked: set[tuple[Any, Any]] = set()  # attempts with an entry not acknowledged yet
        starting: set[tuple[Any, Any]] = set()  # attempts whose start is not acknowledged yet
        waiting: set[tuple[Any, Any]] = set()  # attempts with an earlier entry not sent yet
        for entry in self._entries:
            if entry.state == "acked":
                continue
            key = entry.attempt
            if entry.state == "queued" and key not in waiting:
                if entry.event == names.EV_JOB_LOG:
                    if key not in starting:
                        return entry
                elif key not in unacked:  # start, end or job:ran: nothing of its attempt before it
                    return entry
                waiting.add(key)
            unacked.add(key)
            if entry.event in (names.EV_JOB_STARTED, names.EV_JOB_RAN):
                starting.add(key)
        return None

    async def _send(self, entry: Entry) -> None:
        client, epoch = self._client, self._epoch
        entry.state = "sent"
        entry.timer = asyncio.get_running_loop().call_later(
            self.ack_timeout, self._failed, entry, epoch, "no ack in time"
        )

        def on_ack(*args: Any) -> None:
            self._answered(entry, epoch, args)

        try:
            await client.emit(entry.event, entry.data, namespace=self.namespace, callback=on_ack)
        except Exception as exc:  # noqa: BLE001 - any send failure means: keep it, resend later
            self._failed(entry, epoch, f"send failed: {exc!r}")

    def _answered(self, entry: Entry, epoch: int, args: tuple[Any, ...]) -> None:
        if entry.state in ("replaced", "acked"):
            return  # an answer to an earlier try of an entry already dealt with
        if entry.event == names.EV_JOB_RAN and args == ():
            # python-socketio acks an event its namespace has no handler for with no arguments:
            # an older master. Not a failure: the same story, told the classic way.
            if self.ran_supported:
                log.warning("the master does not know %s: reporting attempts the classic way "
                            "until the next connection", names.EV_JOB_RAN)
            self.ran_supported = False
            self._unfold(entry)
            return
        try:
            ack = EventAck.model_validate(args[0] if args else None)
        except ValidationError:
            ack = EventAck(ok=False, error=f"unexpected ack {args!r:.200}")
        if not ack.ok:
            self._failed(entry, epoch, ack.error or "master answered ok=false")
            return
        # A late ok from an earlier try still counts: the event is stored, no need to resend.
        if entry.timer is not None:
            entry.timer.cancel()
            entry.timer = None
        entry.state = "acked"
        self._failures = 0
        while self._entries and self._entries[0].state == "acked":
            done = self._entries.popleft()
            self.memory_bytes -= done.size
            if done.segment is not None:
                self._spill.acked(done.segment)  # type: ignore[union-attr]
        self._refill()
        if not self._entries:
            self._empty.set()
        self._wake.set()

    def _unfold(self, entry: Entry) -> None:
        """Replace a job:ran, where it stands, by the classic entries it stands for."""
        ran = JobRan.model_validate(entry.data)
        replacements = []
        for event, payload in unfold(ran, batch_lines=self.batch_lines,
                                     batch_bytes=self.batch_bytes):
            data = payload.model_dump(mode="json")
            replacements.append(Entry(event, data, len(json.dumps(data))))
        # The spill segment counts one ack for the entry: the last replacement brings it.
        replacements[-1].segment = entry.segment
        if entry.timer is not None:
            entry.timer.cancel()
            entry.timer = None
        entry.state = "replaced"
        index = self._entries.index(entry)
        self._entries.rotate(-index)
        self._entries.popleft()
        self._entries.extendleft(reversed(replacements))
        self._entries.rotate(index)
        self.memory_bytes += sum(r.size for r in replacements) - entry.size
        self._wake.set()

    def _spilling(self) -> bool:
        if self._spill is None or not self._entries:
            return False
        # Once anything is on disk, everything after it goes there too, to keep the order.
        return len(self._spill) > 0 or self.memory_bytes >= self.memory_limit

    def _refill(self) -> None:
        """Move entries back from disk as memory frees up (at about the rate it is acked)."""
        while self._spill is not None and (
            not self._entries or self.memory_bytes < self.memory_limit
        ):
            spilled = self._spill.pop()
            if spilled is None:
                return
            event, data, size, segment = spilled
            self._entries.append(Entry(event, data, size, segment=segment))
            self.memory_bytes += size

    def _failed(self, entry: Entry, epoch: int, reason: str) -> None:
        if epoch != self._epoch or entry.state != "sent":
            return  # already dealt with
        self._failures += 1
        delay = min(self.retry_delay_max, self.retry_delay * 2 ** (self._failures - 1))
        delay *= random.uniform(0.5, 1.5)
        log.warning("%s not acknowledged (%s): resending in %.1f s", entry.event, reason, delay)
        self._retry_at = asyncio.get_running_loop().time() + delay
        self._rewind()

    def _rewind(self) -> None:
        """Everything in flight goes back to queued, to be sent again in the original order."""
        self._epoch += 1
        for entry in self._entries:
            if entry.state == "sent":
                entry.state = "queued"
                if entry.timer is not None:
                    entry.timer.cancel()
                    entry.timer = None
        self._wake.set()
