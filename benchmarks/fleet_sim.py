"""The simulated worker fleet of benchmarks/fleet.py: N worker sessions in one process.

Each is a real Socket.IO session (python-socketio's AsyncClient, as the worker uses, all on one
aiohttp session) speaking SPEC §5 as the worker does: it connects with a worker key, heartbeats
`{running, draining}` every 5 s (and 0.2 s after a job started or ended), accepts `job:assign`,
then reports `job:started`, one `job:log` batch and `job:finished`, each until the master
acknowledged it `ok` (resent after a second when not, as the worker's outbox).
"""

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
import socketio
from jobrunner_shared import names

NS = names.WORKERS_NAMESPACE
HEARTBEAT_SECONDS = 5.0  # the worker's default HEARTBEAT_INTERVAL
POKE_SECONDS = 0.2  # the worker beats this soon after a job started or ended
RESEND_SECONDS = 1.0  # the worker outbox's first retry delay
ACK_TIMEOUT = 30.0  # the worker outbox's ack timeout

Handler = Callable[[str, Any], Awaitable[Any]]


class Refused(Exception):
    """The master refused the session (connect_error) or could not be reached."""


class Session:
    """One worker's session on python-socketio's AsyncClient, configured as the worker's
    (but no reconnection of its own: SimWorker.run reconnects, with backoff)."""

    def __init__(self, http: aiohttp.ClientSession, url: str, on_event: Handler) -> None:
        self.url = url
        self.closed = asyncio.get_running_loop().create_future()
        self.client = socketio.AsyncClient(reconnection=False, handle_sigint=False,
                                           http_session=http)
        for event in (names.EV_JOB_ASSIGN, names.EV_JOB_CANCEL, names.EV_WORKER_DRAIN):
            self.client.on(event, self._handler(on_event, event), namespace=NS)
        self.client.on("disconnect", self._gone, namespace=NS)

    @staticmethod
    def _handler(on_event: Handler, event: str) -> Callable[[Any], Awaitable[Any]]:
        async def handle(data: Any = None) -> Any:
            return await on_event(event, data)
        return handle

    async def connect(self, auth: dict) -> None:
        try:
            await self.client.connect(self.url, auth=auth, namespaces=[NS], wait_timeout=10)
        except socketio.exceptions.ConnectionError as exc:
            await self.close()
            raise Refused(str(exc)) from exc

    async def emit(self, event: str, data: Any) -> None:
        await self.client.emit(event, data, namespace=NS)

    async def call(self, event: str, data: Any, timeout: float) -> Any:
        return await self.client.call(event, data, namespace=NS, timeout=timeout)

    async def close(self) -> None:
        try:
            await self.client.disconnect()
        finally:
            self._gone()

    def _gone(self, *_: Any) -> None:
        if not self.closed.done():
            self.closed.set_result(None)



