"""Run an expensive async refresh at most once per period, however often it is asked for."""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Throttle:
    """Calls `refresh` when its last call is older than `max_age`; concurrent callers share it.

    A failed refresh is logged and not retried before the period is over: a scrape every few
    seconds must not turn a database outage into a stream of slow queries.
    """

    def __init__(self, refresh: Callable[[], Awaitable[None]]) -> None:
        self.refresh = refresh
        self._last = float("-inf")
        self._lock = asyncio.Lock()

    async def __call__(self, max_age: float) -> None:
        async with self._lock:
            if time.monotonic() - self._last < max_age:
                return
            self._last = time.monotonic()
            try:
                await self.refresh()
            except Exception as exc:  # noqa: BLE001 - the figures stay as they were
                log.warning("could not refresh %s: %s", self.refresh.__qualname__, exc)
