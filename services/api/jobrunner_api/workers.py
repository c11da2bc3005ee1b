"""Worker presence as reported on the heartbeat topic."""

from datetime import datetime, timedelta

from jobrunner_api.documents import Worker
from jobrunner_shared.messages import WorkerEvent, utcnow


async def apply_event(event: WorkerEvent) -> None:
    worker = await Worker.get(event.worker_id)
    if worker is None:
        worker = Worker(id=event.worker_id, tenant_id=event.tenant_id, name=event.worker_name)
    if worker.tenant_id != event.tenant_id:
        return  # a forged or confused id never moves a worker between tenants
    if worker.last_heartbeat is not None and event.at < worker.last_heartbeat:
        return  # an older event overtaken by a newer one
    worker.name = event.worker_name
    worker.last_heartbeat = event.at
    if event.event == "disconnected":
        worker.connected = False
    else:
        worker.connected = True
        worker.labels = event.labels
        worker.capacity = event.capacity
        worker.version = event.version
        worker.hostname = event.hostname
        worker.draining = event.draining
        worker.running_jobs = [ref.job_id for ref in event.running]
        if event.api_key_id:
            worker.api_key_id = event.api_key_id
        if event.event == "connected":
            worker.connected_at = event.at
    await worker.save()


def status(worker: Worker, offline_after: float, now: datetime | None = None) -> str:
    """online, draining or offline; a worker silent for too long counts as offline."""
    now = now or utcnow()
    fresh = worker.last_heartbeat is not None and (
        now - worker.last_heartbeat < timedelta(seconds=offline_after)
    )
    if not worker.connected or not fresh:
        return "offline"
    return "draining" if worker.draining else "online"
