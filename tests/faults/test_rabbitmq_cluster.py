"""RabbitMQ as a three-node cluster, one node lost mid-run (issue 10).

`make test-cluster` runs these (marker `cluster`, left out of `make test`) on the cluster of
scripts/rabbitmq-cluster.sh. The platform's RABBITMQ_URL lists the three nodes, node 1 first:
the API and the master connect there, and go on with the next node when they lose it. A node
is lost by SIGKILL: no goodbye to its clients or peers.

What a node holds of the platform:
- a member of every quorum queue (job events, logs, heartbeats, submissions), and the leader
  of some: they go on through the loss of any one node of three;
- the classic queues it was the first to declare (the per-tenant dispatch queues, which need
  priorities; the dead-letter and rejected queues), on its disk: unavailable while it is down,
  back with their messages when it is;
- the exclusive queues (live feed, control) of the processes connected to it: declared again
  where they reconnect.

Each test runs an API and a master of its own, in a vhost and database of their own.
1. The services' node lost, the classic queues living on another node (declared there ahead
   by the test): the services reconnect to a surviving node and every job ends exactly once,
   in its first attempt, with the node still down.
2. The node of a tenant's classic dispatch queue lost and brought back: the master's session
   consumes the queue again once it answers (SlotConsumer takes its queues up itself).
3. The services' node lost while it also holds the classic queues they declared, as it does
   when nothing places them elsewhere: the services reconnect all the same (their classic
   queues are declared robust=False, so a reconnect does not declare them again).
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from pymongo import MongoClient

from jobrunner_shared import names
from tests.support.cluster import NODES, Cluster, rabbitmq_cluster
from tests.support.platform import FINAL, Platform, Tenant, start_platform
from tests.support.process import ManagedProcess

pytestmark = pytest.mark.cluster

LINES = 10  # per job, one every 0.1 s


def command(lines: int = LINES) -> str:
    return f"for i in $(seq 1 {lines}); do echo line-$i; sleep 0.1; done"


QUORUM = (names.JOB_EVENTS_QUEUE, names.LOGS_QUEUE, names.HEARTBEATS_QUEUE, names.SUBMIT_QUEUE)
CLASSIC = (names.DEAD_LETTER_QUEUE, names.REJECTED_QUEUE)
# The API (one connection) and the master (its broker's and its dispatch consumers').
SERVICE_CONNECTIONS = 3


# --- the platform on the cluster -----------------------------------------------------------


@dataclass
class OnCluster:
    cluster: Cluster
    vhost: str
    platform: Platform

    def service_nodes(self, ask: int, want: Callable[[list[int]], bool],
                      timeout: float = 30) -> list[int]:
        """The nodes of the services' connections, once `want` holds of them (the management
        API's view lags by a few seconds)."""
        deadline = time.monotonic() + timeout
        while True:
            nodes = self.cluster.connection_nodes(self.vhost, ask)
            if want(nodes):
                return nodes
            assert time.monotonic() < deadline, f"connections on nodes {nodes} after {timeout}s"
            time.sleep(0.5)

    def dispatch_queue_on(self, tenant: Tenant, node: int) -> str:
        """Declare the tenant's dispatch queue (no labels) on `node`, before the API does."""
        with tenant.client() as client:
            tenant_id = client.get("/me").json()["tenant"]["id"]
        queue = names.dispatch_queue(tenant_id, [])
        self.cluster.declare_queue(self.vhost, queue, node, dict(names.DISPATCH_QUEUE_ARGUMENTS))
        return queue

    @contextlib.contextmanager
    def workers(self, tenant: Tenant, count: int, capacity: int) -> Iterator[None]:
        key = tenant.worker_key()
        started: list[ManagedProcess] = [
            self.platform.start_worker(key, name=f"cluster-{tenant.name}-{n}", capacity=capacity)
            for n in range(count)
        ]
        try:
            tenant.wait_workers_online(count)
            yield
        finally:
            for worker in started:
                worker.stop()
                self.platform.workers.remove(worker)

    @contextlib.contextmanager
    def lost(self, node: int) -> Iterator[None]:
        """Node `node` killed for the duration; then back, with every quorum queue whole."""
        self.cluster.kill(node)
        try:
            yield
        finally:
            self.cluster.start(node)
            deadline = time.monotonic() + 60
            while True:
                queues = self.cluster.queues(self.vhost)
                if all(len(queues[q].get("online", [])) == len(NODES) for q in QUORUM):
                    break
                assert time.monotonic() < deadline, "quorum queues not whole again after 60s"
                time.sleep(0.5)


