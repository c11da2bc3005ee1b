"""Submitting jobs over AMQP (SPEC §4): the consumer of `jobrunner.jobs.submit`.

A producer publishes a JobSpec body to `jobrunner.jobs` with routing key `job.submit` and header
`x-api-key: <submit key>`; the key's tenant owns the job. `message_id` is the idempotency key.
With `reply_to` the producer gets `{job_id, status}` or `{error}` (correlation_id copied).

What happens to a message:
- accepted: the job is stored and published, then the message is acknowledged;
- the producer's fault (not JSON, not a valid JobSpec, a secret the tenant does not have,
  missing/unknown/revoked/worker key):
  copied to `jobrunner.jobs.rejected` with `x-reject-reason` and without the key, then
  acknowledged: retrying cannot make it valid;
- a dependency is down (MongoDB, RabbitMQ): not acknowledged, so it comes back later; the
  queue's delivery limit sends a message that never gets through to the dead-letter queue.
"""

import json
import logging
from typing import Any

from aio_pika.abc import AbstractIncomingMessage
from aio_pika.exceptions import ChannelInvalidStateError
from faststream.rabbit import RabbitRouter
from faststream.rabbit.message import RabbitMessage as StreamRabbitMessage
from pydantic import ValidationError
from pymongo.errors import ConnectionFailure

from jobrunner_api.documents import ApiKey
from jobrunner_api.jobstore import InvalidSubmission
from jobrunner_api.platform import Platform
from jobrunner_shared import amqp, names
from jobrunner_shared.apikeys import hash_api_key
from jobrunner_shared.messages import JobSpec, SubmitReply

log = logging.getLogger(__name__)

MAX_IDEMPOTENCY_KEY = 200  # JobSpec.idempotency_key
# A RabbitMQ outage shows up as one of these while publishing: retry, never reject.
RABBITMQ_UNAVAILABLE = (ConnectionError, ChannelInvalidStateError, TimeoutError)


