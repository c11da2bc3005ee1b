"""A job's process on the event loop: its two pipes and its exit are plain readers of the loop.

Why not asyncio's subprocess API: its transports, protocols, stream readers and child watcher
cost the worker 0.45 ms of CPU for each `echo` started, read and reaped, against 0.28 ms with
`subprocess.Popen` and plain readers (measured side by side here), and a short job's whole
share of the worker is ~1.2 ms. Why `os.posix_spawn` rather than `Popen`: the same
clone-and-exec without Popen's Python around it (its error pipe, the environment encoded in
Python, a dozen descriptors juggled): 0.23-0.29 -> 0.18-0.20 ms of the worker's CPU per job
started, read and reaped (benchmarks/job_spawn.py, side by side). Every descriptor Python opens is close-on-exec
(PEP 446), so a job inherits only its stdin, stdout and stderr, as with Popen's close_fds; a
pipe that got the number of a standard stream the worker closed is dup2'd onto itself, which
glibc (2.29+) and musl make inheritable, as POSIX asks.
The exit is seen through a pidfd (Linux 5.3+); elsewhere a thread waits for it.
"""

import asyncio
import contextlib
import errno
import logging
import os
import signal
import threading
from collections.abc import Callable

from jobrunner_shared.messages import Stream

log = logging.getLogger(__name__)

READ_CHUNK = 64 * 1024

# What the process wrote to a stream; None once the stream is closed (no more will come).
OutputSink = Callable[[Stream, bytes | None], None]

_devnull: int | None = None


def _stdin() -> int:
    """/dev/null, opened once: every job's standard input (subprocess would open it per job)."""
    global _devnull
    if _devnull is None:
        _devnull = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    return _devnull


# Reset to their defaults in the job, as subprocess does: Python ignores SIGPIPE for itself.
_DEFAULT_SIGNALS = [signal.SIGPIPE, signal.SIGXFSZ]


def _executable(name: str, env: dict[str, str]) -> str:
    """The file to run: `name` itself when it has a slash, else the first executable of that
    name on the job's own PATH, as execvp finds it (FileNotFoundError, or PermissionError when
    only files that may not be run were found)."""
    if os.sep in name:
        return name
    denied = False
    for directory in os.get_exec_path(env):
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            if os.access(path, os.X_OK):
                return path
            denied = True
    code = errno.EACCES if denied else errno.ENOENT
    raise OSError(code, os.strerror(code), name)


class Process:
    """Started at construction in a session of its own (its own process group), with stdin on
    /dev/null; raises OSError when it cannot start."""

    def __init__(self, args: list[str], env: dict[str, str], on_output: OutputSink) -> None:
        executable = _executable(args[0], env)
        out_read, out_write = os.pipe()  # close-on-exec, as every descriptor here
        err_read, err_write = os.pipe()
        try:
            self.pid = os.posix_spawn(
                executable, args, env,
                file_actions=[(os.POSIX_SPAWN_DUP2, _stdin(), 0),
                              (os.POSIX_SPAWN_DUP2, out_write, 1),
                              (os.POSIX_SPAWN_DUP2, err_write, 2)],
                setsid=True, setsigdef=_DEFAULT_SIGNALS)
        except BaseException:
            os.close(out_read)
            os.close(err_read)
            raise
        finally:
            os.close(out_write)
            os.close(err_write)
        # The exit status once reaped: the code, or -N for a signal (as subprocess has it).
        self.returncode: int | None = None
        self._loop = asyncio.get_running_loop()
        self._on_output = on_output
        self._pipes: dict[int, Stream] = {}
        self._drained = self._loop.create_future()
        self._exited = self._loop.create_future()
        for stream, fd in (("stdout", out_read), ("stderr", err_read)):
            os.set_blocking(fd, False)
            self._pipes[fd] = stream
            self._loop.add_reader(fd, self._read, fd)
        self._watch_exit()

    async def wait(self) -> int:
        if self._exited.done():
            return self._exited.result()
        return await asyncio.shield(self._exited)

    def on_exit(self, callback: Callable[[object], None]) -> None:
        """Call `callback` once the process has exited and been reaped (at once if it has)."""
        self._exited.add_done_callback(callback)

    async def drained(self, timeout: float) -> bool:
        """Whether both pipes reached their end (every process holding them is gone) within
        `timeout` seconds."""
        if self._drained.done():
            return True
        try:
            await asyncio.wait_for(asyncio.shield(self._drained), timeout)
        except TimeoutError:
            return False
        return True

    def close_pipes(self) -> None:
        """Stop reading: what is still open is closed, its sink told so."""
        for fd in list(self._pipes):
            self._close(fd)

    def _read(self, fd: int) -> None:
        stream = self._pipes[fd]
        try:
            data = os.read(fd, READ_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            log.warning("reading the %s of process %s failed: %r", stream, self.pid, exc)
            data = b""
        if not data:
            self._close(fd)
            return
        try:
            self._on_output(stream, data)
        except Exception:
            # As a reading task dying would: this pipe is no longer read, the job goes on.
            log.exception("handling the %s of process %s failed", stream, self.pid)
            self._close(fd)

    def _close(self, fd: int) -> None:
        stream = self._pipes.pop(fd)
        self._loop.remove_reader(fd)
        os.close(fd)
        try:
            self._on_output(stream, None)
        except Exception:
            log.exception("ending the %s of process %s failed", stream, self.pid)
        if not self._pipes and not self._drained.done():
            self._drained.set_result(None)

    def _reap(self) -> None:
        try:
            _, status = os.waitpid(self.pid, 0)
            self.returncode = os.waitstatus_to_exitcode(status)
        except ChildProcessError:
            # Reaped by someone else (SIGCHLD ignored): its status is lost; 0, as subprocess.
            self.returncode = 0
        if not self._exited.done():
            self._exited.set_result(self.returncode)

    def _watch_exit(self) -> None:
        try:
            pidfd = os.pidfd_open(self.pid)
        except (AttributeError, OSError):
            # No pidfd here (not Linux, or before 5.3): a thread waits for the exit instead.
            def wait() -> None:
                # Waits for the exit without reaping: the loop reaps it (_reap).
                with contextlib.suppress(ChildProcessError):
                    os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOWAIT)
                self._loop.call_soon_threadsafe(self._reap)

            threading.Thread(target=wait, name=f"wait-{self.pid}", daemon=True).start()
            return

        def exited() -> None:
            self._loop.remove_reader(pidfd)
            os.close(pidfd)
            self._reap()  # exited already: at once

        self._loop.add_reader(pidfd, exited)
