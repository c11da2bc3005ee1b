"""Every exchange, queue, routing key, collection and Socket.IO event name.

Nobody types one of these strings anywhere else. The worker imports this module too, so it
must stay free of broker and database imports.
"""

import hashlib

# --- RabbitMQ exchanges (all durable) -------------------------------------------------------
JOBS_EXCHANGE = "jobrunner.jobs"  # topic: submissions, dispatch, job events
LOGS_EXCHANGE = "jobrunner.logs"  # topic: output batches
HEARTBEATS_EXCHANGE = "jobrunner.heartbeats"  # topic: worker presence and heartbeats
CONTROL_EXCHANGE = "jobrunner.control"  # topic: API -> every master (cancel, drain, ...)
DEAD_LETTER_EXCHANGE = "jobrunner.dlx"  # fanout: where rejected messages end up
CHANGES_EXCHANGE = "jobrunner.changes"  # topic: the live feed, API -> every API process
SETTLE_EXCHANGE = "jobrunner.settle"  # fanout: redelivered dispatch messages wait (SETTLE_QUEUE)

# --- routing keys ---------------------------------------------------------------------------
SUBMIT_KEY = "job.submit"  # SPEC §4: AMQP producers publish here
DISPATCH_KEY_PREFIX = "job.dispatch"  # + .<tenant>.<labelset>: API -> master
JOB_STARTED_KEY = "job.event.started"
JOB_FINISHED_KEY = "job.event.finished"
JOB_RAN_KEY = "job.event.ran"  # a short attempt's start, output and end in one event
JOB_CANCEL_REQUESTED_KEY = "job.event.cancel-requested"
JOB_ASSIGNED_KEY = "job.event.assigned"
JOB_EXPIRED_KEY = "job.event.expired"
JOB_UNRUNNABLE_KEY = "job.event.unrunnable"
JOB_EVENTS_BATCH_KEY = "job.event.batch"  # several of the above in one message
JOB_EVENTS_PATTERN = "job.event.*"
LOG_BATCH_KEY = "log.batch"
LOG_BATCHES_KEY = "log.batches"  # several batches in one message
LOGS_PATTERN = "log.*"
HEARTBEAT_KEY = "heartbeat.beat"
WORKER_CONNECTED_KEY = "heartbeat.connected"
WORKER_DISCONNECTED_KEY = "heartbeat.disconnected"
HEARTBEAT_BATCH_KEY = "heartbeat.batch"  # several of the above in one message
HEARTBEATS_PATTERN = "heartbeat.*"
CONTROL_CANCEL_KEY = "control.job.cancel"
CONTROL_DRAIN_KEY = "control.worker.drain"
CONTROL_QUEUE_ADDED_KEY = "control.queue.added"
CONTROL_KEY_REVOKED_KEY = "control.apikey.revoked"
CONTROL_PATTERN = "control.#"
# The live feed: changes applied to MongoDB, batched per tenant, for the /events and log
# streams of every API process. + .<tenant>.
CHANGE_KEY_PREFIX = "change"
CHANGES_PATTERN = "change.#"

# --- queues -----------------------------------------------------------------------------------
SUBMIT_QUEUE = "jobrunner.jobs.submit"  # consumed by the API
REJECTED_QUEUE = "jobrunner.jobs.rejected"  # SPEC §4: bad submissions, header x-reject-reason
# Quorum queues consumed by every API process at once. ".v2": the classic queues of the same
# name without it (one with a single active consumer) were retired; see RETIRED_QUEUES.
JOB_EVENTS_QUEUE = "jobrunner.api.job-events.v2"
LOGS_QUEUE = "jobrunner.api.logs.v2"
HEARTBEATS_QUEUE = "jobrunner.api.heartbeats.v2"
# Queues of earlier versions: an API that finds one moves what is left in it to its exchange
# (so to the queue that replaced it), then deletes it.
RETIRED_QUEUES = ("jobrunner.api.job-events", "jobrunner.api.logs", "jobrunner.api.heartbeats")
DEAD_LETTER_QUEUE = "jobrunner.dead-letter"
DISPATCH_QUEUE_PREFIX = "jobrunner.dispatch"  # + .<tenant>.<labelset>
MASTER_CONTROL_QUEUE_PREFIX = "jobrunner.master.control"  # + .<instance>, exclusive
API_CHANGES_QUEUE_PREFIX = "jobrunner.api.changes"  # + .<instance>, exclusive, auto-delete

