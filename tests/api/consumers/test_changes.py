"""The live-feed consumer: a batch of changes published anywhere reaches this process's streams."""

import asyncio
from datetime import UTC, datetime

import pytest

from jobrunner_api.consumers import changes
from jobrunner_shared import amqp, names
from jobrunner_shared.messages import ChangeBatch, JobChange, LogChange

pytestmark = pytest.mark.integration


async def test_changes_reach_the_streams_of_their_tenant(consumer) -> None:
    broker, platform, _ = await consumer(changes)
    async with platform.hub.events("t-feed") as stream:
        with platform.hub.log_waiter("j-1") as woken:
            batch = ChangeBatch(tenant_id="t-feed", changes=[
                JobChange(tenant_id="t-feed", job_id="j-1", updated_at=datetime.now(UTC),
                          data='{"id": "j-1"}'),
                LogChange(tenant_id="t-feed", job_id="j-1", attempt=1, last_seq=3),
            ])
            await broker.publish(batch, exchange=amqp.CHANGES,
                                 routing_key=names.change_key("t-feed"))
            change = await asyncio.wait_for(stream.get(), 10)
            assert change.data == '{"id": "j-1"}'
            await asyncio.wait_for(woken.wait(), 10)
