"""process.Process: a job's process whose pipes and exit the event loop watches."""

import asyncio
import os

import pytest

from jobrunner_worker import process
from jobrunner_worker.process import Process


def open_fds() -> set[str]:
    """This process's open descriptors, but the /dev/null every job's stdin shares."""
    return set(os.listdir("/proc/self/fd")) - {str(process._stdin())}


class Sink:
    def __init__(self) -> None:
        self.data: dict[str, bytes] = {"stdout": b"", "stderr": b""}
        self.closed: list[str] = []

    def __call__(self, stream: str, data: bytes | None) -> None:
        if data is None:
            self.closed.append(stream)
        else:
            assert stream not in self.closed, "output after the end of its stream"
            self.data[stream] += data


async def test_both_streams_are_read_to_their_end_and_the_exit_code_is_kept() -> None:
    sink = Sink()
    before = open_fds()
    proc = Process(["/bin/sh", "-c", "echo out; echo err >&2; head -c 200000 /dev/zero; exit 3"],
                   dict(os.environ), sink)
    assert await proc.wait() == 3 and proc.returncode == 3
    assert await proc.drained(5)
    assert sink.data["stdout"] == b"out\n" + b"\0" * 200000
    assert sink.data["stderr"] == b"err\n"
    assert sorted(sink.closed) == ["stderr", "stdout"]
    assert open_fds() == before  # the pipes and the pidfd are closed


async def test_its_stdin_is_empty_and_its_session_is_its_own() -> None:
    sink = Sink()
    proc = Process(["/bin/sh", "-c", "cat; ps -o sid= -p $$"], dict(os.environ), sink)
    await proc.wait()
    await proc.drained(5)
    assert int(sink.data["stdout"]) == proc.pid  # the session leader: a group of its own


async def test_a_signal_is_a_negative_returncode() -> None:
    proc = Process(["/bin/sh", "-c", "kill -TERM $$"], dict(os.environ), Sink())
    assert await proc.wait() == -15


async def test_pipes_held_by_a_child_that_lives_on_are_not_drained_until_closed() -> None:
    # Given a process that exits and leaves a child holding its stdout
    sink = Sink()
    proc = Process(["/bin/sh", "-c", "echo first; sleep 30 & exit 0"], dict(os.environ), sink)
    assert await proc.wait() == 0
    try:
        # Then the pipes do not end while the child lives
        assert not await proc.drained(0.3)
        assert sink.data["stdout"] == b"first\n"
        # And closing them ends both streams at once
        proc.close_pipes()
        assert sorted(sink.closed) == ["stderr", "stdout"] and await proc.drained(0)
    finally:
        os.killpg(proc.pid, 9)


async def test_a_command_that_cannot_start_raises_and_leaves_nothing_open() -> None:
    before = open_fds()
    with pytest.raises(FileNotFoundError):
        Process(["/no/such/command"], dict(os.environ), Sink())
    with pytest.raises(PermissionError):
        Process(["/dev/null"], dict(os.environ), Sink())
    assert open_fds() == before


async def test_a_sink_that_fails_stops_that_stream_only() -> None:
    seen: list[tuple[str, bytes | None]] = []

    def sink(stream: str, data: bytes | None) -> None:
        seen.append((stream, data))
        if stream == "stdout" and data is not None:
            raise RuntimeError("a bug in the sink")

    proc = Process(["/bin/sh", "-c", "echo out; echo err >&2"], dict(os.environ), sink)
    assert await proc.wait() == 0
    assert await proc.drained(5)
    assert ("stderr", b"err\n") in seen
    assert seen.count(("stdout", None)) == 1 and seen.count(("stderr", None)) == 1


async def test_without_a_pidfd_a_thread_sees_the_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "pidfd_open")
    sink = Sink()
    proc = Process(["/bin/sh", "-c", "echo hi; exit 4"], dict(os.environ), sink)
    assert await asyncio.wait_for(proc.wait(), 10) == 4
    assert await proc.drained(5) and sink.data["stdout"] == b"hi\n"
