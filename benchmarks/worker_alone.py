"""The worker's own CPU per job, measured alone: a fake master keeps one real worker busy.

The fake master is python-socketio under uvicorn, as the master is, with the same packet
serializer; it keeps `capacity` `echo hello` jobs assigned to one `jobrunner-worker` process and
acknowledges each report at once (no RabbitMQ, no database); the worker's log goes to
.data/test-logs/. Each round prints the worker's CPU per job (user + system), its jobs' shells'
own, the fake master's, and the jobs per second.
The shells' CPU follows the machine's speed: compare the worker's against it when comparing runs.

    .venv/bin/python benchmarks/worker_alone.py [--jobs N] [--rounds R] [--capacity C] [NAME=VALUE ...]

NAME=VALUE pairs are given to the worker's environment.
"""

import argparse
import asyncio
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import psutil
import socketio
import uvicorn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from jobrunner_master.secrets import worker_payload  # noqa: E402
from jobrunner_shared import names, sio_packet  # noqa: E402
from jobrunner_shared.messages import JobAssignment  # noqa: E402
from tests.support.ports import free_port  # noqa: E402
from tests.support.process import ManagedProcess  # noqa: E402

WORKER = ROOT / ".venv" / "bin" / "jobrunner-worker"
OK = {"ok": True}


class FakeMaster(socketio.AsyncNamespace):
    """Assigns jobs to the one worker connected, `capacity` at a time, until `left` is 0."""

    def __init__(self, sio: socketio.AsyncServer, capacity: int) -> None:
        super().__init__(names.WORKERS_NAMESPACE)
        self.sio = sio
        self.capacity = capacity
        self.sid: str | None = None
        self.connected = asyncio.Event()
        self.left = 0
        self.running = 0
        self.done = asyncio.Event()

    async def trigger_event(self, event: str, *args: Any) -> Any:
        return await super().trigger_event(event.replace(":", "_"), *args)

    async def on_connect(self, sid: str, environ: dict, auth: Any = None) -> None:
        self.sid = sid
        self.connected.set()

    async def on_heartbeat(self, sid: str, data: Any) -> dict:
        return OK

    async def on_job_started(self, sid: str, data: Any) -> dict:
        return OK

    async def on_job_log(self, sid: str, data: Any) -> dict:
        return OK

    async def on_job_finished(self, sid: str, data: Any) -> dict:
        self._ended()
        return OK

    async def on_job_ran(self, sid: str, data: Any) -> dict:
        self._ended()
        return OK

    def start(self, jobs: int) -> None:
        self.left, self.done = jobs, asyncio.Event()
        self._assign()

    def _ended(self) -> None:
        self.running -= 1
        if self.left == 0 and self.running == 0:
            self.done.set()
        self._assign()

    def _assign(self) -> None:
        while self.left > 0 and self.running < self.capacity:
            self.left -= 1
            self.running += 1
            job = JobAssignment(job_id=uuid.uuid4().hex[:24], tenant_id="bench", attempt=1,
                                command="echo hello")
            asyncio.get_running_loop().create_task(
                self.sio.call(names.EV_JOB_ASSIGN, worker_payload(job), to=self.sid,
                              namespace=names.WORKERS_NAMESPACE, timeout=30))


def cpu(process: psutil.Process) -> tuple[float, float]:
    times = process.cpu_times()
    return times.user + times.system, times.children_user + times.children_system


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--capacity", type=int, default=4)
    parser.add_argument("env", nargs="*", help="NAME=VALUE for the worker's environment")
    args = parser.parse_args()

    sio = socketio.AsyncServer(async_mode="asgi", logger=False, engineio_logger=False,
                               serializer=sio_packet.Packet)
    master = FakeMaster(sio, args.capacity)
    sio.register_namespace(master)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(socketio.ASGIApp(sio), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    serving = asyncio.create_task(server.serve())
    worker = ManagedProcess("worker-alone", [str(WORKER)], env={
        "MASTER_URL": f"http://127.0.0.1:{port}", "API_KEY": "bench",
        "WORKER_CAPACITY": str(args.capacity), "WORKER_NAME": "worker-alone",
        "HEARTBEAT_INTERVAL": "5", **dict(pair.split("=", 1) for pair in args.env)}).spawn()
    try:
        await asyncio.wait_for(master.connected.wait(), 30)
        measured, me = psutil.Process(worker.pid), psutil.Process()
        for n in range(args.rounds + 1):  # round 0 warms up, unreported
            (own, shells), (fake, _) = cpu(measured), cpu(me)
            started = time.perf_counter()
            master.start(args.jobs)
            await master.done.wait()
            seconds = time.perf_counter() - started
            (own_after, shells_after), (fake_after, _) = cpu(measured), cpu(me)
            if n:
                per_job = [round((b - a) / args.jobs * 1e6)
                           for a, b in ((own, own_after), (shells, shells_after),
                                        (fake, fake_after))]
                print(f"round {n}: worker {per_job[0]} µs/job (its shells {per_job[1]}), "
                      f"fake master {per_job[2]}, {args.jobs / seconds:.0f} jobs/s", flush=True)
    finally:
        worker.stop()
        server.should_exit = True
        await serving


if __name__ == "__main__":
    asyncio.run(main())
