"""Jobs: submit, list, read, cancel, rerun."""

import re
from typing import Annotated

from beanie import PydanticObjectId
from fastapi import APIRouter, Header, HTTPException, Query, Response, status

from jobrunner_api import transitions
from jobrunner_api.deps import CallerDep, PlatformDep
from jobrunner_api.documents import Job, JobView
from jobrunner_api.schemas import JobOut, JobPage
from jobrunner_shared.messages import JobSpec, JobStatus, utcnow

router = APIRouter(tags=["jobs"])


def not_found(job_id: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=f"job {job_id} not found")


async def tenant_job(platform: PlatformDep, job_id: str, tenant_id: str) -> JobView:
    """The job, or 404 when it does not exist or belongs to another tenant."""
    job = await platform.jobs.get(job_id, tenant_id)
    if job is None:
        raise not_found(job_id)
    return job


@router.post(
    "/jobs",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": JobOut, "description": "A repeated idempotency key: the first job"}},
)
async def submit_job(
    spec: JobSpec,
    caller: CallerDep,
    platform: PlatformDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> JobOut:
    if idempotency_key and not spec.idempotency_key:
        spec = spec.model_copy(update={"idempotency_key": idempotency_key})
    job, created = await platform.jobs.submit(spec, caller.tenant_id)
    if not created:
        response.status_code = status.HTTP_200_OK
    return JobOut.of(job)


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
) -> JobPage:
    query: dict = {"tenant_id": caller.tenant_id}
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
    if cursor:
        if not PydanticObjectId.is_valid(cursor):
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail="invalid cursor")
        query["_id"] = {"$lt": PydanticObjectId(cursor)}
    # One index each: (tenant_id, _id), with status, labels, worker or worker_name before _id.
    docs = await Job.get_pymongo_collection().find(query).sort("_id", -1).limit(
        limit + 1).to_list()
    items = [JobView.model_validate(doc) for doc in docs]
    next_cursor = str(items[limit - 1].id) if len(items) > limit else None
    return JobPage(items=[JobOut.of(j) for j in items[:limit]], next_cursor=next_cursor)


@router.get("/jobs/{job_id}")
async def get_job(job_id: str, caller: CallerDep, platform: PlatformDep) -> JobOut:
    return JobOut.of(await tenant_job(platform, job_id, caller.tenant_id))


@router.post("/jobs/{job_id}/cancel", status_code=status.HTTP_202_ACCEPTED)
async def cancel_job(job_id: str, caller: CallerDep, platform: PlatformDep) -> JobOut:
    """Ask for the job to end: a queued job never starts, a running one is stopped."""
    at = utcnow()
    job = await platform.jobs.apply(
        job_id, lambda current: transitions.cancel_requested(current, at), caller.tenant_id)
    if job is None:
        raise not_found(job_id)
    return JobOut.of(job)


@router.post("/jobs/{job_id}/rerun", status_code=status.HTTP_201_CREATED)
async def rerun_job(job_id: str, caller: CallerDep, platform: PlatformDep) -> JobOut:
    old = await tenant_job(platform, job_id, caller.tenant_id)
    spec = JobSpec.model_validate(
        old.model_dump(include=set(JobSpec.model_fields) - {"idempotency_key"})
    )
    job, _ = await platform.jobs.submit(spec, caller.tenant_id, rerun_of=str(old.id))
    return JobOut.of(job)
