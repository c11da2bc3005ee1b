"""Several RabbitMQ nodes in RABBITMQ_URL: the services go on with whichever answers."""

import pytest

from jobrunner_shared import amqp
from tests.support.ports import free_port

pytestmark = pytest.mark.integration


def test_the_setting_lists_one_node_or_several() -> None:
    assert amqp.amqp_urls("amqp://a/") == ["amqp://a/"]
    assert amqp.amqp_urls(" amqp://a/, amqp://b/ ,") == ["amqp://a/", "amqp://b/"]
    with pytest.raises(ValueError):
        amqp.amqp_urls(" , ")


async def test_a_node_that_is_down_is_passed_over(rabbitmq_url: str) -> None:
    # Given the first node listed down (nothing listens there)
    down = f"amqp://guest:guest@127.0.0.1:{free_port()}/"
    for urls in (f"{down},{rabbitmq_url}", f"{rabbitmq_url},{down}"):
        # When a service's broker and its own connection start
        broker = amqp.broker(urls)
        await broker.connect()
        try:
            # Then they are on the node that answers, and work
            assert broker._connection.url.port != int(down.rsplit(":", 1)[1].strip("/"))
            await broker.publish("hello", queue="jobrunner.test.nodes", mandatory=False)
        finally:
            await broker.stop()
        connection = await amqp.connect(urls)
        try:
            channel = await connection.channel()
            await channel.declare_queue("jobrunner.test.nodes", auto_delete=True)
        finally:
            await connection.close()
