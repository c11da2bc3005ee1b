"""jobrunner benchmarks (`make bench`): the whole pipeline, measured, never asserted.

1. Throughput: N `echo hello` jobs through API -> RabbitMQ -> master -> one worker of capacity 4
   -> master -> RabbitMQ -> API -> MongoDB; jobs/s from the first submit to the last job final.
2. Latency: jobs submitted one at a time; submit -> finished as the client sees it (request
   sent -> the log stream's `end` event) and as the platform records it (created_at ->
   finished_at), p50 and p99.

It starts its own API, master and worker (real processes) in a vhost and database of its own
on the RabbitMQ and MongoDB that `make bench` provides (RABBITMQ_URL / MONGODB_URL).
"""

import argparse
import asyncio
import json
import os
import platform as host
import secrets
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

import httpx
from pymongo import MongoClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.infra import mongodb_server, rabbitmq_server  # noqa: E402
from tests.support.platform import Tenant, sse_events, start_platform  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def throughput(tenant: Tenant, jobs: int, concurrency: int) -> dict:
    started = time.perf_counter()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(jobs):
        queue.put_nowait(i)

    async def submitter(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            queue.get_nowait()
            response = await client.post("/jobs", json={"command": "echo hello"})
            response.raise_for_status()

    async with tenant.aclient(limits=httpx.Limits(max_connections=concurrency)) as client:
        await asyncio.gather(*(submitter(client) for _ in range(concurrency)))
        submitted = time.perf_counter()
        while True:
            pending = 0
            for status in ("queued", "running"):
                page = await client.get("/jobs", params={"status": status, "limit": 1})
                pending += len(page.json()["items"])
            if not pending:
                break
            await asyncio.sleep(0.2)
        finished = time.perf_counter()
        failed = (await client.get("/jobs", params={"status": "failed", "limit": 1})).json()
    return {
        "jobs": jobs,
        "submit_seconds": round(submitted - started, 2),
        "total_seconds": round(finished - started, 2),
        "jobs_per_second": round(jobs / (finished - started), 1),
        "submits_per_second": round(jobs / (submitted - started), 1),
        "any_failed": bool(failed["items"]),
    }


async def latency(tenant: Tenant, jobs: int) -> dict:
    client_ms: list[float] = []
    platform_ms: list[float] = []
    async with tenant.aclient() as client:
        for _ in range(jobs):
            sent = time.perf_counter()
            job = (await client.post("/jobs", json={"command": "echo hello"})).json()
            async with sse_events(client, f"/jobs/{job['id']}/logs/stream") as events:
                async for event, _, _ in events:
                    if event == "end":
                        break
            client_ms.append((time.perf_counter() - sent) * 1000)
            done = (await client.get(f"/jobs/{job['id']}")).json()
            created = datetime.fromisoformat(done["created_at"])
            ended = datetime.fromisoformat(done["finished_at"])
            platform_ms.append((ended - created).total_seconds() * 1000)

    def summary(values: list[float]) -> dict:
        return {
            "p50_ms": round(statistics.median(values), 1),
            "p99_ms": round(percentile(values, 99), 1),
            "max_ms": round(max(values), 1),
        }

    return {"jobs": jobs, "client": summary(client_ms), "platform": summary(platform_ms)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--latency-jobs", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()

    vhost = f"jobrunner-bench-{secrets.token_hex(4)}"
    database = f"jobrunner_bench_{secrets.token_hex(4)}"
    with rabbitmq_server() as rabbitmq, mongodb_server() as mongodb_url:
        rabbitmq.create_vhost(vhost)
        try:
            platform_gen = start_platform(rabbitmq.vhost_url(vhost), mongodb_url, database)
            platform = next(platform_gen)
            try:
                tenant = platform.new_tenant()
                platform.start_worker(tenant.worker_key(), capacity=4, name="bench-worker",
                                      HEARTBEAT_INTERVAL="5")
                tenant.wait_workers_online(1)
                print(f"throughput: {args.jobs} jobs, one worker of capacity 4 ...", flush=True)
                result_throughput = asyncio.run(throughput(tenant, args.jobs, args.concurrency))
                print(json.dumps(result_throughput, indent=2), flush=True)
                print(f"latency: {args.latency_jobs} jobs one at a time ...", flush=True)
                result_latency = asyncio.run(latency(tenant, args.latency_jobs))
                print(json.dumps(result_latency, indent=2), flush=True)
            finally:
                platform_gen.close()
        finally:
            rabbitmq.delete_vhost(vhost)
            with MongoClient(mongodb_url) as client:
                info = client.admin.command("buildInfo")
                database_version = (
                    f"FerretDB {info['ferretdbVersion']}" if "ferretdbVersion" in info
                    else f"MongoDB {info['version']}"
                )
                client.drop_database(database)

    report = {
        "when": datetime.now().isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": host.python_version()},
        "database": database_version,
        "throughput": result_throughput,
        "latency": result_latency,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {RESULTS / 'latest.json'}")


if __name__ == "__main__":
    main()
