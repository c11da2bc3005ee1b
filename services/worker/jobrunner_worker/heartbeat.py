"""`heartbeat {running, draining}` every few seconds while connected."""

import asyncio
import logging
from typing import Any

from jobrunner_shared import names
from jobrunner_shared.messages import Heartbeat

from .attempts import Attempts

log = logging.getLogger(__name__)


class Heartbeater:
    def __init__(self, client: Any, attempts: Attempts, interval: float) -> None:
        self.client = client
        self.attempts = attempts
        self.interval = interval
        self.sent = 0

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

    async def run(self) -> None:
        while True:
            await self.beat()
            await asyncio.sleep(self.interval)
