"""`heartbeat {running, draining}` every few seconds while connected, and soon after a change.

Why soon after a change: the platform shows what a worker runs from its heartbeats; a beat a
moment after an attempt starts or ends keeps that view within a fraction of a second of the
worker's own, at most one extra beat per DEBOUNCE_SECONDS however busy the worker is.
"""

import asyncio
import logging
from typing import Any

from jobrunner_shared import names
from jobrunner_shared.messages import Heartbeat

from .attempts import Attempts

log = logging.getLogger(__name__)
DEBOUNCE_SECONDS = 0.2


class Heartbeater:
    def __init__(self, client: Any, attempts: Attempts, interval: float) -> None:
        self.client = client
        self.attempts = attempts
        self.interval = interval
        self.sent = 0
        self._soon: asyncio.TimerHandle | None = None

    async def beat(self) -> None:
        """Send one heartbeat now if connected; a lost one is simply replaced by the next."""
        if names.WORKERS_NAMESPACE not in self.client.namespaces:
            return
        payload = Heartbeat(running=self.attempts.running_refs(), draining=self.attempts.draining)
        try:
            await self.client.emit(
                names.EV_HEARTBEAT, payload.model_dump(mode="json"), namespace=names.WORKERS_NAMESPACE
            )
            self.sent += 1
        except Exception as exc:  # noqa: BLE001 - disconnected in between: the next one will do
            log.debug("heartbeat not sent: %r", exc)

    def poke(self) -> None:
        """What runs changed: beat within DEBOUNCE_SECONDS (once for a burst of changes)."""
        if self._soon is not None:
            return
        loop = asyncio.get_running_loop()

        def fire() -> None:
            self._soon = None
            loop.create_task(self.beat())

        self._soon = loop.call_later(DEBOUNCE_SECONDS, fire)

    async def run(self) -> None:
        while True:
            await self.beat()
            await asyncio.sleep(self.interval)
