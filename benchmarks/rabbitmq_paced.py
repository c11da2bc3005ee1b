"""RabbitMQ's own CPU per message when messages come at a steady pace, as a job runner's do.

A burst of messages shares RabbitMQ's work (one disk sync for many confirms, one wake-up for
many frames); messages that come one at a time each pay for all of it. This publishes N
messages at RATE per second to a durable queue of each kind, consumes and acknowledges them,
and prints RabbitMQ's CPU (user + system, psutil) per message for: persistent and confirmed
(what the platform publishes), persistent without confirms (Celery's task messages), transient
and confirmed, and persistent and confirmed four at a time.

    scripts/with-infra.sh .venv/bin/python benchmarks/rabbitmq_paced.py [--messages N] [--rate R]

It uses the broker at RABBITMQ_URL (default vhost) and deletes the queues it declares.
"""

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import aio_pika

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.run import cpu_seconds, listener_pid, per_job  # noqa: E402

QUEUE_ARGUMENTS = {
    "classic": {},
    "classic, 10 priorities": {"x-max-priority": 9},
    "quorum": {"x-queue-type": "quorum"},
    "classic v2": {"x-queue-version": 2},
}
# (publisher confirms, delivery mode, messages published together)
MODES = {
    "persistent, confirmed": (True, 2, 1),
    "persistent, no confirms": (False, 2, 1),
    "transient, confirmed": (True, 1, 1),
    "persistent, confirmed, 4 at a time": (True, 2, 4),
}
BODY = b'{"job_id": "6755a3c2f1e4b2a9c8d7e6f5", "attempt": 1, "command": "echo hello"}' * 3


async def measure(url: str, broker: int, arguments: dict, confirms: bool, mode: int,
                  together: int, messages: int, rate: float) -> float:
    """RabbitMQ's CPU in µs per message published, delivered and acknowledged."""
    connection = await aio_pika.connect(url)
    try:
        publisher = await connection.channel(publisher_confirms=confirms)
        consumer = await connection.channel()
        await consumer.set_qos(prefetch_count=16)
        queue = await consumer.declare_queue(f"bench.paced.{os.getpid()}", durable=True,
                                             arguments=arguments)
        received = 0
        all_in = asyncio.Event()

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal received
            await message.ack()
            received += 1
            if received == messages:
                all_in.set()

        tag = await queue.consume(on_message)
        before = cpu_seconds({"rabbitmq": broker})
        for start in range(0, messages, together):
            count = min(together, messages - start)
            await asyncio.gather(*(
                publisher.default_exchange.publish(
                    aio_pika.Message(BODY, delivery_mode=mode), routing_key=queue.name)
                for _ in range(count)))
            await asyncio.sleep(count / rate)
        await asyncio.wait_for(all_in.wait(), 60)
        spent = per_job(before, cpu_seconds({"rabbitmq": broker}), messages, scale=1e6)
        await queue.cancel(tag)
        await queue.delete(if_unused=False, if_empty=False)
        return spent["rabbitmq"]
    finally:
        await connection.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1500)
    parser.add_argument("--rate", type=float, default=250.0, help="messages per second")
    args = parser.parse_args()
    url = os.environ.get("RABBITMQ_URL", "amqp://guest:guest@localhost:5672/")
    broker = listener_pid(urlsplit(url).port or 5672)  # as benchmarks/run.py finds it
    if broker is None:
        raise SystemExit("no process listens on RabbitMQ's port here: run this beside the broker")
    print(f"{args.messages} messages at {args.rate:g}/s; RabbitMQ's CPU per message:")
    for kind, arguments in QUEUE_ARGUMENTS.items():
        for mode_name, (confirms, mode, together) in MODES.items():
            started = time.monotonic()
            us = await measure(url, broker, arguments, confirms, mode, together,
                               args.messages, args.rate)
            print(f"  {kind:24} {mode_name:36} {us:6.0f} µs "
                  f"({time.monotonic() - started:.1f} s)", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