@contextlib.contextmanager
def platform_on(cluster: Cluster, mongodb_url: str, classic_on: int | None) -> Iterator[OnCluster]:
    """An API and a master whose RABBITMQ_URL lists the three nodes, in a vhost and database of
    their own; with `classic_on`, the classic queues they declare live on that node."""
    suffix = secrets.token_hex(4)
    vhost, db = f"jobrunner-cluster-{suffix}", f"jobrunner_cluster_{suffix}"
    cluster.create_vhost(vhost)
    try:
        if classic_on is not None:
            for queue in CLASSIC:
                cluster.declare_queue(vhost, queue, classic_on)
        services = start_platform(cluster.urls(vhost), mongodb_url, db)
        try:
            yield OnCluster(cluster, vhost, next(services))
        finally:
            services.close()
    finally:
        cluster.delete_vhost(vhost)
        with MongoClient(mongodb_url, serverSelectionTimeoutMS=10_000) as client:
            client.drop_database(db)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    # Formed before any service declares a queue: a quorum queue gets a member on each node
    # that is in the cluster when it is declared.
    with rabbitmq_cluster() as formed:
        yield formed


@pytest.fixture
def classic_on_3(cluster: Cluster, mongodb_url: str) -> Iterator[OnCluster]:
    """A platform of the test's own (its services on node 1), its classic queues on node 3."""
    with platform_on(cluster, mongodb_url, classic_on=3) as on:
        yield on


# --- helpers ------------------------------------------------------------------------------------


def submit(tenant: Tenant, count: int, lines: int = LINES) -> list[str]:
    with tenant.client() as client:
        return [client.post("/jobs", json={"command": command(lines)}).json()["id"]
                for _ in range(count)]


def jobs_by_status(tenant: Tenant, ids: list[str]) -> dict[str, list[dict]]:
    wanted, found = set(ids), {}
    with tenant.client() as client:
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 500, **({"cursor": cursor} if cursor else {})}
            page = client.get("/jobs", params=params).json()
            found.update((j["id"], j) for j in page["items"] if j["id"] in wanted)
            cursor = page["next_cursor"]
            if cursor is None:
                break
    by_status: dict[str, list[dict]] = {}
    for job in found.values():
        by_status.setdefault(job["status"], []).append(job)
    return by_status


def wait_statuses(tenant: Tenant, ids: list[str], until: Callable[[dict[str, list[dict]]], bool],
                  timeout: float) -> dict[str, list[dict]]:
    deadline = time.monotonic() + timeout
    while True:
        by_status = jobs_by_status(tenant, ids)
        if until(by_status):
            return by_status
        counts = {status: len(jobs) for status, jobs in by_status.items()}
        assert time.monotonic() < deadline, f"after {timeout}s: {counts}"
        time.sleep(0.5)


def all_final(ids: list[str]) -> Callable[[dict[str, list[dict]]], bool]:
    return lambda by_status: sum(len(by_status.get(s, [])) for s in FINAL) == len(ids)


# --- the tests ------------------------------------------------------------------------------------


@pytest.mark.timeout(300)
def test_the_services_node_lost_mid_run(classic_on_3: OnCluster, record_counts) -> None:
    on, cluster = classic_on_3, classic_on_3.cluster
    tenant = on.platform.new_tenant()
    dispatch = on.dispatch_queue_on(tenant, 3)
    # Given the quorum queues with a member on each node, the classic ones on node 3, and the
    # API and the master connected to node 1 (the first listed)
    queues = cluster.queues(on.vhost)
    for queue in QUORUM:
        assert queues[queue]["type"] == "quorum", queues[queue]
        assert sorted(queues[queue]["members"]) == sorted(map(cluster.name, NODES)), queues[queue]
    for queue in (*CLASSIC, dispatch):
        assert (queues[queue]["type"], queues[queue]["node"]) == ("classic", cluster.name(3))
    on.service_nodes(2, lambda nodes: len(nodes) >= SERVICE_CONNECTIONS and set(nodes) == {1})
    with on.workers(tenant, count=2, capacity=4):
        # and 80 jobs with output, the first of them running
        ids = submit(tenant, 80)
        wait_statuses(tenant, ids, lambda s: len(s.get("running", [])) >= 4, timeout=60)
        # When node 1 is lost
        with on.lost(1):
            # (a job submitted now is stored, answered 201, published through another node)
            ids += submit(tenant, 1)
            # Then every job ends, succeeded in its first attempt, while node 1 is still down
            by_status = wait_statuses(tenant, ids, all_final(ids), timeout=150)
            assert {s: len(jobs) for s, jobs in by_status.items()} == {"succeeded": len(ids)}
            assert Counter(job["attempt"] for job in by_status["succeeded"]) == {1: len(ids)}
            # And every line is stored once
            record_counts("RabbitMQ cluster: the node of the API's and master's connections "
                          "and the quorum leaders lost (SIGKILL)", tenant, ids, len(ids) * LINES)
            # And the services are on the surviving nodes, consuming each quorum queue, now led
            # from a surviving node, still with three members
            on.service_nodes(2, lambda nodes: len(nodes) >= SERVICE_CONNECTIONS
                             and 1 not in nodes)
            deadline = time.monotonic() + 30
            while True:
                queues = cluster.queues(on.vhost, ask=2)
                if all(queues[q].get("consumers", 0) >= 1 for q in QUORUM):
                    break
                assert time.monotonic() < deadline, {q: queues[q].get("consumers") for q in QUORUM}
                time.sleep(0.5)
            for queue in QUORUM:
                assert queues[queue]["leader"] != cluster.name(1), queues[queue]
                assert len(queues[queue]["members"]) == len(NODES), queues[queue]
            assert cluster.running(2) == {2, 3}


