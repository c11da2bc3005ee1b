"""The peer of `make bench`: Celery 5 on the same RabbitMQ, doing the same work as jobrunner.

The worker: 4 prefork slots, `acks_late`, a prefetch of 4 (multiplier 1), results over
`rpc://`; its task runs `sh -c <command>` as a subprocess and captures its output, as a
jobrunner worker does. The client submits from 16 threads and waits for every result.

    celery -A benchmarks.celery_peer worker ...   (started by `peer_worker` below)
"""

import os
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from collections.abc import Iterator
from pathlib import Path

from celery import Celery

ROOT = Path(__file__).resolve().parents[1]
BROKER_URL = os.environ.get("CELERY_PEER_BROKER", "amqp://guest:guest@localhost:5672//")

app = Celery("jobrunner_peer", broker=BROKER_URL, backend="rpc://")
app.conf.update(
    task_acks_late=True,
    worker_prefetch_multiplier=1,  # x 4 processes: a prefetch of 4
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)


@app.task(name="peer.shell")
def shell(command: str) -> dict:
    done = subprocess.run(["sh", "-c", command], capture_output=True, text=True, check=False)
    return {"exit_code": done.returncode, "stdout": done.stdout, "stderr": done.stderr}


@contextmanager
def peer_worker(broker_url: str, log_path: Path) -> Iterator[subprocess.Popen]:
    """A Celery worker with 4 prefork slots, until the block ends."""
    env = {**os.environ, "CELERY_PEER_BROKER": broker_url, "PYTHONPATH": str(ROOT)}
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "benchmarks.celery_peer", "worker",
             "--concurrency", "4", "--pool", "prefork", "--loglevel", "WARNING",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        # Ready once it answers a task.
        app.conf.broker_url = broker_url
        shell.apply_async(args=["true"]).get(timeout=120)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def throughput(broker_url: str, jobs: int, clients: int, command: str) -> dict:
    """N tasks from `clients` threads; jobs/s from the first submit to the last result.

    Each client thread has a Celery app of its own (its connection, its rpc:// reply queue):
    the rpc backend hands a result only to the client that sent the task.
    """
    per_client = [jobs // clients + (1 if i < jobs % clients else 0) for i in range(clients)]
    failures: list[str] = []
    submitted_at: list[float] = []

    def client(count: int) -> None:
        own = Celery("jobrunner_peer_client", broker=broker_url, backend="rpc://")
        own.conf.update(task_serializer="json", result_serializer="json",
                        accept_content=["json"])
        results = [own.send_task("peer.shell", args=[command]) for _ in range(count)]
        submitted_at.append(time.perf_counter())
        for result in results:
            value = result.get(timeout=600)
            if value["exit_code"] != 0 or value["stdout"] != "hello\n":
                failures.append(repr(value))
        own.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in per_client]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    finished = time.perf_counter()
    return {
        "jobs": jobs,
        "clients": clients,
        "submit_seconds": round(max(submitted_at) - started, 2),
        "total_seconds": round(finished - started, 2),
        "jobs_per_second": round(jobs / (finished - started), 1),
        "failed": len(failures),
    }
