"""ManagedProcess starts a service, waits until it answers, and always stops it."""

import os
import signal
import sys
import time

import pytest

from tests.support import ManagedProcess, ProcessFailed, free_port


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    with open(f"/proc/{pid}/stat") as stat:  # a zombie waiting for its reaper is gone too
        return stat.read().rsplit(")", 1)[1].split()[0] == "Z"


def test_waits_for_http_and_stops_the_server() -> None:
    port = free_port()
    server = ManagedProcess(
        "http-server",
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        ready_url=f"http://127.0.0.1:{port}/",
    )
    with server:
        assert server.alive
        pid = server.pid
    assert gone(pid)
    assert "GET / HTTP" in server.output()  # the readiness probe is in its captured log


async def test_async_start_waits_for_a_tcp_port() -> None:
    port = free_port()
    async with ManagedProcess(
        "tcp-server",
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        ready_port=port,
    ) as server:
        assert server.alive
    assert not server.alive


def test_a_process_that_exits_early_fails_with_its_output() -> None:
    crashing = ManagedProcess(
        "crashing",
        [sys.executable, "-c", "import sys; print('boom: bad setting'); sys.exit(3)"],
        ready_port=free_port(),
    )
    with pytest.raises(ProcessFailed, match="boom: bad setting"):
        with crashing:
            pass
    assert crashing.returncode == 3


def test_sigkill_after_the_stop_timeout_reaches_the_children() -> None:
    # Given a process that ignores SIGTERM and has a child doing the same
    script = (
        "import signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "child = subprocess.Popen([sys.executable, '-c', "
        "'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)'])\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    stubborn = ManagedProcess("stubborn", [sys.executable, "-c", script], stop_timeout=0.5)
    stubborn.start()
    deadline = time.monotonic() + 10
    while not stubborn.output().strip() and time.monotonic() < deadline:
        time.sleep(0.05)
    child_pid = int(stubborn.output().split()[0])

    # When it is stopped
    started = time.monotonic()
    code = stubborn.stop()

    # Then both are killed soon after the timeout
    assert code == -signal.SIGKILL
    assert time.monotonic() - started < 5
    deadline = time.monotonic() + 5
    while not gone(child_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(child_pid)
