"""Start a service process for a test, wait until it answers, stop it for sure afterwards.

    with ManagedProcess("api", [".venv/bin/jobrunner-api"], env={"PORT": str(port)},
                        ready_url=f"http://127.0.0.1:{port}/healthz") as api:
        ...
    # or, in async tests:  async with ManagedProcess(...) as api:

Output (stdout and stderr together) goes to .data/test-logs/<name>-<pytest pid>-<n>.log; a process that
exits before it is ready raises `ProcessFailed` with the tail of that log.
"""

from __future__ import annotations

import asyncio
import ctypes
import itertools
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.support.paths import DATA_DIR

TEST_LOG_DIR = DATA_DIR / "test-logs"
_PR_SET_PDEATHSIG = 1
_serial = itertools.count(1)


class ProcessFailed(RuntimeError):
    pass


def _die_with_parent() -> None:
    # Why: a test run killed hard (CI timeout, SIGKILL) must not leave services behind.
    # Only safe because Popen is always called from the thread that outlives the child.
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


class ManagedProcess:
    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        inherit_env: bool = True,
        cwd: str | os.PathLike[str] | None = None,
        ready_url: str | None = None,
        ready_port: int | None = None,
        ready_timeout: float = 30.0,
        stop_timeout: float = 10.0,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = {**(os.environ if inherit_env else {}), **(env or {})}
        self.cwd = cwd
        self.ready_url = ready_url
        self.ready_port = ready_port
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path: Path | None = None

    # --- lifecycle -----------------------------------------------------------------------
    def spawn(self) -> ManagedProcess:
        """Start the process without waiting for it to be ready."""
        if self.proc is not None:
            raise RuntimeError(f"{self.name} already started")
        TEST_LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.log_path = TEST_LOG_DIR / f"{self.name}-{os.getpid()}-{next(_serial)}.log"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() reaches its children
                preexec_fn=_die_with_parent,
            )
        return self

    def start(self) -> ManagedProcess:
        self.spawn()
        deadline = time.monotonic() + self.ready_timeout
        while not self._ready():
            self._check_waiting(deadline)
            time.sleep(0.1)
        return self

    async def astart(self) -> ManagedProcess:
        self.spawn()
        deadline = time.monotonic() + self.ready_timeout
        while not await asyncio.to_thread(self._ready):
            self._check_waiting(deadline)
            await asyncio.sleep(0.1)
        return self

    def stop(self) -> int | None:
        """SIGTERM to the process group, SIGKILL after stop_timeout. Returns the exit code."""
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                proc.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                proc.wait()
        # Children that ignored SIGTERM after their leader exited.
        self._signal(signal.SIGKILL)
        return proc.returncode

    async def astop(self) -> int | None:
        return await asyncio.to_thread(self.stop)

    def __enter__(self) -> ManagedProcess:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> ManagedProcess:
        try:
            return await self.astart()
        except BaseException:
            await self.astop()
            raise

    async def __aexit__(self, *exc: object) -> None:
        await self.astop()

    # --- state and output ----------------------------------------------------------------
    @property
    def pid(self) -> int:
        assert self.proc is not None, "not started"
        return self.proc.pid

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def output(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    # --- internals -----------------------------------------------------------------------
    def _signal(self, sig: signal.Signals) -> None:
        try:
            os.killpg(self.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def _check_waiting(self, deadline: float) -> None:
        if not self.alive:
            raise ProcessFailed(
                f"{self.name} exited with {self.returncode} before it was ready; "
                f"log {self.log_path}:\n{self.tail()}"
            )
        if time.monotonic() > deadline:
            self.stop()
            raise ProcessFailed(
                f"{self.name} was not ready within {self.ready_timeout}s; "
                f"log {self.log_path}:\n{self.tail()}"
            )

    def _ready(self) -> bool:
        if self.ready_url is not None:
            return http_ok(self.ready_url)
        if self.ready_port is not None:
            return tcp_open(self.ready_port)
        return True


def http_ok(url: str, timeout: float = 1.0) -> bool:
    """True when GET url answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def tcp_open(port: int, host: str = "127.0.0.1", timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