class Rejected(Exception):
    """The message can never be accepted; `reason` tells its producer why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _raw_body(message: StreamRabbitMessage) -> bytes:
    """Leave the body undecoded: malformed JSON must become a rejection with a reason."""
    return message.body


def build_router(platform: Platform) -> RabbitRouter:
    router = RabbitRouter()

    # no_reply: replies are published here, on the default exchange only, and a reply that
    # cannot be delivered never undoes an accepted submission.
    @router.subscriber(
        amqp.SUBMIT_QUEUE, amqp.JOBS, title="job-submissions", decoder=_raw_body, no_reply=True
    )
    async def on_submit(body: bytes) -> None:
        """A job submitted over AMQP by a holder of a submit key."""
        # The message being handled, from the broker's context.
        message: StreamRabbitMessage = platform.broker.context.get_local("message")
        raw: AbstractIncomingMessage = message.raw_message
        try:
            reply = await _handle(platform, raw, body)
        except (amqp.TransientError, ConnectionFailure):
            raise  # requeued by the consume-error policy
        except Exception as exc:
            # Why: only a failure to store the job or to keep a copy of the message gets here;
            # the message itself is fine, so it is retried (the delivery limit bounds that).
            raise amqp.TransientError(f"submission not processed: {exc!r}") from exc
        await _reply(platform, raw, reply)

    return router


async def _handle(platform: Platform, raw: AbstractIncomingMessage, body: bytes) -> SubmitReply:
    try:
        return await _accept(platform, raw, body)
    except Rejected as rejected:
        await _reject(platform, raw, rejected.reason)
        return SubmitReply(error=rejected.reason)
    except (amqp.TransientError, ConnectionFailure, *RABBITMQ_UNAVAILABLE):
        raise
    except Exception as exc:  # noqa: BLE001 - a bug must neither loop nor leak the key
        log.exception("AMQP submission %s failed", raw.message_id)
        reason = f"internal error: {type(exc).__name__}"
        await amqp.publish_dead_letter(
            platform.broker, body, reason, raw.routing_key or "",
            headers={**_headers_without_key(raw), "x-original-exchange": raw.exchange or ""},
            content_type=raw.content_type, message_id=raw.message_id,
        )
        return SubmitReply(error=reason)


async def _accept(platform: Platform, raw: AbstractIncomingMessage, body: bytes) -> SubmitReply:
    tenant_id = await _tenant_of(raw)
    spec = _parse(body)
    if not spec.idempotency_key and raw.message_id:
        # The body's own idempotency_key wins, as on REST over the Idempotency-Key header.
        if len(raw.message_id) > MAX_IDEMPOTENCY_KEY:
            raise Rejected(
                f"message_id: at most {MAX_IDEMPOTENCY_KEY} characters "
                "(it is the idempotency key)"
            )
        spec = spec.model_copy(update={"idempotency_key": raw.message_id})
    try:
        # Two copies of one message handled at once store one job: the idempotency key's
        # unique index decides (jobstore.Jobs.submit).
        job, created = await platform.jobs.submit(spec, tenant_id)
    except InvalidSubmission as exc:
        raise Rejected(f"body.{exc.reason}") from exc
    log.info("AMQP submission %s: job %s%s", raw.message_id, job.id, "" if created else " (again)")
    return SubmitReply(job_id=str(job.id), status=job.status)


async def _tenant_of(raw: AbstractIncomingMessage) -> str:
    key = (raw.headers or {}).get(names.API_KEY_HEADER)
    if isinstance(key, bytes):
        key = key.decode("utf-8", errors="replace")
    if not key:
        raise Rejected(f"no {names.API_KEY_HEADER} header: a submit key is required")
    if not isinstance(key, str):
        raise Rejected(f"the {names.API_KEY_HEADER} header must be a string")
    api_key = await ApiKey.find_one(ApiKey.key_hash == hash_api_key(key))
    if api_key is None or not api_key.usable():
        raise Rejected("unknown, revoked or expired submit key")
    if api_key.kind != "submit":
        raise Rejected(f"{names.API_KEY_HEADER} is a {api_key.kind} key, not a submit key")
    return api_key.tenant_id


def _parse(body: bytes) -> JobSpec:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError
        raise Rejected(f"invalid JSON: {exc}") from exc
    try:
        return JobSpec.model_validate(data)
    except ValidationError as exc:
        raise Rejected(_validation_reason(exc)) from exc


def _validation_reason(exc: ValidationError) -> str:
    """Like REST's 422 detail, in one line: `body.<field>: <message>; ...`."""
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(["body", *(str(p) for p in err.get("loc", ()))])
        parts.append(f"{where}: {err.get('msg')}")
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def _headers_without_key(raw: AbstractIncomingMessage) -> dict[str, Any]:
    # Why: dead-letter queues are read by operators; a submit key must never be kept there.
    return {
        k: v for k, v in (raw.headers or {}).items() if k.lower() != names.API_KEY_HEADER
    }


async def _reject(platform: Platform, raw: AbstractIncomingMessage, reason: str) -> None:
    """Keep the message in the rejected queue; confirmed before the original is acknowledged."""
    await platform.broker.publish(
        raw.body,
        queue=amqp.REJECTED_QUEUE,
        persist=True,
        headers={
            **_headers_without_key(raw),
            names.REJECT_REASON_HEADER: reason,
            "x-original-routing-key": raw.routing_key or "",
        },
        content_type=raw.content_type,
        message_id=raw.message_id,
        correlation_id=raw.correlation_id,
        timestamp=raw.timestamp,
    )
    log.warning("rejected AMQP submission %s: %s", raw.message_id, reason)


async def _reply(platform: Platform, raw: AbstractIncomingMessage, reply: SubmitReply) -> None:
    if not raw.reply_to:
        return
    try:
        await platform.broker.publish(
            reply.model_dump_json(exclude_none=True).encode(),
            routing_key=raw.reply_to,  # on the default exchange: straight to that queue
            correlation_id=raw.correlation_id,
            content_type="application/json",
            # A producer that stopped listening is no error: its job is stored all the same.
            mandatory=False,
        )
    except Exception:  # noqa: BLE001 - the submission itself is done; do not redo it
        log.warning("could not reply to %s for %s", raw.reply_to, raw.message_id, exc_info=True)
