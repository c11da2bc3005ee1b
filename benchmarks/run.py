"""jobrunner benchmarks (`make bench`): the whole pipeline, side by side with Celery, measured,
never asserted.

In one run, on the RabbitMQ and MongoDB that `make bench` provides (RABBITMQ_URL / MONGODB_URL),
each in a vhost and database of its own:
1. latency on an empty database: jobs one at a time, submit -> finished as the client sees it
   (POST sent -> the log stream's `end` event) and as the platform records it (created_at ->
   finished_at), p50 and p99;
2. throughput: N `echo hello` jobs over REST from 16 clients through API -> RabbitMQ -> master
   -> one worker of capacity 4 -> master -> RabbitMQ -> API -> MongoDB, jobs/s from the first
   submit to the last job final; then the same N tasks through Celery 5 (benchmarks/
   celery_peer.py: 4 prefork slots, acks_late, prefetch 4, results over rpc://, the task runs
   `sh -c 'echo hello'` as a subprocess and captures its output) from 16 clients. Both in turn,
   `--rounds` times (5): the VM this runs on changes speed by a third from one minute to the
   next, so one run of each says little; the ratio is the median of jobrunner's rounds over the
   median of Celery's, and each round's ratio (of two runs seconds apart) is reported beside
   it, with the median of those (five rounds, not three: with three, a slow minute on one side
   moved a run's figures by a tenth, e.g. 0.61x as the ratio of the medians and 0.50x as the
   median of the rounds in one run);
3. line -> SSE client: a job printing a line every 10 ms, followed on /logs/stream; the delay
   from the worker reading each line (its `ts`) to the client receiving it;
4. the database filled to 20,000 jobs (copies of the finished ones, with their log chunks),
   then the latency of (1) again;
5. idle: CPU of the database, the API and the master over 10 s with 20,000 jobs stored.

`--profile` also records the API, master and worker with py-spy during the throughput run
and prints the functions where each spends its time (benchmarks/results/profile-*.txt).
py-spy counts a thread that waits for a core as busy, so on two cores a write that wakes
another process looks far dearer than it is. `--perf` records the whole machine with Linux
`perf` during jobrunner's first throughput round instead, on the CPU, and prints its share by
process and library (benchmarks/results/perf.txt).
"""

import argparse
import asyncio
import contextlib
import json
import os
import platform as host
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit
from collections.abc import Callable, Iterator

import aiohttp
import psutil
from bson import ObjectId
from pymongo import MongoClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import celery_peer  # noqa: E402
from jobrunner_api.settings import Settings  # noqa: E402
from tests.support.infra import mongodb_server, rabbitmq_server  # noqa: E402
from tests.support.platform import (  # noqa: E402
    TEST_SETTINGS,
    Tenant,
    sse_events,
    start_platform,
)

RESULTS = ROOT / "benchmarks" / "results"
# The platform as users run it: the settings the tests change back at their defaults. One of
# them is on the hot path: OUTBOX_GRACE_SECONDS sets when confirmed publishes are marked in
# MongoDB (jobstore.CONFIRM_FLUSH_SHARE).
DEFAULT_SETTINGS = {name: str(Settings.model_fields[name.lower()].default)
                    for name in TEST_SETTINGS}
COMMAND = "echo hello"
FINAL = ("succeeded", "failed", "timed_out", "cancelled")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict:
    return {"p50_ms": round(statistics.median(values), 1),
            "p99_ms": round(percentile(values, 99), 1), "max_ms": round(max(values), 1)}


# --- jobrunner --------------------------------------------------------------------------------

