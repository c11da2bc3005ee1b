"""Writes infra/rabbitmq/definitions.json from the services' own RabbitMQ objects.

    .venv/bin/python infra/rabbitmq/generate_definitions.py

Run it after changing an exchange or a static queue in shared/jobrunner_shared/amqp.py: a queue
in the definitions with other arguments than the services declare makes their declaration fail
(PRECONDITION_FAILED). tests/deploy/test_compose.py fails until the file is regenerated.
Per-tenant dispatch queues are not in it: the services create them as tenants appear.
"""

import json
import sys
from pathlib import Path
from typing import Any

from jobrunner_shared import amqp, names

OUT = Path(__file__).resolve().with_name("definitions.json")
VHOST = "/"
# Bound to an exchange by the services (queue, exchange, routing key); the others are not bound.
BOUND = [
    (amqp.DEAD_LETTER_QUEUE, amqp.DEAD_LETTERS, names.DEAD_LETTER_QUEUE),  # aio-pika's default key
    (amqp.SUBMIT_QUEUE, amqp.JOBS, names.SUBMIT_KEY),
    (amqp.JOB_EVENTS_QUEUE, amqp.JOBS, names.JOB_EVENTS_PATTERN),
    (amqp.LOGS_QUEUE, amqp.LOGS, names.LOGS_PATTERN),
    (amqp.HEARTBEATS_QUEUE, amqp.HEARTBEATS, names.HEARTBEATS_PATTERN),
    (amqp.SETTLE_QUEUE, amqp.SETTLE, names.SETTLE_QUEUE),  # aio-pika's default key
]
QUEUES = [amqp.DEAD_LETTER_QUEUE, amqp.REJECTED_QUEUE] + [q for q, _, _ in BOUND[1:]]
EXCHANGES = [amqp.JOBS, amqp.LOGS, amqp.HEARTBEATS, amqp.CONTROL, amqp.CHANGES, amqp.DEAD_LETTERS,
             amqp.SETTLE]
# Only a fallback: a queue's own x-dead-letter-exchange argument wins over a policy. It gives
# queues declared without one (the masters' control queues) a dead-letter target, and spares
# the dead-letter queues themselves. Delivery limits are left out on purpose: the policy key
# `delivery-limit` acts on quorum queues only, and the one quorum queue (job submissions) sets
# its own; the others are classic (dispatch queues need priorities, which quorum queues lack
# before RabbitMQ 4.0).
POLICIES = [
    {
        "vhost": VHOST,
        "name": "jobrunner-dead-letter-fallback",
        "pattern": r"^jobrunner\.(?!dead-letter$|jobs\.rejected$)",
        "apply-to": "queues",
        "priority": 0,
        "definition": {"dead-letter-exchange": names.DEAD_LETTER_EXCHANGE},
    }
]


def definitions() -> dict[str, Any]:
    return {
        "exchanges": [
            {
                "name": x.name,
                "vhost": VHOST,
                "type": x.type.value,
                "durable": bool(x.durable),
                "auto_delete": bool(x.auto_delete),
                "internal": False,
                "arguments": dict(x.arguments or {}),
            }
            for x in EXCHANGES
        ],
        "queues": [
            {
                "name": q.name,
                "vhost": VHOST,
                "durable": bool(q.durable),
                "auto_delete": bool(q.auto_delete),
                "arguments": dict(q.arguments or {}),
            }
            for q in QUEUES
        ],
        "bindings": [
            {
                "source": x.name,
                "vhost": VHOST,
                "destination": q.name,
                "destination_type": "queue",
                "routing_key": key,
                "arguments": {},
            }
            for q, x, key in BOUND
        ],
        "policies": POLICIES,
    }


def render() -> str:
    return json.dumps(definitions(), indent=2) + "\n"


if __name__ == "__main__":
    OUT.write_text(render())
    print(f"wrote {OUT}", file=sys.stderr)
