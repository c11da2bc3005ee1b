"""Master <-> RabbitMQ: a worker session becomes consumers sized to its free slots.

The worker here is a bare python-socketio client playing the protocol of SPEC §5 by hand.
"""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import aio_pika
import pytest
import socketio

from jobrunner_shared import names
from tests.support.platform import Tenant

pytestmark = pytest.mark.integration


class FakeWorker:
    def __init__(self, master_url: str, key: str, capacity: int, accept: bool = True) -> None:
        self.master_url = master_url
        self.auth = {"api_key": key, "name": "fake", "capacity": capacity, "labels": [],
                     "worker_id": uuid.uuid4().hex}
        self.accept = accept
        self.assigned: asyncio.Queue[dict] = asyncio.Queue()
        self.sio = socketio.AsyncClient(reconnection=False)
        self.sio.on(names.EV_JOB_ASSIGN, self._on_assign, namespace=names.WORKERS_NAMESPACE)
        self.refusals: list[Any] = []
        self.sio.on("connect_error", self.refusals.append, namespace=names.WORKERS_NAMESPACE)

    async def _on_assign(self, data: dict) -> dict:
        await self.assigned.put(data)
        return {"accepted": self.accept, "reason": None if self.accept else "testing"}

    async def connect(self) -> None:
        await self.sio.connect(self.master_url, auth=self.auth,
                               namespaces=[names.WORKERS_NAMESPACE], transports=["websocket"])

    async def send(self, event: str, payload: dict) -> Any:
        return await self.sio.call(event, payload, namespace=names.WORKERS_NAMESPACE, timeout=10)

    async def close(self) -> None:
        await self.sio.disconnect()