async def throughput(tenant: Tenant, jobs: int, clients: int) -> dict:
    """`clients` concurrent HTTP clients (aiohttp: a tenth of httpx's CPU per request, which
    would otherwise be taken from the platform on the same two cores).

    The end is seen on the live feed (`GET /events`), as the dashboard sees it: each job's
    change to a final status. Why not polling /stats: on the stand-in database (no index
    serves an aggregation) five polls a second cost it ~0.3 ms of CPU per job, taken from the
    platform being measured. Should the stream end early, /stats is polled instead.
    """
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(jobs):
        queue.put_nowait(i)
    api = f"{tenant.platform.api_url}/api/v1"
    body = json.dumps({"command": COMMAND})
    submitted: set[str] = set()
    final: dict[str, str] = {}  # job id -> final status, as the feed said
    all_final = asyncio.Event()

    def check() -> None:
        if len(submitted) == jobs and submitted <= final.keys():
            all_final.set()

    async def submitter(client: aiohttp.ClientSession) -> None:
        while not queue.empty():
            queue.get_nowait()
            async with client.post(f"{api}/jobs", data=body) as response:
                response.raise_for_status()
                submitted.add((await response.json())["id"])
        check()

    async def follow(client: aiohttp.ClientSession, ready: asyncio.Event) -> None:
        async with client.get(f"{api}/events", timeout=aiohttp.ClientTimeout()) as response:
            response.raise_for_status()
            event = ""
            async for raw in response.content:
                line = raw.decode().rstrip("\r\n")
                if line.startswith("event:"):
                    event = line[6:].strip()
                    if event == "ready":
                        ready.set()
                    elif event == "reset":
                        return
                elif line.startswith("data:") and event == "job":
                    job = json.loads(line[5:])
                    if job["status"] in FINAL:
                        final[job["id"]] = job["status"]
                        check()

    async def counts(client: aiohttp.ClientSession) -> dict[str, int]:
        async with client.get(f"{api}/stats") as response:
            return (await response.json())["by_status"]

    headers = {"Authorization": f"Bearer {tenant.token}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession(headers=headers,
                                     connector=aiohttp.TCPConnector(limit=clients + 1)) as client:
        before = await counts(client)
        ready = asyncio.Event()
        feed = asyncio.create_task(follow(client, ready))
        await asyncio.wait_for(ready.wait(), 30)
        started = time.perf_counter()
        await asyncio.gather(*(submitter(client) for _ in range(clients)))
        submitted_at = time.perf_counter()
        done = asyncio.create_task(all_final.wait())
        await asyncio.wait([feed, done], return_when=asyncio.FIRST_COMPLETED)
        while not all_final.is_set():  # the stream ended early: count in the database instead
            now = await counts(client)
            if sum(now[s] - before[s] for s in FINAL) >= jobs:
                break
            await asyncio.sleep(0.2)
        finished = time.perf_counter()
        feed.cancel()
        done.cancel()
        now = await counts(client)
    return {
        "jobs": jobs,
        "clients": clients,
        "submit_seconds": round(submitted_at - started, 2),
        "total_seconds": round(finished - started, 2),
        "jobs_per_second": round(jobs / (finished - started), 1),
        "submits_per_second": round(jobs / (submitted_at - started), 1),
        "failed": now["failed"] - before["failed"],
        "end_seen_on": "the live feed" if all_final.is_set() else "/stats",
    }


async def latency(tenant: Tenant, jobs: int) -> dict:
    client_ms: list[float] = []
    platform_ms: list[float] = []
    async with tenant.aclient() as client:
        for _ in range(jobs):
            sent = time.perf_counter()
            job = (await client.post("/jobs", json={"command": COMMAND})).json()
            async with sse_events(client, f"/jobs/{job['id']}/logs/stream") as events:
                async for event, _, _ in events:
                    if event == "end":
                        break
            client_ms.append((time.perf_counter() - sent) * 1000)
            done = (await client.get(f"/jobs/{job['id']}")).json()
            created = datetime.fromisoformat(done["created_at"])
            ended = datetime.fromisoformat(done["finished_at"])
            platform_ms.append((ended - created).total_seconds() * 1000)
    return {"jobs": jobs, "client": summary(client_ms), "platform": summary(platform_ms)}


async def line_to_client(tenant: Tenant, lines: int) -> dict:
    """The delay from the worker reading a line to an SSE client receiving it (one host)."""
    delays: list[float] = []
    command = f"for i in $(seq 1 {lines}); do echo line-$i; sleep 0.01; done"
    async with tenant.aclient() as client:
        job = (await client.post("/jobs", json={"command": command})).json()
        async with sse_events(client, f"/jobs/{job['id']}/logs/stream") as events:
            async for event, _, data in events:
                if event == "log":
                    now = datetime.now(UTC)
                    delays += [(now - datetime.fromisoformat(line["ts"])).total_seconds() * 1000
                               for line in data["lines"]]
                elif event == "end":
                    break
    return {"lines": len(delays), **summary(delays)}


