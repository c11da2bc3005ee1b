"""The worker's own CPU to start a job, read its output and reap it, measured alone.

Runs `sh -c 'echo hello'` N times, four at a time (the bench worker's capacity), through the
worker's `Process` (os.posix_spawn, the pipes and the exit as readers of the event loop), and
for comparison through `subprocess.Popen` with the same readers (what `Process` used before).
Prints the worker's CPU per job (user + system) and the jobs' own (the shells), each round.

    .venv/bin/python benchmarks/job_spawn.py [--jobs N] [--rounds R]
"""

import argparse
import asyncio
import os
import resource
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from jobrunner_worker import process  # noqa: E402
from jobrunner_worker.process import Process  # noqa: E402
from jobrunner_worker.runner import base_environment  # noqa: E402

ARGS = ["/bin/sh", "-c", "echo hello"]


class PopenProcess(Process):
    """Process as it was: subprocess.Popen, its pipes read and its exit seen the same way."""

    def __init__(self, args: list[str], env: dict[str, str], on_output: process.OutputSink,
                 ) -> None:
        popen = subprocess.Popen(args, stdin=process._stdin(), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, env=env, start_new_session=True)
        self.pid, self.returncode, self._popen = popen.pid, None, popen
        self._loop = asyncio.get_running_loop()
        self._on_output = on_output
        self._pipes = {}
        self._files = {}
        self._drained = self._loop.create_future()
        self._exited = self._loop.create_future()
        for stream, pipe in (("stdout", popen.stdout), ("stderr", popen.stderr)):
            fd = pipe.fileno()
            os.set_blocking(fd, False)
            self._pipes[fd], self._files[fd] = stream, pipe
            self._loop.add_reader(fd, self._read, fd)
        self._watch_exit()

    def _close(self, fd: int) -> None:
        stream = self._pipes.pop(fd)
        self._loop.remove_reader(fd)
        self._files.pop(fd).close()
        self._on_output(stream, None)
        if not self._pipes and not self._drained.done():
            self._drained.set_result(None)

    def _reap(self) -> None:
        self.returncode = self._popen.wait()
        if not self._exited.done():
            self._exited.set_result(self.returncode)


async def run(cls: type[Process], jobs: int) -> None:
    env = base_environment()
    slots = asyncio.Semaphore(4)

    async def one() -> None:
        async with slots:
            proc = cls(ARGS, dict(env), lambda stream, data: None)
            await proc.wait()
            await proc.drained(2)

    await asyncio.gather(*(one() for _ in range(jobs)))


def cpu() -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for n in range(1, args.rounds + 1):
        for name, cls in (("posix_spawn (Process)", Process), ("subprocess.Popen", PopenProcess)):
            own, shells = cpu()
            asyncio.run(run(cls, args.jobs))
            own_after, shells_after = cpu()
            print(f"round {n}, {name:22} worker {(own_after - own) / args.jobs * 1e6:4.0f} µs/job,"
                  f" the jobs' shells {(shells_after - shells) / args.jobs * 1e6:4.0f} µs/job",
                  flush=True)


if __name__ == "__main__":
    main()
