"""Workers of the caller's tenant: list, drain, remove an offline one."""

from fastapi import APIRouter, HTTPException, status

from jobrunner_api import audit
from jobrunner_api.deps import AdminDep, CallerDep, PlatformDep
from jobrunner_api.responses import errors
from jobrunner_api.documents import Worker
from jobrunner_api.schemas import WorkerOut
from jobrunner_shared import amqp, names
from jobrunner_shared.messages import DrainWorker

router = APIRouter(tags=["workers"])


@router.get("/workers")
async def list_workers(caller: CallerDep, platform: PlatformDep) -> list[WorkerOut]:
    offline_after = platform.settings.worker_offline_after_seconds
    found = Worker.find(Worker.tenant_id == caller.tenant_id).sort(+Worker.name)
    return [WorkerOut.of(w, offline_after) async for w in found]


@router.post("/workers/{worker_id}/drain", status_code=status.HTTP_202_ACCEPTED,
             responses=errors(403, 404))
async def drain_worker(worker_id: str, caller: AdminDep, platform: PlatformDep) -> WorkerOut:
    worker = await platform.presence.drain(worker_id, caller.tenant_id)
    if worker is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"worker {worker_id} not found")
    await amqp.publish_control(
        platform.broker,
        DrainWorker(tenant_id=caller.tenant_id, worker_id=worker_id),
        names.CONTROL_DRAIN_KEY,
    )
    await audit.record(caller, audit.Action.worker_drain, worker.name)
    return WorkerOut.of(worker, platform.settings.worker_offline_after_seconds)


@router.delete(
    "/workers/{worker_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**errors(403, 404),
               409: {"description": "The worker is not offline: drain and stop it first."}},
)
async def delete_worker(worker_id: str, caller: AdminDep, platform: PlatformDep) -> None:
    """Remove an offline worker from the list (its jobs keep their history). The platform
    never removes one on its own (SPEC §6.10)."""
    worker = await Worker.find_one({"_id": worker_id, "tenant_id": caller.tenant_id})
    if worker is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"worker {worker_id} not found")
    offline_after = platform.settings.worker_offline_after_seconds
    if WorkerOut.of(worker, offline_after).status != "offline":
        raise HTTPException(status.HTTP_409_CONFLICT,
                            detail=f"worker {worker.name} is not offline: drain and stop it first")
    # Only as it was read: a worker that came back meanwhile has a newer heartbeat and stays.
    await Worker.get_pymongo_collection().delete_one(
        {"_id": worker_id, "tenant_id": caller.tenant_id, "last_heartbeat": worker.last_heartbeat})
    await audit.record(caller, audit.Action.worker_delete, worker.name)