def fill(mongodb_url: str, database: str, tenant_id: str, total: int) -> int:
    """Copies of the tenant's finished jobs (and their log chunks) until it has `total`."""
    with MongoClient(mongodb_url) as client:
        db = client[database]
        have = db.jobs.count_documents({"tenant_id": tenant_id})
        models = list(db.jobs.find({"tenant_id": tenant_id, "status": "succeeded"}).limit(200))
        chunks = {c["job_id"]: c for c in db.log_chunks.find(
            {"job_id": {"$in": [str(m["_id"]) for m in models]}})}
        added = 0
        while have + added < total:
            jobs, logs = [], []
            for model in models[: total - have - added]:
                copy = {**model, "_id": ObjectId()}
                copy.pop("idempotency_scope", None)
                jobs.append(copy)
                chunk = chunks.get(str(model["_id"]))
                if chunk:
                    logs.append({**chunk, "_id": f"{copy['_id']}:1:1", "job_id": str(copy["_id"])})
            db.jobs.insert_many(jobs)
            if logs:
                db.log_chunks.insert_many(logs)
            added += len(jobs)
        return have + added


def cpu_seconds(pids: dict[str, int], children: tuple[str, ...] = ()) -> dict[str, float]:
    """CPU seconds of each process so far; for those named in `children`, with their ended
    children's (the worker's job processes, once reaped)."""
    out = {}
    for name, pid in pids.items():
        times = psutil.Process(pid).cpu_times()
        out[name] = times.user + times.system
        if name in children:
            out[name] += times.children_user + times.children_system
    return out


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds so far of a process and of its living children, with what each of those
    reaped (the Celery worker: its pool processes, and their tasks' shells)."""
    root = psutil.Process(pid)
    times = root.cpu_times()
    total = times.user + times.system
    for child in root.children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            times = child.cpu_times()
            total += times.user + times.system + times.children_user + times.children_system
    return total


def per_job(before: dict[str, float], after: dict[str, float], jobs: int, *,
            scale: float = 1, digits: int = 1) -> dict[str, float]:
    """What each process counted per job between two readings (cpu_seconds() with scale 1000:
    ms; wakeups()), and their total."""
    out = {name: round((after[name] - before[name]) * scale / jobs, digits) for name in before}
    out["total"] = round(sum(out.values()), digits)
    return out


def wakeups(pids: dict[str, int]) -> dict[str, int]:
    """Times each process (all its threads) went to sleep and was woken so far: voluntary
    context switches. Why count them: on this 2-vCPU VM a wake-up across processes costs
    ~30 us of CPU on each side, so the hops a job takes weigh as much as the work in them."""
    out = {}
    for name, pid in pids.items():
        if pid == os.getpid():
            # Threads that ended (the Celery side's client threads) count too.
            out[name] = resource.getrusage(resource.RUSAGE_SELF).ru_nvcsw
            continue
        total = 0
        for status in Path(f"/proc/{pid}/task").glob("*/status"):
            with contextlib.suppress(OSError):
                for line in status.read_text().splitlines():
                    if line.startswith("voluntary_ctxt_switches:"):
                        total += int(line.split()[1])
        out[name] = total
    return out


def idle_cpu(pids: dict[str, int], seconds: float = 10.0) -> dict:
    before = cpu_seconds(pids)
    time.sleep(seconds)
    after = cpu_seconds(pids)
    used = {name: round((after[name] - before[name]) / seconds * 100, 2) for name in pids}
    return {"seconds": seconds, "percent_of_a_core": used, "total": round(sum(used.values()), 2)}


def listener_pid(port: int) -> int | None:
    """The process listening on a local TCP port (the database), if it is on this host."""
    for conn in psutil.net_connections("tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port and conn.pid:
            return conn.pid
    return None


@contextmanager
def profiled(pids: dict[str, int], enabled: bool) -> Iterator[None]:
    """py-spy record of each process while the block runs; the top functions afterwards."""
    if not enabled:
        yield
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    spies = {name: subprocess.Popen(
        [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid),
         "--format", "raw", "--rate", "200", "--nonblocking",
         "--output", str(RESULTS / f"profile-{name}.raw")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for name, pid in pids.items()}
    try:
        yield
    finally:
        for spy in spies.values():
            spy.send_signal(2)  # SIGINT: py-spy writes what it has
        for name, spy in spies.items():
            spy.wait(60)
            print(top_frames(RESULTS / f"profile-{name}.raw", name), flush=True)


@contextmanager
def machine_profiled(enabled: bool) -> Iterator[None]:
    """`perf record -a` while the block runs, then the machine's CPU by process and library."""
    perf = shutil.which("perf") if enabled else None
    if perf is None:
        if enabled:
            print("--perf: no `perf` on PATH; not recorded", flush=True)
        yield
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    data = RESULTS / "perf.data"
    recorder = subprocess.Popen([perf, "record", "-a", "-F", "499", "-o", str(data)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        yield
    finally:
        recorder.send_signal(signal.SIGINT)  # perf writes what it has
        _, errors = recorder.communicate(timeout=60)
        report = subprocess.run([perf, "report", "-i", str(data), "--sort", "comm,dso",
                                 "--stdio"], capture_output=True, text=True)
        rows = [line for line in report.stdout.splitlines()
                if line.strip() and not line.startswith("#")][:30]
        text = "\n".join(["--- the machine's CPU in the first round, by process and library "
                          "(perf record -a; idle is `swapper`) ---",
                          *(rows or [f"perf recorded nothing: {errors.strip()[-500:]}"])])
        (RESULTS / "perf.txt").write_text(text + "\n")
        print(text, flush=True)


def top_frames(raw: Path, name: str, count: int = 15) -> str:
    """The functions with the most samples on the stack (inclusive) and on top (self)."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        frames = [f.split(" (")[0] + " (" + f.split(" (")[-1] for f in stack.split(";")]
        n = int(samples)
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    lines = [f"--- {name}: {total} samples; top self / inclusive ---"]
    for frame, n in own.most_common(count):
        lines.append(f"self {100 * n / total:5.1f}%  {frame}")
    for frame, n in inclusive.most_common(count + 10)[10:]:
        lines.append(f"incl {100 * n / total:5.1f}%  {frame}")
    text = "\n".join(lines)
    (raw.with_suffix(".txt")).write_text(text + "\n")
    return text


# --- the run ----------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--latency-jobs", type=int, default=100)
    parser.add_argument("--fill", type=int, default=20000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--perf", action="store_true",
                        help="record the machine with Linux perf in the first round")
    parser.add_argument("--skip-celery", action="store_true")
    parser.add_argument("--rounds", type=int, default=5,
                        help="throughput runs of each, jobrunner and Celery in turn")
    args = parser.parse_args()

    token = secrets.token_hex(4)
    vhost, peer_vhost = f"jobrunner-bench-{token}", f"celery-bench-{token}"
    database = f"jobrunner_bench_{token}"
    report: dict = {"when": datetime.now().isoformat(timespec="seconds"),
                    "machine": {"cpus": os.cpu_count(), "python": host.python_version()}}
    RESULTS.mkdir(parents=True, exist_ok=True)
    with rabbitmq_server() as rabbitmq, mongodb_server() as mongodb_url:
        rabbitmq.create_vhost(vhost)
        rabbitmq.create_vhost(peer_vhost)
        try:
            platform_gen = start_platform(rabbitmq.vhost_url(vhost), mongodb_url, database,
                                          **DEFAULT_SETTINGS)
            platform = next(platform_gen)
            try:
                peer = None if args.skip_celery else rabbitmq.vhost_url(peer_vhost)
                run_jobrunner(platform, args, mongodb_url, database, report, peer)
            finally:
                platform_gen.close()
        finally:
            rabbitmq.delete_vhost(vhost)
            rabbitmq.delete_vhost(peer_vhost)
            with MongoClient(mongodb_url) as client:
                report["database"] = database_name(client)
                client.drop_database(database)
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    print_summary(report)
    print(f"written to {RESULTS / 'latest.json'}")


@contextmanager
def celery_side(broker_url: str | None, args: argparse.Namespace, shared: dict[str, int],
                ) -> Iterator[Callable[[], dict] | None]:
    """One round of the peer's throughput, its worker up (and warm) while the block runs.

    Each round also gives the CPU per task of the Celery worker (its pool processes and their
    shells included) and of `shared` (RabbitMQ, the bench's client), as jobrunner's rounds do.
    """
    if broker_url is None:
        yield None
        return
    with celery_peer.peer_worker(broker_url, RESULTS / "celery-worker.log") as worker:
        celery_peer.throughput(broker_url, 40, args.clients, COMMAND)  # warm up

        def cpu() -> dict[str, float]:
            return {"celery worker": tree_cpu_seconds(worker.pid), **cpu_seconds(shared)}

        def woken() -> dict[str, int]:
            tree = psutil.Process(worker.pid).children(recursive=True)
            pool = wakeups({str(pid): pid for pid in [worker.pid, *(p.pid for p in tree)]})
            return {"celery worker": sum(pool.values()), **wakeups(shared)}

        def one_round() -> dict:
            before, slept = cpu(), woken()
            result = celery_peer.throughput(broker_url, args.jobs, args.clients, COMMAND)
            result["cpu_ms_per_job"] = per_job(before, cpu(), args.jobs, scale=1000, digits=2)
            result["wakeups_per_job"] = per_job(slept, woken(), args.jobs)
            return result

        yield one_round


def median_round(rounds: list[dict]) -> dict:
    """The round with the median jobs/s (the lower middle of an even count), and every
    round's jobs/s beside it."""
    middle = sorted(rounds, key=lambda r: r["jobs_per_second"])[(len(rounds) - 1) // 2]
    return {**middle, "rounds_jobs_per_second": [r["jobs_per_second"] for r in rounds]}


def run_jobrunner(platform, args, mongodb_url: str, database: str, report: dict,
                  peer_url: str | None) -> None:
    tenant = platform.new_tenant()
    worker = platform.start_worker(tenant.worker_key(), capacity=4, name="bench-worker",
                                   HEARTBEAT_INTERVAL="5")
    tenant.wait_workers_online(1)
    asyncio.run(latency(tenant, 10))  # warm up
    print(f"latency on an empty database: {args.latency_jobs} jobs one at a time ...", flush=True)
    report["latency_empty"] = asyncio.run(latency(tenant, args.latency_jobs))
    print(json.dumps(report["latency_empty"]), flush=True)

    pids = {"api": platform.api.pid, "master": platform.master.pid, "worker": worker.pid}
    port = int(mongodb_url.rsplit(":", 1)[-1].split("/")[0])
    others = {"database": listener_pid(port),
              "rabbitmq": listener_pid(urlsplit(platform.env["RABBITMQ_URL"]).port or 5672),
              "bench client": os.getpid()}
    measured = {**pids, **{name: pid for name, pid in others.items() if pid is not None}}
    ours: list[dict] = []
    theirs: list[dict] = []
    shared = {name: pid for name, pid in others.items()
              if pid is not None and name != "database"}
    with celery_side(peer_url, args, shared) as peer, profiled(pids, args.profile):
        for n in range(1, args.rounds + 1):
            print(f"throughput, round {n} of {args.rounds}: {args.jobs} jobs, one worker of "
                  f"capacity 4, {args.clients} clients ...", flush=True)
            before = cpu_seconds(measured, children=("worker",))
            slept = wakeups(measured)
            with machine_profiled(args.perf and n == 1):
                result = asyncio.run(throughput(tenant, args.jobs, args.clients))
            after = cpu_seconds(measured, children=("worker",))
            woke = wakeups(measured)
            # Where the time goes: CPU of each process per job (the worker's includes the
            # jobs' shells), and how often each slept and was woken.
            result["cpu_ms_per_job"] = per_job(before, after, args.jobs, scale=1000, digits=2)
            result["wakeups_per_job"] = per_job(slept, woke, args.jobs)
            print(json.dumps(result), flush=True)
            ours.append(result)
            if peer is not None:
                print(f"celery, round {n} of {args.rounds}: {args.jobs} tasks, 4 prefork "
                      f"slots, {args.clients} clients ...", flush=True)
                theirs.append(peer())
                print(json.dumps(theirs[-1]), flush=True)
    report["throughput"] = median_round(ours)
    if theirs:
        report["celery"] = median_round(theirs)
        report["ratio_to_celery"] = round(
            report["throughput"]["jobs_per_second"] / report["celery"]["jobs_per_second"], 2)
        paired = [o["jobs_per_second"] / t["jobs_per_second"]
                  for o, t in zip(ours, theirs, strict=True)]
        report["ratio_each_round"] = [round(r, 2) for r in paired]
        # The same comparison by pairs: each round's ratio is of two runs a few seconds apart,
        # so a drift of the machine's speed over the run cancels out of it; the ratio of the
        # medians may match one side's fast minute with the other's slow one.
        report["ratio_median_of_rounds"] = round(statistics.median(paired), 2)

    print("line -> SSE client: 500 lines, one every 10 ms ...", flush=True)
    report["line_to_client"] = asyncio.run(line_to_client(tenant, 500))
    print(json.dumps(report["line_to_client"]), flush=True)

    with tenant.client() as client:
        tenant_id = client.get("/me").json()["tenant"]["id"]
    stored = fill(mongodb_url, database, tenant_id, args.fill)
    print(f"latency with {stored} jobs stored: {args.latency_jobs} jobs one at a time ...",
          flush=True)
    report["latency_full"] = {"stored": stored, **asyncio.run(latency(tenant, args.latency_jobs))}
    print(json.dumps(report["latency_full"]), flush=True)

    idle_pids = {"api": platform.api.pid, "master": platform.master.pid}
    if (db_pid := others["database"]) is not None:
        idle_pids["database"] = db_pid
    print(f"idle for 10 s with {stored} jobs stored ...", flush=True)
    report["idle"] = idle_cpu(idle_pids)
    print(json.dumps(report["idle"]), flush=True)


def database_name(client: MongoClient) -> str:
    info = client.admin.command("buildInfo")
    return f"MongoDB-wire {info.get('version')} ({os.environ.get('MONGODB_BACKEND', 'server')})"


def print_summary(report: dict) -> None:
    t, e, f = report["throughput"], report["latency_empty"], report["latency_full"]
    def each(side: dict) -> str:
        rounds = side.get("rounds_jobs_per_second", [])
        return f", rounds {' / '.join(map(str, rounds))}" if len(rounds) > 1 else ""

    rows = [
        ("jobrunner jobs/s", f"{t['jobs_per_second']} (median; {t['jobs']} jobs, "
                             f"{t['failed']} failed{each(t)})"),
    ]
    if "celery" in report:
        c = report["celery"]
        rows += [("celery jobs/s", f"{c['jobs_per_second']} (median; {c['jobs']} tasks{each(c)})"),
                 ("ratio", f"{report['ratio_to_celery']}x (each round: "
                           f"{', '.join(f'{r}x' for r in report['ratio_each_round'])}; "
                           f"their median {report['ratio_median_of_rounds']}x)")]
    rows += [
        ("CPU ms per job (that round)",
         ", ".join(f"{name} {ms}" for name, ms in t["cpu_ms_per_job"].items())),
    ]
    if "cpu_ms_per_job" in report.get("celery", {}):
        rows += [("celery CPU ms per task (its round)",
                  ", ".join(f"{name} {ms}"
                            for name, ms in report["celery"]["cpu_ms_per_job"].items())),
                 ("celery wake-ups per task", ", ".join(
                     f"{name} {n}"
                     for name, n in report["celery"].get("wakeups_per_job", {}).items()))]
    rows += [
        ("wake-ups per job", ", ".join(f"{name} {n}"
                                       for name, n in t.get("wakeups_per_job", {}).items())),
        ("latency empty: client / platform p50",
         f"{e['client']['p50_ms']} / {e['platform']['p50_ms']} ms "
         f"(p99 {e['client']['p99_ms']} / {e['platform']['p99_ms']})"),
        (f"latency with {f['stored']} stored",
         f"{f['client']['p50_ms']} / {f['platform']['p50_ms']} ms "
         f"(p99 {f['client']['p99_ms']} / {f['platform']['p99_ms']})"),
        ("line -> SSE client", f"p50 {report['line_to_client']['p50_ms']} ms, "
                               f"p99 {report['line_to_client']['p99_ms']} ms"),
        ("idle CPU (% of a core)", json.dumps(report["idle"]["percent_of_a_core"])
         + f" = {report['idle']['total']}"),
    ]
    width = max(len(name) for name, _ in rows)
    print("\n".join(f"{name:<{width}}  {value}" for name, value in rows))


if __name__ == "__main__":
    main()
