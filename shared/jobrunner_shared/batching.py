"""Group commit: items handed to one flush function in batches, without waiting for a timer.

When nothing is being flushed, an item goes at once (a batch of one: no added latency when
the platform is quiet). While a flush is in flight, new items wait and go together in the next
one. Under load the batches grow by themselves, and with them the work saved per item: one
RabbitMQ message, one confirm, one database write for many.

`linger`: after a batch of more than one (the platform is busy), wait that long for more before
the next flush. A quiet platform never waits; a busy one trades a few milliseconds per item
for batches several times larger.

`gather`: while items come close together (the last two less than half of `gather` apart: a
steady stream), wait up to that long for more before flushing, or until max_batch wait. Unlike
`linger` it also groups items that come one at a time, each just after the previous flush
ended: there, `linger` never starts and every batch holds one item. An item that comes alone
(a quiet platform, one job at a time) never waits.
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class GroupCommit(Generic[T]):
    """`flush(items)` may return one exception (or None) per item: each submitter gets its own
    outcome; when it raises, every submitter of the batch gets that error."""

    def __init__(self, flush: Callable[[list[T]], Awaitable[list[BaseException | None] | None]],
                 max_batch: int = 200,
                 linger: float = 0.0, gather: float = 0.0) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, not {max_batch}")
        self._flush = flush
        self.max_batch = max_batch
        self.linger = linger
        self.gather = gather
        self._arrived_at = float("-inf")
        self._gap = float("inf")  # between the last two items submitted
        self._last_batch = 0
        self._pending: list[tuple[T, asyncio.Future[None]]] = []
        self._runner: asyncio.Task[None] | None = None
        self._full: asyncio.Event | None = None  # set when a gathering batch reaches max_batch

    async def submit(self, item: T) -> None:
        """Returns once the batch holding `item` was flushed; raises what its flush raised."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        now = loop.time()
        self._gap, self._arrived_at = now - self._arrived_at, now
        self._pending.append((item, future))
        if self._full is not None and len(self._pending) >= self.max_batch:
            self._full.set()
        if self._runner is None or self._runner.done():
            self._runner = loop.create_task(self._run())
        await future

    async def _gather(self) -> None:
        """Wait `gather` seconds, or less once max_batch items wait: a full batch gains nothing
        by waiting (a consumer whose prefetch is max_batch gets no more until it acknowledges)."""
        self._full = asyncio.Event()
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._full.wait(), self.gather)
        finally:
            self._full = None

    async def _run(self) -> None:
        batch: list[tuple[T, asyncio.Future[None]]] = []
        try:
            while self._pending:
                if len(self._pending) < self.max_batch:
                    if self.linger and self._last_batch > 1:
                        await asyncio.sleep(self.linger)
                    elif self.gather and self._gap < self.gather / 2:
                        await self._gather()
                batch, self._pending = (self._pending[: self.max_batch],
                                        self._pending[self.max_batch:])
                self._last_batch = len(batch)
                try:
                    outcomes = await self._flush([item for item, _ in batch])
                except asyncio.CancelledError as exc:
                    # Why: a cancellation from inside the flush (aiormq cancels a publish when
                    # its connection drops) fails this batch only; the runner goes on.
                    if _cancelling():
                        raise
                    outcomes = [ConnectionError(f"flush cancelled: {exc}")] * len(batch)
                except Exception as exc:  # noqa: BLE001 - handed to every submitter of the batch
                    outcomes = [exc] * len(batch)
                for (_, future), outcome in zip(batch, outcomes or [None] * len(batch),
                                                strict=True):
                    if future.done():
                        continue
                    if outcome is None:
                        future.set_result(None)
                    else:
                        future.set_exception(outcome)
            self._last_batch = 0
        except asyncio.CancelledError:
            # The runner itself cancelled (shutdown): no submitter is left waiting for ever.
            for _, future in batch + self._pending:
                if not future.done():
                    future.set_exception(ConnectionError("group commit stopped"))
            self._pending = []
            raise


def _cancelling() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
