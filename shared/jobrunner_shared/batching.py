"""Group commit: items handed to one flush function in batches, without waiting for a timer.

When nothing is being flushed, an item goes at once (a batch of one: no added latency when
the platform is quiet). While a flush is in flight, new items wait and go together in the next
one. Under load the batches grow by themselves, and with them the work saved per item: one
RabbitMQ message, one confirm, one database write for many.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class GroupCommit(Generic[T]):
    def __init__(self, flush: Callable[[list[T]], Awaitable[None]], max_batch: int = 200) -> None:
        self._flush = flush
        self.max_batch = max_batch
        self._pending: list[tuple[T, asyncio.Future[None]]] = []
        self._runner: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> None:
        """Returns once the batch holding `item` was flushed; raises what its flush raised."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.get_running_loop().create_task(self._run())
        await future

    async def _run(self) -> None:
        while self._pending:
            batch, self._pending = (self._pending[: self.max_batch],
                                    self._pending[self.max_batch:])
            try:
                await self._flush([item for item, _ in batch])
            except Exception as exc:  # noqa: BLE001 - handed to every submitter of the batch
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
            else:
                for _, future in batch:
                    if not future.done():
                        future.set_result(None)
