"""Per-job locks inside one API process.

Why: every job write is a compare-and-set on `Job.version`, which MongoDB applies atomically
across processes; FerretDB v1 (our dev and CI database) does not, so writes to one job from
one process are also serialised here.
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
