"""Real RabbitMQ and MongoDB servers for a test session.

Each server comes from, in this order:
1. `RABBITMQ_URL` / `MONGODB_URL` in the environment (`make test` sets them to the local
   services it started; CI may point them anywhere);
2. throwaway containers (testcontainers: `rabbitmq:4-management`, `mongo:7`; TEST_RABBITMQ_IMAGE
   and TEST_MONGODB_IMAGE choose others) when asked with `TEST_USE_DOCKER=1` (a Docker engine
   must answer then);
3. otherwise the local services of scripts/rabbitmq.sh and scripts/mongodb.sh, started when they
   are not running and stopped at the end only when this session started them. The database is
   `mongod` when on PATH, else the mongo-java-server stand-in with its in-memory backend
   (MONGODB_BACKEND=h2 for the file one); see docs/local-database.md.

A session works in its own RabbitMQ vhost and its own database (see tests/conftest.py), so a
running `make dev` on the same servers is left alone.
"""

from __future__ import annotations

import contextlib
import functools
import os
import subprocess
import sys
import urllib.parse
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx

from tests.support.paths import SCRIPTS_DIR

RABBITMQ_IMAGE = os.environ.get("TEST_RABBITMQ_IMAGE", "rabbitmq:4-management")
MONGODB_IMAGE = os.environ.get("TEST_MONGODB_IMAGE", "mongo:7")


# --- choosing where the servers come from -------------------------------------------------
def docker_requested() -> bool:
    """True when TEST_USE_DOCKER=1: the servers come from testcontainers, not the local scripts."""
    return os.environ.get("TEST_USE_DOCKER", "0") == "1"


@functools.cache
def docker_available() -> bool:
    """True when a Docker engine answers within a few seconds (never hangs without one)."""
    if not os.environ.get("DOCKER_HOST") and not os.path.exists("/var/run/docker.sock"):
        return False
    # In a child process: the docker SDK leaks its socket when the engine is away, which
    # pytest (warnings are errors) would report against an unrelated test.
    probe = "import docker; docker.from_env(timeout=3).ping()"
    try:
        return subprocess.run([sys.executable, "-c", probe], capture_output=True, timeout=15).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def use_docker() -> bool:
    if not docker_requested():
        return False
    if not docker_available():
        raise RuntimeError(
            "TEST_USE_DOCKER=1, but no Docker engine answers (DOCKER_HOST or /var/run/docker.sock)")
    return True