@pytest.mark.timeout(300)
def test_the_node_of_a_classic_dispatch_queue_lost_and_back(classic_on_3: OnCluster,
                                                            record_counts) -> None:
    on, cluster = classic_on_3, classic_on_3.cluster
    tenant = on.platform.new_tenant()
    dispatch = on.dispatch_queue_on(tenant, 3)
    # Given the services connected to node 1, the tenant's dispatch queue on node 3
    on.service_nodes(1, lambda nodes: len(nodes) >= SERVICE_CONNECTIONS and set(nodes) == {1})
    with on.workers(tenant, count=1, capacity=2):
        # and 20 jobs of 2 s: some running, most of them queued in the dispatch queue
        ids = submit(tenant, 20, lines=2 * LINES)
        before = wait_statuses(tenant, ids, lambda s: len(s.get("running", [])) >= 1
                               and len(s.get("queued", [])) >= 10, timeout=60)
        running = [job["id"] for job in before["running"]]
        # When node 3 is lost
        with on.lost(3):
            # a job submitted now is stored and answered 201; its publish finds no queue
            # (NO_ROUTE), so the API's sweeper publishes it again until it does
            ids += submit(tenant, 1, lines=2 * LINES)
            # Then the jobs running end: their reports take the quorum queues
            wait_statuses(tenant, running, all_final(running), timeout=60)
            # while those queued on node 3 wait for it
            assert cluster.queues(on.vhost, ask=1)[dispatch]["state"] == "down"
            waited = [job["id"] for job in jobs_by_status(tenant, ids).get("queued", [])]
            assert waited
        # And once node 3 is back, the master consumes the dispatch queue again: the jobs that
        # waited in it start, without their worker reconnecting. (Why not watch the queue's
        # consumers: a session cancels them while its worker is full, as it is here until the
        # queue is drained, and the management API samples them every few seconds.)
        wait_statuses(tenant, waited, lambda s: len(s.get("queued", [])) < len(waited),
                      timeout=20)
        [worker] = on.platform.workers
        assert worker.output().count("connected to ") == 1, worker.output()[-2000:]
        # and every job ends, exactly once (some 20 s of work)
        by_status = wait_statuses(tenant, ids, all_final(ids), timeout=60)
        assert {s: len(jobs) for s, jobs in by_status.items()} == {"succeeded": len(ids)}
        record_counts("RabbitMQ cluster: the node of a classic dispatch queue lost and back",
                      tenant, ids, len(ids) * 2 * LINES)


@pytest.mark.timeout(300)
def test_the_services_node_holding_the_classic_queues_lost(cluster: Cluster,
                                                           mongodb_url: str) -> None:
    with platform_on(cluster, mongodb_url, classic_on=None) as on:
        tenant = on.platform.new_tenant()
        # Given the services connected to node 1 (the first listed), where they declare the
        # classic queues
        on.service_nodes(2, lambda nodes: len(nodes) >= SERVICE_CONNECTIONS
                         and set(nodes) == {1})
        with on.workers(tenant, count=1, capacity=4):
            # and jobs of 3 s running
            ids = submit(tenant, 8, lines=3 * LINES)
            before = wait_statuses(tenant, ids, lambda s: len(s.get("running", [])) >= 2,
                                   timeout=60)
            queues = cluster.queues(on.vhost)
            dispatch = next(q for q in queues if q.startswith(names.DISPATCH_QUEUE_PREFIX))
            assert {queues[q]["node"] for q in (*CLASSIC, dispatch)} == {cluster.name(1)}
            # When node 1 is lost
            with on.lost(1):
                # Then the services go on through a surviving node
                on.service_nodes(2, lambda nodes: len(nodes) >= SERVICE_CONNECTIONS
                                 and 1 not in nodes, timeout=15)
                # and the jobs that were running end while node 1 is down
                running = [job["id"] for job in before["running"]]
                wait_statuses(tenant, running, all_final(running), timeout=60)
