"""Runs one attempt of a job as a process group and reports its output line by line.

Exit codes: a process that exits normally reports its own code; a process killed by signal N
reports 128 + N, what `$?` shows in a shell (asyncio's raw returncode would be -N). A command
that cannot start reports 127 (not found) or 126 (found but not executable), like a shell.
When the attempt ends, whatever is left of its process group is terminated as well.
"""

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from jobrunner_shared.messages import AttemptOutcome, Stream
from jobrunner_worker.process import Process

log = logging.getLogger(__name__)

# After the main process exits, how long its pipes may stay open (a background child holding
# them) before the rest of the group is terminated.
PIPE_DRAIN_SECONDS = 2.0
# Environment variables of the worker itself that a job must not inherit.
PRIVATE_ENV = ("API_KEY",)

LineSink = Callable[[int, Stream, str], None]


def base_environment() -> dict[str, str]:
    """The worker's environment less what a job must not inherit: what every job starts from."""
    return {k: v for k, v in os.environ.items() if k not in PRIVATE_ENV}


@dataclass(frozen=True)
class Outcome:
    status: AttemptOutcome
    exit_code: int | None = None
    error: str | None = None


def exit_code_of(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


# A run of back-to-back values longer than this is cut anyway: a pipe never grows the buffer
# without bound (output that is nothing but a secret repeated for 1 MiB).
CHAIN_MAX_BYTES = 1024 * 1024


class LineSplitter:
    """Cuts a byte stream into lines: no newline kept, none longer than `max_bytes`.

    A longer line is sent in pieces, cut at a UTF-8 character boundary and never through one
    of `keep_whole` (the values masking looks for: a secret cut in two would pass the mask in
    halves); a piece holding such a value may be longer than `max_bytes` by as much as it.
    """

    def __init__(self, max_bytes: int, emit: Callable[[str], None],
                 keep_whole: Iterable[str] = ()) -> None:
        self.max_bytes = max_bytes
        self.emit = emit
        self.keep_whole = [v.encode() for v in keep_whole if v]
        # Bytes beyond a cut that must have arrived to know that no value runs across it.
        self.reach = max((len(v) for v in self.keep_whole), default=1) - 1
        self.buf = bytearray()

    def feed(self, chunk: bytes) -> None:
        buf = self.buf
        buf += chunk
        start = 0
        while True:
            newline = buf.find(b"\n", start)
            if newline < 0:
                break
            while newline - start > self.max_bytes:
                start = self._emit_piece(start, newline, final=True)
            self.emit(buf[start:newline].decode("utf-8", errors="replace"))
            start = newline + 1
        while len(buf) - start > self.max_bytes + self.reach:
            cut = self._emit_piece(start, len(buf), final=False)
            if cut is None:
                break  # a chain of values runs to what has arrived: wait for its end
            start = cut
        del buf[:start]

    def close(self) -> None:
        """Emit the final line when the stream ended without a newline."""
        end = len(self.buf)
        start = 0
        while end - start > self.max_bytes:
            start = self._emit_piece(start, end, final=True)
        if start < end:
            self.emit(self.buf[start:end].decode("utf-8", errors="replace"))
        self.buf.clear()

    def _emit_piece(self, start: int, end: int, *, final: bool) -> int | None:
        cut = self._cut(start, end, final)
        if cut is not None:
            self.emit(self.buf[start:cut].decode("utf-8", errors="replace"))
        return cut

    def _cut(self, start: int, end: int, final: bool) -> int | None:
        """Where the piece starting at `start` ends: as near `max_bytes` as the rules allow.

        None: not yet known (values chained from `start` run up to `end`, and the stream goes
        on); `final`: nothing comes after `end`.
        """
        buf = self.buf
        limit = start + self.max_bytes
        for cut in range(limit, start, -1):
            if self._boundary(cut) and not self._crossed(start, cut, end):
                return cut
        # Values chained from `start` past the limit (overlapping ones too, "____" for "__"):
        # the piece ends where the chain does, which is known once `reach` bytes follow it.
        cut = limit
        while cut < end:
            if self._boundary(cut) and not self._crossed(start, cut, end):
                return cut if final or cut + self.reach <= end else None
            if cut - start >= CHAIN_MAX_BYTES:
                return cut  # Why: bounded memory; a chain this long is cut (docs: masking)
            cut += 1
        return end if final else None

    def _boundary(self, cut: int) -> bool:
        return (self.buf[cut] & 0xC0) != 0x80  # not inside a UTF-8 character

    def _crossed(self, start: int, cut: int, end: int) -> bool:
        """Whether an occurrence of a value (within what has arrived) runs across `cut`."""
        for value in self.keep_whole:
            first = max(start, cut - len(value) + 1)
            if self.buf.find(value, first, min(end, cut + len(value) - 1)) >= 0:
                return True
        return False


class Runner:
    """One attempt: start the process, read both pipes, enforce timeout and cancel."""

    def __init__(
        self,
        *,
        command: str | None = None,
        argv: list[str] | None = None,
        env: dict[str, str] | None = None,
        timeout_seconds: float | None = None,
        kill_grace_seconds: float = 10.0,
        max_line_bytes: int = 64 * 1024,
        keep_whole: Iterable[str] = (),
        on_line: LineSink,
        on_started: Callable[[int], None] | None = None,
        base_env: dict[str, str] | None = None,
    ) -> None:
        """`base_env`: what the job's `env` adds to (taken once by the worker: reading
        os.environ again for each job was some 3 % of its CPU per short job); None reads it now."""
        if (command is None) == (argv is None) or argv == []:
            raise ValueError("give exactly one of command or a non-empty argv")
        self.args = ["/bin/sh", "-c", command] if command is not None else list(argv or [])
        self.env = env or {}
        self.base_env = base_env
        self.timeout_seconds = timeout_seconds
        self.kill_grace_seconds = kill_grace_seconds
        self.max_line_bytes = max_line_bytes
        self.keep_whole = list(keep_whole)  # what masking looks for: never cut through
        self.on_line = on_line
        self.on_started = on_started
        self.pid: int | None = None
        self._seq = 0
        self._cancelled = False
        self._wake: asyncio.Future[None] | None = None  # run() waits on it: exit, cancel, timeout

    @property
    def last_seq(self) -> int:
        """The seq of the last line reported so far (0: none)."""
        return self._seq

    def cancel(self) -> None:
        self._cancelled = True
        self._wake_up()

    def _wake_up(self, *_: object) -> None:
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    def _line(self, stream: Stream, text: str) -> None:
        # One counter for both pipes: seq is the order in which the worker read the lines.
        self._seq += 1
        self.on_line(self._seq, stream, text)

    def _environment(self) -> dict[str, str]:
        env = dict(self.base_env) if self.base_env is not None else base_environment()
        env.update(self.env)
        return env

    async def run(self) -> Outcome:
        splitters = {
            stream: LineSplitter(self.max_line_bytes,
                                 lambda text, stream=stream: self._line(stream, text),
                                 self.keep_whole)
            for stream in ("stdout", "stderr")
        }

        def output(stream: Stream, data: bytes | None) -> None:
            if data is None:
                splitters[stream].close()
            else:
                splitters[stream].feed(data)

        try:
            proc = Process(self.args, self._environment(), output)
        except OSError as exc:
            code = 127 if isinstance(exc, FileNotFoundError) else 126
            error = f"cannot start {self.args[0]!r}: {exc.strerror or exc}"
            self._line("stderr", error)
            return Outcome("failed", code, error)

        self.pid = proc.pid
        if self.on_started is not None:
            self.on_started(proc.pid)
        # One future woken by whichever comes first (the exit, a cancel, the timeout): a short
        # job costs no task or timer beyond it.
        loop = asyncio.get_running_loop()
        self._wake = loop.create_future()
        proc.on_exit(self._wake_up)
        timer = (loop.call_later(self.timeout_seconds, self._wake_up)
                 if self.timeout_seconds is not None else None)
        try:
            if not self._cancelled:
                await asyncio.shield(self._wake)
            if proc.returncode is not None:
                code = exit_code_of(proc.returncode)
                outcome = Outcome("succeeded" if code == 0 else "failed", code)
            elif self._cancelled:
                outcome = Outcome("cancelled", None, "cancelled")
            else:
                outcome = Outcome("timed_out", None, f"timed out after {self.timeout_seconds} s")
        finally:
            if timer is not None:
                timer.cancel()
            # Shielded: even when the worker itself is being cancelled the group must die.
            await asyncio.shield(self._cleanup(proc))
        return outcome

    async def _cleanup(self, proc: Process) -> None:
        if proc.returncode is None:
            await self._terminate_group(proc.pid)
        else:
            await proc.drained(PIPE_DRAIN_SECONDS)
            if _group_alive(proc.pid):
                await self._terminate_group(proc.pid)
        await proc.wait()
        # Every process holding the pipes is gone now, unless one left the group (setsid).
        if not await proc.drained(PIPE_DRAIN_SECONDS):
            proc.close_pipes()

    async def _terminate_group(self, pgid: int) -> None:
        """TERM to the whole group, a grace period, then KILL."""
        _killpg(pgid, signal.SIGTERM)
        deadline = time.monotonic() + self.kill_grace_seconds
        while time.monotonic() < deadline and _group_alive(pgid):
            await asyncio.sleep(0.05)
        if _group_alive(pgid):
            log.info("process group %s still alive after %ss: killing", pgid, self.kill_grace_seconds)
            _killpg(pgid, signal.SIGKILL)


def _killpg(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _group_alive(pgid: int) -> bool:
    """Whether a live (not zombie) process is left in the group.

    Zombies count for killpg(pgid, 0); where PID 1 does not reap orphans they would linger
    and make every cancel wait the whole grace period, so /proc decides when it exists.
    """
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if not os.path.isdir("/proc"):
        return True
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # fields: state, ppid, pgrp, ...
        if int(fields[2]) == pgid and fields[0] != b"Z":
            return True
    return False
