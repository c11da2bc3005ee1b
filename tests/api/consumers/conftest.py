"""Each API consumer alone: its router on a broker of its own, in memory (FastStream's
TestRabbitBroker) and against the real RabbitMQ, on the session's MongoDB.

Every test here runs twice: `in-memory` and `real` (a vhost of this module's own, so that the
platform's API process, which consumes the same queues in the session vhost, takes nothing).
"""

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from bson import ObjectId
from faststream.rabbit import RabbitBroker, RabbitQueue, RabbitRouter, TestRabbitBroker
from faststream.rabbit.annotations import RabbitMessage

from jobrunner_api import db
from jobrunner_api.documents import Job, JobRecord, JobView
from jobrunner_api.platform import Platform
from jobrunner_api.settings import Settings
from jobrunner_shared import amqp, names
from jobrunner_shared.secretbox import SecretBox


@pytest.fixture(scope="module")
async def beanie(mongodb_url: str, mongodb_db_name: str) -> AsyncIterator[None]:
    client = await db.connect(mongodb_url, mongodb_db_name)
    yield
    await client.close()


class Dispatched:
    """Messages a consumer published that a test wants to see (dead letters, control)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, dict]] = []

    async def wait(self, where: str, timeout: float = 10) -> dict:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for name, body in self.messages:
                if name == where:
                    return body
            assert asyncio.get_running_loop().time() < deadline, f"nothing on {where}"
            await asyncio.sleep(0.02)


@pytest.fixture(params=[False, True], ids=["in-memory", "real"])
async def consumer(request, module_vhost: str, beanie, mongodb_url: str,
                   mongodb_db_name: str) -> AsyncIterator[Callable[..., Any]]:
    """consumer(module) -> (broker, platform, seen): that consumer's router, running."""
    started: list[tuple[TestRabbitBroker, Platform]] = []

    async def start(module: Any) -> tuple[RabbitBroker, Platform, Dispatched]:
        settings = Settings(environment="development", rabbitmq_url=module_vhost,
                            mongodb_url=mongodb_url, mongodb_db=mongodb_db_name)
        broker = RabbitBroker(module_vhost, middlewares=[amqp.ConsumeErrorPolicy])
        platform = Platform(settings=settings, broker=broker,
                            secretbox=SecretBox(settings.encryption_key))
        broker.include_router(module.build_router(platform))
        seen = Dispatched()
        broker.include_router(_observer(seen))
        test_broker = TestRabbitBroker(broker, with_real=request.param)
        await test_broker.__aenter__()
        started.append((test_broker, platform))
        if request.param:
            await amqp.declare_topology(broker)
        return broker, platform, seen

    yield start
    for test_broker, platform in started:
        await platform.jobs.close()
        await platform.feed.close()  # its last changes go out while the broker is there
        await test_broker.__aexit__(None, None, None)


def _observer(seen: Dispatched) -> RabbitRouter:
    router = RabbitRouter()
    tag = secrets.token_hex(4)

    @router.subscriber(RabbitQueue(f"test.control.{tag}", auto_delete=True,
                                   routing_key=names.CONTROL_PATTERN), amqp.CONTROL)
    async def control(body: dict) -> None:
        seen.messages.append(("control", body))

    @router.subscriber(RabbitQueue(f"test.changes.{tag}", auto_delete=True,
                                   routing_key=names.CHANGES_PATTERN), amqp.CHANGES)
    async def changes(body: dict) -> None:
        seen.messages.append(("changes", body))

    @router.subscriber(RabbitQueue(f"test.dispatch.{tag}", auto_delete=True,
                                   routing_key=f"{names.DISPATCH_KEY_PREFIX}.#"), amqp.JOBS)
    async def dispatch(body: dict) -> None:
        seen.messages.append(("dispatch", body))

    @router.subscriber(amqp.DEAD_LETTER_QUEUE)  # dead letters are published to it directly
    async def dead(body: Any, message: RabbitMessage) -> None:
        seen.messages.append(("dead-letter", {"body": body, "headers": dict(message.headers)}))

    return router


async def stored_job(**fields: Any) -> JobView:
    """A job as the API stores it (queued, attempt 1), inserted straight into MongoDB."""
    record = JobRecord(tenant_id=fields.pop("tenant_id", "tenant-c"), command="true", **fields)
    job = JobView.model_validate({"_id": ObjectId(), **record.model_dump()})
    await Job.get_pymongo_collection().insert_one(job.model_dump(by_alias=True,
                                                                 exclude_none=True))
    return job


async def read_job(job_id: Any) -> JobView:
    return JobView.model_validate(
        await Job.get_pymongo_collection().find_one({"_id": ObjectId(str(job_id))}))


def ms(at: Any) -> Any:
    """A datetime as MongoDB keeps it: to the millisecond."""
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


async def eventually(check: Callable[[], Any], timeout: float = 10) -> Any:
    """Await `check()` until it returns something truthy (the real broker is asynchronous)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)