async def ready_count(rabbitmq_url: str, queue_name: str) -> int:
    connection = await aio_pika.connect(rabbitmq_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(queue_name, passive=True)
        return queue.declaration_result.message_count


def tenant_id(tenant: Tenant) -> str:
    with tenant.client() as client:
        return client.get("/me").json()["tenant"]["id"]


async def test_a_full_worker_gets_no_more_jobs_and_the_rest_wait_in_rabbitmq(
    platform, tenant: Tenant, rabbitmq_url: str
) -> None:
    # Given a worker of capacity 1 and three queued jobs
    worker = FakeWorker(platform.master_url, tenant.worker_key(), capacity=1)
    await worker.connect()
    try:
        jobs = [tenant.submit(command=f"echo {i}")["id"] for i in range(3)]
        # Then exactly one job is assigned, and the other two wait, ready, in RabbitMQ
        first = await asyncio.wait_for(worker.assigned.get(), 10)
        assert first["job_id"] == jobs[0] and first["attempt"] == 1
        await asyncio.sleep(1)
        assert worker.assigned.empty()
        queue = names.dispatch_queue(tenant_id(tenant), [])
        assert await ready_count(rabbitmq_url, queue) == 2
        # When the worker reports the job started and finished (each acknowledged)
        ack = await worker.send(names.EV_JOB_STARTED, {"job_id": jobs[0], "attempt": 1, "pid": 1})
        assert ack == {"ok": True, "error": None}
        line = {"seq": 1, "stream": "stdout", "text": "0", "ts": "2026-01-01T00:00:00Z"}
        ack = await worker.send(names.EV_JOB_LOG,
                                {"job_id": jobs[0], "attempt": 1, "lines": [line]})
        assert ack["ok"] is True
        ack = await worker.send(names.EV_JOB_FINISHED, {"job_id": jobs[0], "attempt": 1,
                                                        "status": "succeeded", "exit_code": 0,
                                                        "last_seq": 1})
        assert ack["ok"] is True
        # Then the platform stored it, and the next job comes
        assert tenant.wait_final(jobs[0])["status"] == "succeeded"
        assert [ln["text"] for ln in tenant.all_lines(jobs[0])] == ["0"]
        second = await asyncio.wait_for(worker.assigned.get(), 10)
        assert second["job_id"] == jobs[1]
    finally:
        await worker.close()


async def test_a_short_attempt_reported_in_one_event_ends_and_frees_its_slot(
    platform, tenant: Tenant, rabbitmq_url: str
) -> None:
    # Given a worker of capacity 1 holding the first of two jobs
    worker = FakeWorker(platform.master_url, tenant.worker_key(), capacity=1)
    await worker.connect()
    try:
        jobs = [tenant.submit(command=f"echo {i}")["id"] for i in range(2)]
        first = await asyncio.wait_for(worker.assigned.get(), 10)
        assert first["job_id"] == jobs[0]
        # When it reports the whole attempt at once: start, lines and end
        lines = [{"seq": n, "stream": "stdout", "text": f"out {n}", "ts": "2026-01-01T00:00:00Z"}
                 for n in (1, 2)]
        ack = await worker.send(names.EV_JOB_RAN, {
            "job_id": jobs[0], "attempt": 1, "pid": 9, "duration_seconds": 0.05,
            "lines": lines, "status": "failed", "exit_code": 4, "last_seq": 2})
        assert ack == {"ok": True, "error": None}
        # Then the platform stored it, started before it ended, with every line
        done = tenant.wait_final(jobs[0])
        assert (done["status"], done["exit_code"]) == ("failed", 4)
        assert done["started_at"] < done["finished_at"]
        assert [ln["text"] for ln in tenant.all_lines(jobs[0])] == ["out 1", "out 2"]
        # And the slot is free again: the next job comes, none is left in RabbitMQ
        second = await asyncio.wait_for(worker.assigned.get(), 10)
        assert second["job_id"] == jobs[1]
        assert await ready_count(rabbitmq_url, names.dispatch_queue(tenant_id(tenant), [])) == 0
    finally:
        await worker.close()


async def test_a_start_held_back_by_the_worker_is_dated_when_the_process_began(
    platform, tenant: Tenant
) -> None:
    worker = FakeWorker(platform.master_url, tenant.worker_key(), capacity=1)
    await worker.connect()
    try:
        job = tenant.submit(command="sleep 5")["id"]
        await asyncio.wait_for(worker.assigned.get(), 10)
        # When the worker sends the start 2 s after the process began (held back), then the end
        sent = datetime.now(UTC)
        ack = await worker.send(names.EV_JOB_STARTED,
                                {"job_id": job, "attempt": 1, "pid": 1, "held_seconds": 2})
        assert ack["ok"] is True
        await worker.send(names.EV_JOB_FINISHED, {"job_id": job, "attempt": 1,
                                                  "status": "succeeded", "exit_code": 0})
        # Then the job started 2 s before the master got the start
        started = datetime.fromisoformat(tenant.wait_final(job)["started_at"])
        assert timedelta(seconds=1.5) < sent - started < timedelta(seconds=2.5)
    finally:
        await worker.close()


async def test_a_malformed_event_is_dead_lettered_and_acknowledged(
    platform, tenant: Tenant, rabbitmq_url: str
) -> None:
    worker = FakeWorker(platform.master_url, tenant.worker_key(), capacity=1)
    await worker.connect()
    marker = uuid.uuid4().hex
    try:
        ack = await worker.send(names.EV_JOB_LOG, {"job_id": marker, "attempt": 1, "lines": []})
        # Acknowledged, so the worker does not hold everything else back behind it ...
        assert ack["ok"] is True and "dead-lettered" in ack["error"]
    finally:
        await worker.close()
    # ... and kept, with the reason, in the dead-letter queue.
    connection = await aio_pika.connect(rabbitmq_url)
    async with connection:
        queue = await (await connection.channel()).declare_queue(
            names.DEAD_LETTER_QUEUE, passive=True
        )
        while (message := await queue.get(fail=False)) is not None:
            await message.ack()
            if marker.encode() in message.body:
                break
        assert message is not None, "not in the dead-letter queue"
        assert "lines" in message.headers[names.REJECT_REASON_HEADER]


async def test_a_declined_job_goes_back_to_its_queue(
    platform, tenant: Tenant, rabbitmq_url: str
) -> None:
    worker = FakeWorker(platform.master_url, tenant.worker_key(), capacity=2, accept=False)
    await worker.connect()
    try:
        job = tenant.submit(command="true")
        offered = await asyncio.wait_for(worker.assigned.get(), 10)
        assert offered["job_id"] == job["id"]
        queue = names.dispatch_queue(tenant_id(tenant), [])
        for _ in range(50):  # the master puts it back right after the refusal
            if await ready_count(rabbitmq_url, queue) == 1:
                break
            await asyncio.sleep(0.1)
        assert await ready_count(rabbitmq_url, queue) == 1
        assert tenant.job(job["id"])["status"] == "queued"
    finally:
        await worker.close()


async def test_a_session_consumes_again_after_rabbitmq_cancelled_its_consumer(
    platform, tenant: Tenant, rabbitmq_url: str
) -> None:
    # Given a worker consuming its tenant's dispatch queue
    worker = FakeWorker(platform.master_url, tenant.worker_key(), capacity=3)
    await worker.connect()
    try:
        first = tenant.submit(command="true")
        assert (await asyncio.wait_for(worker.assigned.get(), 10))["job_id"] == first["id"]
        ack = await worker.send(names.EV_JOB_STARTED, {"job_id": first["id"], "attempt": 1,
                                                       "pid": 1})
        assert ack["ok"] is True
        # When the queue is deleted, which cancels the session's consumer (basic.cancel, as
        # when a cluster loses the queue's node), and comes back
        queue = names.dispatch_queue(tenant_id(tenant), [])
        connection = await aio_pika.connect(rabbitmq_url)
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(queue)
            await asyncio.sleep(1)
            declared = await channel.declare_queue(
                queue, durable=True, arguments=dict(names.DISPATCH_QUEUE_ARGUMENTS))
            await declared.bind(names.JOBS_EXCHANGE, names.dispatch_routing_key(
                tenant_id(tenant), []))
        # Then the session consumes it again: the next job reaches the same, still connected,
        # worker
        second = tenant.submit(command="true")
        offered = await asyncio.wait_for(worker.assigned.get(), 15)
        assert offered["job_id"] == second["id"]
        assert worker.sio.connected
    finally:
        await worker.close()


async def test_a_bad_key_is_refused_at_connect(platform, tenant: Tenant) -> None:
    worker = FakeWorker(platform.master_url, "jrw_wrong", capacity=1)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await worker.connect()
    assert worker.refusals == [{"message": "invalid, revoked or expired API key"}]
    submit_key = None
    with tenant.client() as client:
        submit_key = client.post("/api-keys", json={"name": "s", "kind": "submit"}).json()["key"]
    worker = FakeWorker(platform.master_url, submit_key, capacity=1)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await worker.connect()


async def test_a_session_ends_when_its_key_expires_and_is_refused_after(
    platform, tenant: Tenant
) -> None:
    # Given a worker connected with a key that expires in 3-4 s; whole seconds, as MongoDB
    # keeps only milliseconds (the master cuts at the stored time, which may be before ours)
    expires_at = (datetime.now(UTC) + timedelta(seconds=4)).replace(microsecond=0)
    with tenant.client() as client:
        created = client.post("/api-keys", json={"name": "brief", "kind": "worker",
                                                 "expires_at": expires_at.isoformat()})
        assert created.status_code == 201, created.text
    worker = FakeWorker(platform.master_url, created.json()["key"], capacity=1)
    ended = asyncio.Event()
    worker.sio.on("disconnect", lambda *_: ended.set(), namespace=names.WORKERS_NAMESPACE)
    await worker.connect()
    try:
        # Then the master ends the session once the key expired, not before
        await asyncio.wait_for(ended.wait(), 10)
        assert datetime.now(UTC) >= expires_at
    finally:
        await worker.close()
    # And the key is refused from then on, with a reason that names expiry
    again = FakeWorker(platform.master_url, created.json()["key"], capacity=1)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await again.connect()
    assert again.refusals == [{"message": "invalid, revoked or expired API key"}]


async def test_a_session_whose_key_expires_later_stays(platform, tenant: Tenant) -> None:
    # Given a worker whose key expires in an hour: it is not cut meanwhile
    expires_at = datetime.now(UTC) + timedelta(hours=1)
    with tenant.client() as client:
        key = client.post("/api-keys", json={"name": "later", "kind": "worker",
                                             "expires_at": expires_at.isoformat()}).json()["key"]
    worker = FakeWorker(platform.master_url, key, capacity=1)
    await worker.connect()
    try:
        job = tenant.submit(command="true")
        assert (await asyncio.wait_for(worker.assigned.get(), 10))["job_id"] == job["id"]
        assert worker.sio.connected
    finally:
        await worker.close()


async def test_a_label_set_that_appears_while_consuming_is_consumed_too(
    platform, tenant: Tenant
) -> None:
    # Given a worker with a free slot, already consuming its tenant's plain queue
    worker = FakeWorker(platform.master_url, tenant.worker_key(), capacity=3)
    worker.auth["labels"] = ["fresh"]
    await worker.connect()
    try:
        plain = tenant.submit(command="true")
        assert (await asyncio.wait_for(worker.assigned.get(), 10))["job_id"] == plain["id"]
        # When a job needs a label set no job needed before (a new queue)
        labelled = tenant.submit(command="true", labels=["fresh"])
        # Then the worker gets it without having to fill up first
        offered = await asyncio.wait_for(worker.assigned.get(), 10)
        assert offered["job_id"] == labelled["id"]
    finally:
        await worker.close()