# Declared identically by the API (which publishes) and the master (which consumes): classic
# queues, because quorum queues only support priorities from RabbitMQ 4.0 on.
DISPATCH_QUEUE_ARGUMENTS = {"x-max-priority": 9, "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE}
# A dispatch message delivered again (its master or worker session went away before
# acknowledging it) may have been taken by a worker whose start has not reached the API yet:
# it waits here for its expiration (the master's REDELIVERY_SETTLE_SECONDS), then is
# dead-lettered to JOBS_EXCHANGE under the routing key it came with, so back to its dispatch
# queue, and checked again. Quorum, dead-lettered at least once: never lost on the way back.
SETTLE_QUEUE = "jobrunner.settle"
SETTLE_QUEUE_ARGUMENTS = {"x-dead-letter-exchange": JOBS_EXCHANGE,
                          "x-dead-letter-strategy": "at-least-once",
                          "x-overflow": "reject-publish"}

# --- message headers --------------------------------------------------------------------------
API_KEY_HEADER = "x-api-key"
REJECT_REASON_HEADER = "x-reject-reason"
# On a dispatch message: when its attempt was queued (milliseconds since the epoch, the API's
# clock), so that a master may trust its revocation list instead of reading the job
# (jobrunner_master/revocations.py); and, on a copy the sweeper publishes again (its first may
# be out there too), a mark that the master must read the job first.
QUEUED_AT_HEADER = "x-jobrunner-queued-at"
COPY_HEADER = "x-jobrunner-copy"
DEATH_HEADER = "x-death"  # RabbitMQ's, on a dead-lettered message (back from the settle queue)

# --- MongoDB collections read by more than one service ----------------------------------------
API_KEYS_COLLECTION = "api_keys"
DISPATCH_QUEUES_COLLECTION = "dispatch_queues"
JOBS_COLLECTION = "jobs"
SECRETS_COLLECTION = "secrets"  # API only; ciphertexts, `_id` = "<tenant>:<name>"

# --- Socket.IO (SPEC §5) ----------------------------------------------------------------------
WORKERS_NAMESPACE = "/workers"
EV_JOB_ASSIGN = "job:assign"  # master -> worker, acknowledged
EV_JOB_STARTED = "job:started"  # worker -> master, acknowledged
EV_JOB_LOG = "job:log"  # worker -> master, acknowledged
EV_JOB_FINISHED = "job:finished"  # worker -> master, acknowledged
# worker -> master, acknowledged: instead of the three above, for an attempt that ended before
# its start was sent (a master that does not know it answers with an empty ack)
EV_JOB_RAN = "job:ran"
EV_HEARTBEAT = "heartbeat"  # worker -> master
EV_JOB_CANCEL = "job:cancel"  # master -> worker
EV_WORKER_DRAIN = "worker:drain"  # master -> worker


def labelset_key(labels: list[str] | tuple[str, ...] | set[str]) -> str:
    """A short, stable name for a set of labels: the same set always maps to the same queue."""
    unique = sorted(set(labels))
    if not unique:
        return "any"
    return hashlib.sha256("\n".join(unique).encode()).hexdigest()[:16]


def dispatch_queue(tenant_id: str, labels: list[str] | tuple[str, ...] | set[str]) -> str:
    """The queue holding a tenant's queued jobs that need exactly this set of labels."""
    return f"{DISPATCH_QUEUE_PREFIX}.{tenant_id}.{labelset_key(labels)}"


def dispatch_routing_key(tenant_id: str, labels: list[str] | tuple[str, ...] | set[str]) -> str:
    return f"{DISPATCH_KEY_PREFIX}.{tenant_id}.{labelset_key(labels)}"


def change_key(tenant_id: str) -> str:
    """The routing key of a tenant's live-feed changes: change.<tenant>."""
    return f"{CHANGE_KEY_PREFIX}.{tenant_id}"
