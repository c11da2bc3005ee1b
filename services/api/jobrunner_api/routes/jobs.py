"""Jobs: submit, list, read, cancel, rerun (one job, or up to MAX_BULK at once)."""

import asyncio
import json
import re
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from beanie import PydanticObjectId
from bson import ObjectId
from fastapi import APIRouter, Header, HTTPException, Query, Request, Response, status
from fastapi.routing import APIRoute

from jobrunner_api import audit, transitions
from jobrunner_api.deps import Caller, CallerDep, MemberDep, PlatformDep, allowed, caller_of
from jobrunner_api.documents import Job, JobView
from jobrunner_api.jobstore import InvalidSubmission
from jobrunner_api.platform import Platform
from jobrunner_api.responses import errors
from jobrunner_api.schemas import CancelResults, JobIds, JobOut, JobPage, RerunResults
from jobrunner_shared.messages import JobSpec, JobStatus, utcnow

router = APIRouter(tags=["jobs"])

JobSort = Literal["-created_at", "created_at", "-finished_at", "finished_at"]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A job's `_id` is made in the same instant as its `created_at` (jobstore.Jobs.submit), and an
# ObjectId begins with the second it was made: its second is created_at's or the next one.
ID_SLACK = timedelta(seconds=2)
# The times a job's id can hold (32 bits of seconds from 1970): a range beyond them is
# refused (422), not turned into an `_id` bound that cannot be.
LAST_CREATED = datetime(2106, 1, 1, tzinfo=UTC)
FINISHED_CURSOR = re.compile(r"^(\d{1,14})-([0-9a-f]{24})$")  # ms up to the year 5138


def not_found(job_id: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=f"job {job_id} not found")


def invalid(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=detail)


async def tenant_job(platform: PlatformDep, job_id: str, tenant_id: str) -> JobView:
    """The job, or 404 when it does not exist or belongs to another tenant."""
    job = await platform.jobs.get(job_id, tenant_id)
    if job is None:
        raise not_found(job_id)
    return job


# The longest Idempotency-Key header taken.
IDEMPOTENCY_KEY_MAX = 200


async def submit_job(
    spec: JobSpec,
    caller: MemberDep,
    platform: PlatformDep,
    idempotency_key: Annotated[str | None, Header(max_length=IDEMPOTENCY_KEY_MAX)] = None,
) -> Response:
    return await submit(spec, caller, platform, idempotency_key)


