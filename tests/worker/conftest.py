import asyncio
import contextlib
import os
import socket
import time

import pytest
import socketio
import uvicorn
from jobrunner_shared import names
from jobrunner_shared.messages import EventAck, JobFinished

NS = names.WORKERS_NAMESPACE


def process_gone(pid: int) -> bool:
    """True when the process no longer exists (or is only a zombie waiting for its reaper)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


class Collected:
    """A line sink for the runner: remembers every (seq, stream, text)."""

    def __init__(self) -> None:
        self.lines: list[tuple[int, str, str]] = []

    def __call__(self, seq: int, stream: str, text: str) -> None:
        self.lines.append((seq, stream, text))

    def texts(self, stream: str | None = None) -> list[str]:
        return [text for _, s, text in self.lines if stream in (None, s)]


@pytest.fixture
def gone():
    return process_gone


@pytest.fixture
def collected() -> Collected:
    return Collected()


# --- a fake master: a real python-socketio server under uvicorn ---------------------------



def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self):  # leave pytest's signal handlers alone
        yield


class OlderNamespace(socketio.AsyncNamespace):
    """What a real master is (a class-based namespace), for the events the fake has no handler
    for: python-socketio acknowledges each with no arguments, as an older master does job:ran."""

    def __init__(self, unhandled: list[tuple[str, object]]) -> None:
        super().__init__(NS)
        self.unhandled = unhandled

    async def trigger_event(self, event, *args):
        if event != "disconnect":
            self.unhandled.append((event, args[1] if len(args) > 1 else None))
        return await super().trigger_event(event, *args)


def classic(event: str, data: dict) -> list[tuple[str, dict]]:
    """A job:ran as the job:started, job:log (if it has lines) and job:finished it stands for."""
    if event != names.EV_JOB_RAN:
        return [(event, data)]
    ref = {"job_id": data["job_id"], "attempt": data["attempt"]}
    story = [(names.EV_JOB_STARTED, {**ref, "pid": data["pid"]})]
    if data["lines"]:
        story.append((names.EV_JOB_LOG, {**ref, "lines": data["lines"]}))
    story.append((names.EV_JOB_FINISHED, {k: data[k] for k in JobFinished.model_fields}))
    return story


class FakeMaster:
    def __init__(self, port: int, api_key: str = "good-key", knows_ran: bool = True) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.api_key = api_key
        self.connects: list[tuple[float, dict]] = []  # every connection attempt
        self.received: list[tuple[str, dict]] = []  # events that carry an ack
        self.unhandled: list[tuple[str, object]] = []  # events without a handler (acked empty)
        self.heartbeats: list[dict] = []
        self.sid: str | None = None
        self.hold_first_log = False  # True: the first job:log is never acknowledged
        self._held = asyncio.Event()
        self.changed = asyncio.Event()
        self.sio = socketio.AsyncServer(async_mode="asgi")
        self.sio.on("connect", self._connect, namespace=NS)
        known = [names.EV_JOB_STARTED, names.EV_JOB_LOG, names.EV_JOB_FINISHED]
        if knows_ran:  # False: an older master, without a job:ran handler
            known.append(names.EV_JOB_RAN)
        for event in known:
            self.sio.on(event, self._event(event), namespace=NS)
        self.sio.register_namespace(OlderNamespace(self.unhandled))
        self.sio.on(names.EV_HEARTBEAT, self._heartbeat, namespace=NS)
        self._server: QuietServer | None = None
        self._task: asyncio.Task | None = None

    async def _connect(self, sid, environ, auth):
        self.connects.append((time.monotonic(), auth))
        self._notify()
        if not isinstance(auth, dict) or auth.get("api_key") != self.api_key:
            raise socketio.exceptions.ConnectionRefusedError("invalid api key")
        self.sid = sid

    def _event(self, event):
        async def handler(sid, data):
            self.received.append((event, data))
            self._notify()
            if event == names.EV_JOB_LOG and self.hold_first_log:
                self.hold_first_log = False
                # Cut the worker off while this call waits for its ack: the ack is lost.
                await self.sio.disconnect(sid, namespace=NS)
                await self._held.wait()
            return EventAck(ok=True).model_dump()

        return handler

    async def _heartbeat(self, sid, data):
        self.heartbeats.append(data)
        self._notify()

    def _notify(self):
        self.changed.set()

    async def wait_for(self, predicate, timeout: float = 5.0):
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("fake master: condition not reached in time")
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), min(remaining, 0.1))

    def events(self, name: str) -> list[dict]:
        """The events of that name as they came over the wire."""
        return [data for event, data in self.received if event == name]

    def story(self) -> list[tuple[str, dict]]:
        """What the master was told, whichever way: each job:ran as started, log, finished."""
        return [told for event, data in self.received for told in classic(event, data)]

    def reported(self, name: str) -> list[dict]:
        """`events`, with each job:ran counted as the started, log and finished it stands for."""
        return [data for event, data in self.story() if event == name]

    async def assign(self, **payload) -> dict:
        payload.setdefault("tenant_id", "t1")
        payload.setdefault("attempt", 1)
        return await self.sio.call(names.EV_JOB_ASSIGN, payload, to=self.sid, namespace=NS, timeout=5)

    async def start(self) -> None:
        app = socketio.ASGIApp(self.sio)
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self._server = QuietServer(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self._held.set()
        if self._server is not None:
            self._server.should_exit = True
            await self._task


@pytest.fixture
async def master_factory():
    """Factory: FakeMaster(port) started now, stopped at the end of the test."""
    started: list[FakeMaster] = []

    async def start(port: int | None = None, **options) -> FakeMaster:
        fake = FakeMaster(port or free_port(), **options)
        await fake.start()
        started.append(fake)
        return fake

    yield start
    for fake in started:
        await fake.stop()


@pytest.fixture
async def master(master_factory):
    return await master_factory()


@pytest.fixture
def port():
    return free_port()
