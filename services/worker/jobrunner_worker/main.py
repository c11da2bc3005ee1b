"""`jobrunner-worker`: run a worker until it is drained (SIGTERM/SIGINT drain, twice = stop).

Exit status: 0 stopped (drained, or signalled); 1 `--healthcheck` found it unhealthy; 2 bad
settings or arguments, or WORKER_HEALTH_PORT cannot be listened on; 3 the master refused the
key WORKER_MAX_REFUSALS times in a row.
"""

import argparse
import asyncio
import logging
import os
import signal
import sys
import textwrap
import urllib.error
import urllib.request
from importlib.metadata import PackageNotFoundError, version

try:
    import uvloop
except ImportError:  # none for this platform (Windows, Cygwin, PyPy): asyncio's own loop
    uvloop = None
from jobrunner_shared import gctuning
from jobrunner_shared import logging as log_setup
from pydantic_settings import BaseSettings

from .health import HealthServer, WorkerMonitor
from .session import WorkerSession
from .settings import SettingsError, WorkerSettings, load_settings, settings_help

log = logging.getLogger("jobrunner_worker")

STOPPED, UNHEALTHY, BAD_SETTINGS, KEY_REFUSED = 0, 1, 2, 3


def package_version() -> str:
    try:
        return version("jobrunner-worker")
    except PackageNotFoundError:
        return "0+unknown"


def configure_logging() -> None:
    # Environment variables, not settings: logging is set up before the settings are read.
    log_setup.configure(os.environ.get("LOG_FORMAT", "text"), os.environ.get("LOG_LEVEL", "INFO"))


async def serve(settings: WorkerSettings) -> int:
    loop = asyncio.get_running_loop()
    session = WorkerSession(settings, version=package_version())
    health: HealthServer | None = None
    if settings.worker_health_port:
        monitor = WorkerMonitor(session, settings.worker_health_grace_seconds)
        health = HealthServer(monitor, settings.worker_health_host, settings.worker_health_port)
        try:
            await health.start()
        except OSError as exc:
            print(f"jobrunner-worker: cannot serve health on {settings.worker_health_host}:"
                  f"{settings.worker_health_port}: {exc.strerror or exc}", file=sys.stderr)
            return BAD_SETTINGS
    signals = 0
    gctuning.settle_after_startup()  # per job: many short-lived objects (events, lines, calls)

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
        if health is not None:
            await health.stop()
    if session.refused:
        print(f"jobrunner-worker: {session.refused}", file=sys.stderr)
        return KEY_REFUSED
    return STOPPED


class HealthProbeSettings(BaseSettings):
    """What --healthcheck needs: only where the running worker listens (no API_KEY)."""

    model_config = WorkerSettings.model_config
    worker_health_port: int = 0
    worker_health_host: str = "0.0.0.0"


def healthcheck() -> int:
    """Ask the running worker's /healthz (for a container's HEALTHCHECK): 0 healthy, else 1."""
    try:
        probe = HealthProbeSettings()
    except ValueError as exc:
        print(f"jobrunner-worker: {exc}", file=sys.stderr)
        return UNHEALTHY
    if not probe.worker_health_port:
        print("jobrunner-worker: WORKER_HEALTH_PORT is not set: no health endpoint to ask",
              file=sys.stderr)
        return UNHEALTHY
    host = probe.worker_health_host
    host = "127.0.0.1" if host in ("0.0.0.0", "", "*") else "::1" if host == "::" else host
    url = f"http://{'[' + host + ']' if ':' in host else host}:{probe.worker_health_port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            print(response.read().decode())
            return STOPPED
    except urllib.error.HTTPError as exc:
        print(exc.read().decode() or f"HTTP {exc.code}")
    except OSError as exc:
        print(f"jobrunner-worker: {url}: {getattr(exc, 'reason', exc)}", file=sys.stderr)
    return UNHEALTHY


def help_text() -> str:
    def para(text: str, indent: str = "") -> list[str]:
        return textwrap.wrap(text, width=79, initial_indent=indent, subsequent_indent=indent)

    lines = [
        "usage: jobrunner-worker [--help] [--version] [--healthcheck]", "",
        *para("Runs jobs of a jobrunner platform on this host: connects out to the master with "
              "a worker key, runs the jobs it is given (at most WORKER_CAPACITY at once) and "
              "streams their output back. SIGTERM or SIGINT drains it (running jobs finish, no "
              "new ones start); a second one cancels what runs."),
        "", "options:",
        "  --help         show this help and exit",
        "  --version      print the version and exit",
        "  --healthcheck  ask the running worker's /healthz (WORKER_HEALTH_PORT): exit 0 when",
        "                 healthy, 1 when not (for a container's HEALTHCHECK)",
        "", "settings (environment variables, or a .env file in the working directory):",
    ]
    for name, default, meaning in settings_help():
        lines.append(f"  {name}")
        lines += para(f"{meaning} ({default if default == 'required' else 'default: ' + default})",
                      " " * 6)
    lines += ["", *para("exit status: 0 stopped (drained or signalled); 1 unhealthy "
                        "(--healthcheck); 2 bad settings or arguments; 3 the master refused the "
                        "key WORKER_MAX_REFUSALS times in a row")]
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="jobrunner-worker", add_help=False)
    parser.add_argument("--help", "-h", action="store_true")
    parser.add_argument("--version", action="store_true")
    parser.add_argument("--healthcheck", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)  # exits 2 with a usage line on an unknown argument
    if args.help:
        print(help_text())
        return STOPPED
    if args.version:
        print(f"jobrunner-worker {package_version()}")
        return STOPPED
    if args.healthcheck:
        return healthcheck()
    try:
        configure_logging()
    except ValueError as exc:  # an unknown LOG_FORMAT or LOG_LEVEL
        print(f"jobrunner-worker: {exc}", file=sys.stderr)
        return BAD_SETTINGS
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"jobrunner-worker: {exc}", file=sys.stderr)
        return BAD_SETTINGS
    # Why uvloop: the worker's share of a short job is mostly the event loop's own work (its
    # Socket.IO messages, the job's pipes and exit); uvloop does it for ~9 % less of the
    # worker's CPU per job (benchmarks/worker_alone.py, side by side).
    run = uvloop.run if uvloop is not None else asyncio.run
    return run(serve(settings))


if __name__ == "__main__":
    sys.exit(main())
