"""A new dispatch queue reaches every eligible session at once, and one failure stops no other."""

import asyncio
import time
from types import SimpleNamespace

from jobrunner_master.sessions import WorkersNamespace


class Slots:
    def __init__(self, fails: bool = False) -> None:
        self.fails = fails
        self.queues: list[str] = []

    async def add_queue(self, name: str) -> None:
        await asyncio.sleep(0.2)  # a declare and a consume on the session's channel
        if self.fails:
            raise RuntimeError("channel closed")
        self.queues.append(name)


def session(tenant: str, labels: list[str], fails: bool = False) -> SimpleNamespace:
    return SimpleNamespace(tenant_id=tenant, auth=SimpleNamespace(labels=labels),
                           slots=Slots(fails), worker_id=f"w-{id(labels)}")


async def test_a_new_queue_reaches_all_eligible_sessions_side_by_side() -> None:
    # Given 40 sessions of the tenant with the labels, one whose channel is broken, one
    # without the label and one of another tenant
    eligible = [session("t1", ["gpu", "linux"]) for _ in range(40)]
    broken = session("t1", ["gpu"], fails=True)
    other_labels = session("t1", ["linux"])
    other_tenant = session("t2", ["gpu"])
    namespace = object.__new__(WorkersNamespace)  # only its sessions are needed here
    namespace.sessions = {str(i): s for i, s in
                          enumerate([broken, *eligible, other_labels, other_tenant])}
    # When the API announces the tenant's queue for label "gpu"
    started = time.perf_counter()
    await namespace.queue_added("t1", ["gpu"], "q.gpu")
    elapsed = time.perf_counter() - started
    # Then every eligible session consumes it, in about one session's time, not forty
    assert all(s.slots.queues == ["q.gpu"] for s in eligible)
    assert elapsed < 2.0
    # And the others do not
    assert other_labels.slots.queues == [] and other_tenant.slots.queues == []
