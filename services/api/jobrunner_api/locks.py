"""Per-job locks inside one API process.

Why: a job's state changes in one process at a time (the job-events queue has a single active
consumer), but within it the consumers of several queues and the API routes run concurrently;
this lock keeps their read-then-write updates of one job from interleaving.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

_locks: dict[str, tuple[asyncio.Lock, int]] = {}


@asynccontextmanager
async def job_lock(job_id: str) -> AsyncIterator[None]:
    lock, users = _locks.get(job_id, (asyncio.Lock(), 0))
    _locks[job_id] = (lock, users + 1)
    try:
        async with lock:
            yield
    finally:
        lock, users = _locks[job_id]
        if users == 1:
            del _locks[job_id]
        else:
            _locks[job_id] = (lock, users - 1)