async def submit(spec: JobSpec, caller: Caller, platform: Platform,
                 idempotency_key: str | None) -> Response:
    if idempotency_key and not spec.idempotency_key:
        spec = spec.model_copy(update={"idempotency_key": idempotency_key})
    job, created = await platform.jobs.submit(spec, caller.tenant_id)
    # Serialized here, once: the hottest route skips FastAPI's second validation of the model.
    return Response(JobOut.of(job).model_dump_json(), media_type="application/json",
                    status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


async def submit_directly(request: Request) -> Response | None:
    """The answer to a well-formed submission by a member, or None: FastAPI's own path then
    answers (401, 403, 422: its answers, word for word)."""
    headers = request.headers
    if headers.get("content-type", "").partition(";")[0].strip().lower() != "application/json":
        return None
    key = headers.get("idempotency-key")
    if key is not None and len(key) > IDEMPOTENCY_KEY_MAX:
        return None
    scheme, _, token = headers.get("authorization", "").partition(" ")  # as OAuth2PasswordBearer
    if scheme.lower() != "bearer" or not token:
        return None
    platform: Platform = request.app.state.platform
    try:
        caller = allowed(await caller_of(platform, token, request), "member")
    except HTTPException:
        return None
    try:
        spec = JobSpec.model_validate(json.loads(await request.body()))
    except ValueError:  # not JSON, or not a valid job (pydantic's ValidationError is one)
        return None
    return await submit(spec, caller, platform, key)


class SubmitRoute(APIRoute):
    """POST /jobs, the hottest request: a well-formed submission by a member is answered
    without FastAPI's dependency solving, which cost ~0.1 ms of the API's CPU per job (a tenth
    of what submitting costs it). Whatever else comes takes FastAPI's path as declared below,
    so its answers, and the OpenAPI schema, stay FastAPI's."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        standard = super().get_route_handler()

        async def handle(request: Request) -> Response:
            return await submit_directly(request) or await standard(request)

        return handle


router.add_api_route(
    "/jobs", submit_job, methods=["POST"], route_class_override=SubmitRoute,
    status_code=status.HTTP_201_CREATED,
    response_model=JobOut,
    responses={200: {"model": JobOut, "description": "A repeated idempotency key: the first job"},
               **errors(403)},
)


def as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def created_range(after: datetime | None, before: datetime | None) -> dict:
    """Jobs created in [after, before): the exact bounds on `created_at`, and the `_id` bounds
    they imply, so that the (..., _id) index of every filter narrows to the range."""
    query: dict = {}
    if after is None and before is None:
        return query
    query["created_at"] = {}
    query["_id"] = {}
    if after is not None:
        query["created_at"]["$gte"] = after
        query["_id"]["$gte"] = ObjectId.from_datetime(max(after - ID_SLACK, EPOCH))
    if before is not None:
        query["created_at"]["$lt"] = before
        query["_id"]["$lt"] = ObjectId.from_datetime(before + ID_SLACK)
    return query


def finished_cursor(job: JobView) -> str:
    assert job.finished_at is not None  # a finished_at sort lists only jobs that ended
    return f"{(job.finished_at - EPOCH) // timedelta(milliseconds=1)}-{job.id}"


def page_order(sort: JobSort, cursor: str | None, query: dict) -> list[tuple[str, int]]:
    """Adds the sort's conditions (and the cursor's: the page after that job) to `query`;
    returns the sort. Every sort ends on `_id`, so the order is total and a cursor exact."""
    direction = -1 if sort.startswith("-") else 1
    if sort.endswith("created_at"):
        # Creation order is `_id` order (see ID_SLACK): each filter's (..., _id) index serves
        # both directions, and the cursor is the last `_id`, as it always was.
        if cursor is not None:
            if not PydanticObjectId.is_valid(cursor):
                raise invalid(f"invalid cursor for sort={sort}")
            ids = query.setdefault("_id", {})
            op, value = ("$lt", min) if direction < 0 else ("$gt", max)
            ids[op] = value(ids[op], ObjectId(cursor)) if op in ids else ObjectId(cursor)
        return [("_id", direction)]
    # By the time the job ended: only jobs that did, by (tenant_id, [status,] finished_at, _id).
    query["finished_at"] = {"$gte": EPOCH}
    if cursor is not None:
        match = FINISHED_CURSOR.match(cursor)
        if match is None:
            raise invalid(f"invalid cursor for sort={sort} (a cursor belongs to the sort it "
                          "came with)")
        at = EPOCH + timedelta(milliseconds=int(match[1]))
        last = ObjectId(match[2])
        # The jobs past `at`, and those ended at `at` itself that come after the last one.
        # Why $nor and not an $or of the two: one range on finished_at for the index.
        query["finished_at"] = {"$lte": at} if direction < 0 else {"$gte": at}
        query["$nor"] = [{"finished_at": at, "_id": {"$gte" if direction < 0 else "$lte": last}}]
    return [("finished_at", direction), ("_id", direction)]


@router.get("/jobs")
async def list_jobs(
    caller: CallerDep,
    status_: Annotated[JobStatus | None, Query(alias="status")] = None,
    label: str | None = None,
    worker: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
    q: Annotated[
        str | None,
        Query(max_length=200, description="Text in the job's name, command or argv (any case)."),
    ] = None,
    created_after: Annotated[datetime | None, Query(
        description="Only jobs created at or after this time (ISO 8601; without a time zone: "
        "UTC).")] = None,
    created_before: Annotated[datetime | None, Query(
        description="Only jobs created before this time (ISO 8601; without a time zone: UTC)."
    )] = None,
    sort: Annotated[JobSort, Query(
        description="`-created_at` (newest first, the default) or `created_at`; "
        "`-finished_at` / `finished_at`: by the time the job ended, only jobs that ended. "
        "Pass `next_cursor` back with the same sort and filters for the following page.",
    )] = "-created_at",
) -> JobPage:
    after, before = as_utc(created_after), as_utc(created_before)
    for name, value in (("created_after", after), ("created_before", before)):
        if value is not None and not EPOCH <= value < LAST_CREATED:
            raise invalid(f"{name} must be between 1970 and 2105 (UTC)")
    if after is not None and before is not None and after >= before:
        raise invalid("created_after must be earlier than created_before")
    query: dict = {"tenant_id": caller.tenant_id, **created_range(after, before)}
    either: list[list[dict]] = []
    if status_ is not None:
        query["status"] = status_.value
    if label:
        query["labels"] = label
    if worker:
        either.append([{"worker": worker}, {"worker_name": worker}])  # MongoDB: index union
    if q:
        text = {"$regex": re.escape(q), "$options": "i"}
        either.append([{"name": text}, {"command": text}, {"argv": text}])
    if either:
        query["$and"] = [{"$or": alternatives} for alternatives in either]
    order = page_order(sort, cursor, query)
    # Indexes: docs/architecture.md, "Every query and its index" (GET /jobs).
    docs = await Job.get_pymongo_collection().find(query).sort(order).limit(limit + 1).to_list()
    items = [JobView.model_validate(doc) for doc in docs]
    next_cursor = None
    if len(items) > limit:
        last = items[limit - 1]
        next_cursor = str(last.id) if sort.endswith("created_at") else finished_cursor(last)
    return JobPage(items=[JobOut.of(j) for j in items[:limit]], next_cursor=next_cursor)


@router.get("/jobs/{job_id}", responses=errors(404))
async def get_job(job_id: str, caller: CallerDep, platform: PlatformDep) -> JobOut:
    return JobOut.of(await tenant_job(platform, job_id, caller.tenant_id))


@router.post("/jobs/{job_id}/cancel", status_code=status.HTTP_202_ACCEPTED,
             responses=errors(403, 404))
async def cancel_job(job_id: str, caller: MemberDep, platform: PlatformDep) -> JobOut:
    """Ask for the job to end: a queued job never starts, a running one is stopped."""
    at = utcnow()
    job = await platform.jobs.apply(
        job_id, lambda current: transitions.cancel_requested(current, at), caller.tenant_id)
    if job is None:
        raise not_found(job_id)
    await audit.record(caller, audit.Action.job_cancel, job_label(job))
    return JobOut.of(job)


def job_label(job: JobView) -> str:
    """How the audit log names a job: its id and name."""
    return f"{job.id} ({job.name})" if job.name else str(job.id)


def rerun_spec(old: JobView) -> JobSpec:
    """What the job was submitted with, without its idempotency key (a rerun is a new job)."""
    return JobSpec.model_validate(
        old.model_dump(include=set(JobSpec.model_fields) - {"idempotency_key"})
    )


@router.post("/jobs/{job_id}/rerun", status_code=status.HTTP_201_CREATED,
             responses=errors(403, 404))
async def rerun_job(job_id: str, caller: MemberDep, platform: PlatformDep) -> JobOut:
    old = await tenant_job(platform, job_id, caller.tenant_id)
    job, _ = await platform.jobs.submit(rerun_spec(old), caller.tenant_id, rerun_of=str(old.id))
    await audit.record(caller, audit.Action.job_rerun, f"{job_label(old)} → {job.id}")
    return JobOut.of(job)


def distinct_ids(ids: list[str]) -> list[str]:
    """The ids once each, in their order; a valid ObjectId in its canonical spelling."""
    canonical = (str(ObjectId(i)) if ObjectId.is_valid(i) else i for i in ids)
    return list(dict.fromkeys(canonical))


@router.post("/jobs/cancel", responses=errors(403))
async def cancel_jobs(body: JobIds, caller: MemberDep, platform: PlatformDep) -> CancelResults:
    """Cancel each job as `POST /jobs/{id}/cancel` does, all in one read and one write.

    Says per id what happened: `cancelled` (it was queued), `cancelling` (it runs: its worker
    stops it, and it ends `cancelled` once the worker says so), `already_final`, `not_found`
    (no such job of this tenant).
    """
    at = utcnow()
    ids = distinct_ids(body.ids)
    decided_on: dict[str, JobStatus] = {}  # the job's status as the last decision saw it

    def cancel(job_id: str) -> transitions.Decide:
        def decide(current: JobView) -> transitions.Decision:
            decided_on[job_id] = current.status
            return transitions.cancel_requested(current, at)
        return decide

    after = await platform.jobs.apply_many([(i, caller.tenant_id, cancel(i)) for i in ids])
    results = []
    for job_id in ids:
        seen = decided_on.get(job_id)
        current = after[job_id].status if job_id in after else seen
        if seen is None:
            outcome = "not_found"
        elif seen.is_final:
            outcome = "already_final"
        elif current == JobStatus.cancelled:
            outcome = "cancelled"
        else:
            outcome = "cancelling"
        results.append({"id": job_id, "outcome": outcome, "status": current})
    await audit.record_many(caller, audit.Action.job_cancel, [
        job_label(after[r["id"]]) for r in results
        if r["outcome"] in ("cancelled", "cancelling") and r["id"] in after])
    return CancelResults.model_validate({"results": results})


@router.post("/jobs/rerun", responses=errors(403))
async def rerun_jobs(body: JobIds, caller: MemberDep, platform: PlatformDep) -> RerunResults:
    """Rerun each job as `POST /jobs/{id}/rerun` does: one read, the new jobs inserted together.

    Says per id what happened: `rerun` with the new job's id, `not_found`, or `refused` with
    the reason (a secret it names is gone).
    """
    ids = distinct_ids(body.ids)
    found = {
        str(doc["_id"]): JobView.model_validate(doc)
        async for doc in Job.get_pymongo_collection().find(
            {"_id": {"$in": [ObjectId(i) for i in ids if ObjectId.is_valid(i)]},
             "tenant_id": caller.tenant_id})
    }

    async def rerun(old: JobView) -> JobView | InvalidSubmission:
        try:
            job, _ = await platform.jobs.submit(rerun_spec(old), caller.tenant_id,
                                                rerun_of=str(old.id))
            return job
        except InvalidSubmission as exc:
            return exc

    # Concurrent submissions share one insert_many (jobstore's group commit).
    olds = [found[i] for i in ids if i in found]
    made = dict(zip([str(o.id) for o in olds], await asyncio.gather(*map(rerun, olds)),
                    strict=True))
    results = []
    for job_id in ids:
        new = made.get(job_id)
        if new is None:
            results.append({"id": job_id, "outcome": "not_found"})
        elif isinstance(new, InvalidSubmission):
            results.append({"id": job_id, "outcome": "refused", "detail": new.reason})
        else:
            results.append({"id": job_id, "outcome": "rerun", "job_id": str(new.id)})
    await audit.record_many(caller, audit.Action.job_rerun, [
        f"{job_label(found[r['id']])} → {r['job_id']}" for r in results if r["outcome"] == "rerun"])
    return RerunResults.model_validate({"results": results})
