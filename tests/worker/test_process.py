"""process.Process: a job's process whose pipes and exit the event loop watches."""

import asyncio
import os

import pytest

from jobrunner_worker import process
from jobrunner_worker.process import Process


def open_fds() -> set[str]:
    """This process's open descriptors, but the /dev/null every job's stdin shares (opened
    before the listing, which would otherwise count its own descriptor under that number)."""
    devnull = str(process._stdin())
    return set(os.listdir("/proc/self/fd")) - {devnull}


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


async def test_a_program_without_a_slash_is_found_on_the_jobs_own_path(tmp_path) -> None:
    # Given a program only the job's PATH leads to, behind a file of that name that may not be
    # run, and another program that is only there in a form that may not be run
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    (first / "hello-job").write_text("#!/bin/sh\necho wrong\n")
    program = second / "hello-job"
    program.write_text("#!/bin/sh\necho found\n")
    program.chmod(0o755)
    (first / "not-runnable").write_text("#!/bin/sh\n")
    env = {**os.environ, "PATH": f"/no/such/dir:{first}:{second}"}
    # Then it runs, found where execvp would find it
    sink = Sink()
    proc = Process(["hello-job"], env, sink)
    assert await proc.wait() == 0 and await proc.drained(5)
    assert sink.data["stdout"] == b"found\n"
    # And what is not there, or may not be run, fails to start as execvp would
    with pytest.raises(FileNotFoundError):
        Process(["hello-job"], dict(os.environ), Sink())
    with pytest.raises(PermissionError):
        Process(["not-runnable"], env, Sink())


async def test_sigpipe_is_back_to_its_default_in_the_job() -> None:
    # Python ignores SIGPIPE; a job must not inherit that, or `yes | head` never ends cleanly
    sink = Sink()
    proc = Process(["/bin/sh", "-c", "yes | head -n 1"], dict(os.environ), sink)
    assert await asyncio.wait_for(proc.wait(), 10) == 0 and await proc.drained(5)
    assert (sink.data["stdout"], sink.data["stderr"]) == (b"y\n", b"")


async def test_a_worker_whose_stdout_is_closed_still_gives_jobs_theirs() -> None:
    # Given the worker's own fds 0 and 1 closed, so that a job's stdout pipe takes (0, 1)
    process._stdin()
    saved = [os.dup(0), os.dup(1)]
    os.close(0)
    os.close(1)
    try:
        sink = Sink()
        proc = Process(["/bin/sh", "-c", "echo out"], dict(os.environ), sink)
        assert await proc.wait() == 0 and await proc.drained(5)
    finally:
        for fd, copy in enumerate(saved):
            os.dup2(copy, fd)
            os.close(copy)
    # Then the job's stdout was its pipe all the same
    assert sink.data["stdout"] == b"out\n"