@contextlib.contextmanager
def _testcontainers_warnings_ignored() -> Iterator[None]:
    # testcontainers 4.15 warns about its own deprecated internals (at import and while
    # waiting); with warnings as errors that would fail every test for nothing of ours.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def _script(name: str, action: str, *args: str, check: bool = True,
            env: dict[str, str] | None = None) -> int:
    """Runs scripts/<name>.sh ACTION ARGS; raises with its output when it fails and `check`."""
    result = subprocess.run(
        [str(SCRIPTS_DIR / f"{name}.sh"), action, *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )
    if check and result.returncode != 0:
        raise RuntimeError(
            f"scripts/{name}.sh {action} failed ({result.returncode}):\n"
            f"{result.stdout}{result.stderr}"
        )
    return result.returncode


@contextlib.contextmanager
def local_service(name: str, **start_env: str) -> Iterator[None]:
    """scripts/<name>.sh running for the duration (started with `start_env`); stopped after
    only if started here."""
    started = _script(name, "status", check=False) != 0
    if started:
        _script(name, "start", env=start_env)
    try:
        yield
    finally:
        if started:
            _script(name, "stop", check=False)


# --- RabbitMQ ---------------------------------------------------------------------------------
@dataclass
class RabbitMQ:
    """A broker: `url` is its AMQP URL on the default vhost."""

    url: str
    management_url: str | None
    ctl: Callable[..., None] | None = None  # rabbitmqctl fallback when management is away

    @property
    def credentials(self) -> tuple[str, str]:
        parts = urllib.parse.urlsplit(self.url)
        return (
            urllib.parse.unquote(parts.username or "guest"),
            urllib.parse.unquote(parts.password or "guest"),
        )

    def vhost_url(self, vhost: str) -> str:
        parts = urllib.parse.urlsplit(self.url)
        return urllib.parse.urlunsplit(parts._replace(path="/" + urllib.parse.quote(vhost, safe="")))

    def create_vhost(self, vhost: str) -> str:
        """Creates `vhost` with full permissions for our user; returns its AMQP URL."""
        user, _ = self.credentials
        name = urllib.parse.quote(vhost, safe="")
        try:
            with self._management() as http:
                http.put(f"/api/vhosts/{name}").raise_for_status()
                http.put(
                    f"/api/permissions/{name}/{urllib.parse.quote(user, safe='')}",
                    json={"configure": ".*", "write": ".*", "read": ".*"},
                ).raise_for_status()
        except (httpx.HTTPError, RuntimeError):
            if self.ctl is None:
                raise
            self.ctl("add_vhost", vhost)
            self.ctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")
        return self.vhost_url(vhost)

    def delete_vhost(self, vhost: str) -> None:
        try:
            with self._management() as http:
                response = http.delete(f"/api/vhosts/{urllib.parse.quote(vhost, safe='')}")
                if response.status_code != 404:
                    response.raise_for_status()
        except (httpx.HTTPError, RuntimeError):
            if self.ctl is None:
                raise
            self.ctl("delete_vhost", vhost)

    def _management(self) -> httpx.Client:
        if not self.management_url:
            raise RuntimeError("no RabbitMQ management URL")
        return httpx.Client(base_url=self.management_url, auth=self.credentials, timeout=10)


def _local_ctl(*args: str) -> None:
    _script("rabbitmq", "ctl", *args)


@contextlib.contextmanager
def rabbitmq_server() -> Iterator[RabbitMQ]:
    if url := os.environ.get("RABBITMQ_URL"):
        host = urllib.parse.urlsplit(url).hostname or "localhost"
        port = os.environ.get("RABBITMQ_MANAGEMENT_PORT", "15672")
        management = os.environ.get("RABBITMQ_MANAGEMENT_URL") or f"http://{host}:{port}"
        yield RabbitMQ(url, management, ctl=_local_ctl)
    elif use_docker():
        with _testcontainers_warnings_ignored():
            from testcontainers.community.rabbitmq import RabbitMqContainer

            container = RabbitMqContainer(RABBITMQ_IMAGE).with_exposed_ports(15672).start()
        try:
            host = container.get_container_host_ip()
            amqp_port = container.get_exposed_port(container.port)

            def ctl(*args: str) -> None:
                exit_code, output = container.exec(["rabbitmqctl", *args])
                if exit_code != 0:
                    raise RuntimeError(f"rabbitmqctl {' '.join(args)}: {output!r}")

            yield RabbitMQ(
                f"amqp://{container.username}:{container.password}@{host}:{amqp_port}/",
                f"http://{host}:{container.get_exposed_port(15672)}",
                ctl=ctl,
            )
        finally:
            container.stop()
    else:
        with local_service("rabbitmq"):
            port = os.environ.get("RABBITMQ_PORT", "5672")
            management_port = os.environ.get("RABBITMQ_MANAGEMENT_PORT", "15672")
            yield RabbitMQ(
                f"amqp://guest:guest@localhost:{port}/",
                f"http://localhost:{management_port}",
                ctl=_local_ctl,
            )


# --- MongoDB ----------------------------------------------------------------------------------
@contextlib.contextmanager
def mongodb_server() -> Iterator[str]:
    """Yields a MongoDB server URL (no database in it)."""
    if url := os.environ.get("MONGODB_URL"):
        yield url
    elif use_docker():
        with _testcontainers_warnings_ignored():
            from testcontainers.community.mongodb import MongoDbContainer

            container = MongoDbContainer(MONGODB_IMAGE).start()
        try:
            yield container.get_connection_url()
        finally:
            container.stop()
    else:
        # A test session keeps no data: the stand-in's faster in-memory backend, unless told.
        with local_service("mongodb", MONGODB_BACKEND=os.environ.get("MONGODB_BACKEND", "memory")):
            yield f"mongodb://localhost:{os.environ.get('MONGODB_PORT', '27017')}"
