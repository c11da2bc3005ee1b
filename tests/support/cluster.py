"""A three-node RabbitMQ cluster for the cluster tests (scripts/rabbitmq-cluster.sh).

`rabbitmq_cluster()` uses the cluster when it runs (`make test-cluster` starts it first) and
otherwise starts it, stopping it at the end only then. A `Cluster` answers, per node: its AMQP
URL, its management API, rabbitmqctl; and loses or brings back a node.
"""

from __future__ import annotations

import contextlib
import functools
import os
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from tests.support.paths import SCRIPTS_DIR

SCRIPT = SCRIPTS_DIR / "rabbitmq-cluster.sh"
NODES = (1, 2, 3)
CREDENTIALS = ("guest", "guest")


def _run(*args: str, timeout: float = 300) -> str:
    result = subprocess.run([str(SCRIPT), *args], capture_output=True, text=True,
                            timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"scripts/rabbitmq-cluster.sh {' '.join(args)} failed "
                           f"({result.returncode}):\n{result.stdout}{result.stderr}")
    return result.stdout


@dataclass(frozen=True)
class Cluster:
    base_port: int = int(os.environ.get("RABBITMQ_CLUSTER_PORT", "5701"))

    # --- where each node is ------------------------------------------------------------------
    def name(self, node: int) -> str:
        return f"jobrunner-c{node}@localhost"

    def node_of(self, name: str) -> int:
        return next(n for n in NODES if self.name(n) == name)

    def amqp_port(self, node: int) -> int:
        return self.base_port + node - 1

    def url(self, node: int, vhost: str = "/") -> str:
        path = "/" + urllib.parse.quote(vhost, safe="") if vhost != "/" else "/"
        return f"amqp://{CREDENTIALS[0]}:{CREDENTIALS[1]}@localhost:{self.amqp_port(node)}{path}"

    def urls(self, vhost: str = "/", order: tuple[int, ...] = NODES) -> str:
        """RABBITMQ_URL listing the nodes (in `order`)."""
        return ",".join(self.url(n, vhost) for n in order)

    def management(self, node: int = 1) -> httpx.Client:
        return httpx.Client(base_url=f"http://localhost:{self.amqp_port(node) + 10000}",
                            auth=CREDENTIALS, timeout=10)

    # --- the nodes ------------------------------------------------------------------------------
    def ctl(self, node: int, *args: str) -> str:
        return _run("ctl", str(node), *args)

    def kill(self, node: int) -> None:
        """Lose the node: SIGKILL, no goodbye to its clients or peers."""
        _run("kill-node", str(node))

    def start(self, node: int) -> None:
        _run("start-node", str(node))
        self.wait_running({*NODES})

    def running(self, ask: int) -> set[int]:
        """The nodes `ask` sees running in the cluster."""
        with self.management(ask) as http:
            return {self.node_of(n["name"]) for n in http.get("/api/nodes").json()
                    if n.get("running")}

    def wait_running(self, nodes: set[int], timeout: float = 60) -> None:
        """Until a node of `nodes` sees exactly `nodes` running."""
        deadline = time.monotonic() + timeout
        while True:
            for ask in nodes:
                with contextlib.suppress(httpx.HTTPError, ValueError, StopIteration):
                    if self.running(ask) == nodes:
                        return
            assert time.monotonic() < deadline, f"nodes {nodes} not running after {timeout}s"
            time.sleep(0.5)

    # --- vhosts, queues, connections --------------------------------------------------------------
    def create_vhost(self, vhost: str) -> None:
        name = urllib.parse.quote(vhost, safe="")
        with self.management() as http:
            http.put(f"/api/vhosts/{name}").raise_for_status()
            http.put(f"/api/permissions/{name}/{CREDENTIALS[0]}",
                     json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()

    def delete_vhost(self, vhost: str) -> None:
        with self.management() as http:
            response = http.delete(f"/api/vhosts/{urllib.parse.quote(vhost, safe='')}")
            if response.status_code != 404:
                response.raise_for_status()

    def declare_queue(self, vhost: str, name: str, node: int,
                      arguments: dict | None = None) -> None:
        """A durable classic queue whose home is `node` (a classic queue lives on the node
        that declared it first; the management API may name that node)."""
        quote = functools.partial(urllib.parse.quote, safe="")
        path = f"/api/queues/{quote(vhost)}/{quote(name)}"
        with self.management(node) as http:
            http.put(path, json={"durable": True, "auto_delete": False,
                                 "arguments": arguments or {},
                                 "node": self.name(node)}).raise_for_status()

    def queues(self, vhost: str, ask: int = 1) -> dict[str, dict]:
        """The vhost's queues by name, as the management API of node `ask` shows them: `type`,
        `node` (a classic queue's home, a quorum queue's leader), `members` (quorum)."""
        with self.management(ask) as http:
            response = http.get(f"/api/queues/{urllib.parse.quote(vhost, safe='')}")
            response.raise_for_status()
            return {q["name"]: q for q in response.json()}

    def connection_nodes(self, vhost: str, ask: int) -> list[int]:
        """The node of each client connection to the vhost (the management API's view: it
        lags by a few seconds)."""
        with self.management(ask) as http:
            response = http.get("/api/connections")
            response.raise_for_status()
            return sorted(self.node_of(c["node"]) for c in response.json()
                          if c.get("vhost") == vhost)


@contextlib.contextmanager
def rabbitmq_cluster() -> Iterator[Cluster]:
    """The cluster, running and formed for the duration; stopped after only if started here."""
    started = subprocess.run([str(SCRIPT), "status"], capture_output=True).returncode != 0
    if started:
        _run("start")
    cluster = Cluster()
    try:
        cluster.wait_running({*NODES})
        yield cluster
    finally:
        if started:
            _run("stop", timeout=120)