class SimWorker:
    def __init__(self, fleet: "Fleet", index: int, key: str) -> None:
        self.fleet = fleet
        self.name = f"fleet-{index:05d}"
        self.worker_id = uuid.uuid4().hex
        self.key = key
        self.session: Session | None = None
        self.running: set[tuple[str, int]] = set()
        self.done: set[tuple[str, int]] = set()
        self.beats = 0
        self.connects = 0
        self.refusals = 0
        self.resends = 0
        self._poke: asyncio.TimerHandle | None = None
        self.tasks: set[asyncio.Task] = set()

    def auth(self) -> dict:
        return {"api_key": self.key, "name": self.name, "labels": [],
                "capacity": self.fleet.capacity, "version": "fleet", "hostname": "fleet-sim",
                "worker_id": self.worker_id}

    @property
    def online(self) -> bool:
        return self.session is not None and not self.session.closed.done()

    async def run(self, gate: asyncio.Semaphore) -> None:
        """Connect, and reconnect whenever the session is lost (as the worker: backoff)."""
        failures = 0
        while True:
            async with gate:
                session = Session(self.fleet.http, self.fleet.master_url, self._on_event)
                try:
                    await session.connect(self.auth())
                except Refused as exc:
                    self.refusals += 1
                    self.fleet.errors.append(f"{self.name}: {exc}"[:300])
                    session = None
            if session is None:
                failures += 1
                await asyncio.sleep(min(30.0, 2 ** min(failures, 5)) * random.uniform(0.75, 1.25))
                continue
            failures = 0
            self.session = session
            self.connects += 1
            self._spawn(self.beat())  # the worker beats on connect
            await session.closed
            self.session = None
            await asyncio.sleep(random.uniform(0.25, 0.5))

    async def heartbeats(self, phase: float) -> None:
        """Every HEARTBEAT_SECONDS from this worker's own start (`phase` into the period)."""
        await asyncio.sleep(phase)
        while True:
            await self.beat()
            await asyncio.sleep(HEARTBEAT_SECONDS)

    async def beat(self) -> None:
        if not self.online:
            return
        running = [{"job_id": j, "attempt": a} for j, a in sorted(self.running)]
        try:
            await self.session.emit(names.EV_HEARTBEAT,  # type: ignore[union-attr]
                                    {"running": running, "draining": False})
            self.beats += 1
        except Exception:  # noqa: BLE001, S110 - disconnected in between: the next one will do
            pass

    def poke(self) -> None:
        if self._poke is None:
            def fire() -> None:
                self._poke = None
                self._spawn(self.beat())
            self._poke = asyncio.get_running_loop().call_later(POKE_SECONDS, fire)

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _on_event(self, event: str, data: Any) -> Any:
        if event == names.EV_JOB_ASSIGN:
            key = (data["job_id"], data["attempt"])
            if key in self.running or key in self.done:
                return {"accepted": True, "reason": "already taken"}
            if len(self.running) >= self.fleet.capacity:
                return {"accepted": False, "reason": f"no free slot (capacity {self.fleet.capacity})"}
            self.running.add(key)
            self.fleet.assigned[data["job_id"]] = (time.perf_counter(), self.name)
            self._spawn(self._job(*key))
            self.poke()
            return {"accepted": True, "reason": None}
        return {"ok": True}

    async def _job(self, job_id: str, attempt: int) -> None:
        ref = {"job_id": job_id, "attempt": attempt}
        await self._report(names.EV_JOB_STARTED, {**ref, "pid": 4242})
        line = {"seq": 1, "stream": "stdout", "text": "hello",
                "ts": datetime.now(UTC).isoformat()}
        await self._report(names.EV_JOB_LOG, {**ref, "lines": [line]})
        if self.fleet.job_seconds:
            await asyncio.sleep(self.fleet.job_seconds)
        await self._report(names.EV_JOB_FINISHED, {**ref, "status": "succeeded", "exit_code": 0,
                                                   "error": None, "last_seq": 1,
                                                   "log_truncated": False})
        self.running.discard((job_id, attempt))
        self.done.add((job_id, attempt))
        self.fleet.finished[job_id] = time.perf_counter()
        self.poke()

    async def _report(self, event: str, data: dict) -> None:
        """Until the master acknowledged it `ok` (it is in RabbitMQ), as the worker's outbox."""
        while True:
            session = self.session
            if session is not None and not session.closed.done():
                try:
                    ack = await session.call(event, data, timeout=ACK_TIMEOUT)
                    if isinstance(ack, dict) and ack.get("ok"):
                        return
                except Exception:  # noqa: BLE001, S110 - no ack: send it again
                    pass
                self.resends += 1
            await asyncio.sleep(RESEND_SECONDS)


class Fleet:
    def __init__(self, http: aiohttp.ClientSession, master_url: str, capacity: int,
                 job_seconds: float) -> None:
        self.http = http
        self.master_url = master_url
        self.capacity = capacity
        self.job_seconds = job_seconds
        self.workers: list[SimWorker] = []
        self.tasks: list[asyncio.Task] = []
        self.assigned: dict[str, tuple[float, str]] = {}
        self.finished: dict[str, float] = {}
        self.errors: list[str] = []

    def start(self, count: int, keys: list[str], concurrency: int) -> None:
        gate = asyncio.Semaphore(concurrency)
        for i in range(count):
            worker = SimWorker(self, i + 1, keys[i % len(keys)])
            self.workers.append(worker)
            self.tasks.append(asyncio.create_task(worker.run(gate)))
            # Why a random phase: real workers started at different moments, so their beats
            # spread over the period even when they all (re)connect at once.
            self.tasks.append(asyncio.create_task(
                worker.heartbeats(random.uniform(0, HEARTBEAT_SECONDS))))

    @property
    def online(self) -> int:
        return sum(1 for w in self.workers if w.online)

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for worker in self.workers:
            for task in list(worker.tasks):
                task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        sessions = [w.session for w in self.workers if w.session is not None]
        for i in range(0, len(sessions), 200):
            await asyncio.gather(*(s.close() for s in sessions[i:i + 200]),
                                 return_exceptions=True)
