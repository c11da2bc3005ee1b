"""The worker-fleet benchmark (`make bench-fleet`): one master holding N worker sessions.

N simulated workers live in this one process (benchmarks/fleet_sim.py), each a real Socket.IO
session of its own on python-socketio's AsyncClient, speaking SPEC §5 as the worker does, with
one worker key for the fleet. They talk to ONE real master process and the real API it needs
(tests/support/platform.py, as `make bench` and the tests start them), in a RabbitMQ vhost and
a database of their own, on the RabbitMQ and MongoDB of RABBITMQ_URL / MONGODB_URL.

Measured, never asserted (the targets of issue 10 are printed beside the figures):
1. connect: the time from the first connection attempt until the master counts N sessions
   (`jobrunner_connected_workers`) and until the API shows N workers online (GET /workers);
2. steady, over a window: heartbeats sent by each session, the master's heartbeat rate
   (`jobrunner_worker_events_total{event="heartbeat"}`), workers the API heard from in the last
   10 s, the master's RSS (psutil), its event-loop lag (`jobrunner_event_loop_lag_seconds`, p50
   and p99 by bucket), the backlog of the API's heartbeat queue;
3. new queue: the tenant's first job creates its dispatch queue; the time until every session
   consumes it;
4. jobs: J jobs over REST (after a few one at a time): how many succeeded, on how many distinct
   workers, and the dispatch latency: POST sent -> `job:assign` at the worker, and created_at
   -> started_at as stored.
In every phase, the CPU of each process (psutil): this simulator, the master, the API, RabbitMQ
and the database, so the master's share is never mixed with the simulator's: on a small machine
they share the same cores. `--profile` records the master with py-spy over the steady window.
"""

import argparse
import asyncio
import base64
import json
import os
import resource
import secrets
import sys
import time
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aio_pika
import aiohttp
import psutil
from pymongo import MongoClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jobrunner_shared import names

from benchmarks.fleet_measure import Cpu, LoopLag, lag_figures, quantile, sample, scrape, summary_ms
from benchmarks.fleet_sim import HEARTBEAT_SECONDS, Fleet
from benchmarks.run import listener_pid, profiled
from tests.support.infra import RabbitMQ, mongodb_server, rabbitmq_server
from tests.support.platform import Platform, Tenant, start_platform

RESULTS = ROOT / "benchmarks" / "results"
FINAL = ("succeeded", "failed", "timed_out", "cancelled")
TARGETS = {"online_seconds": 60, "master_rss_mb": 300, "lag_p99_ms": 50}


# --- the platform's side ------------------------------------------------------------------


async def management(http: aiohttp.ClientSession, rabbitmq: RabbitMQ, path: str) -> Any:
    basic = base64.b64encode(":".join(rabbitmq.credentials).encode()).decode()
    async with http.get(f"{rabbitmq.management_url}/api/{path}",
                        headers={"Authorization": f"Basic {basic}"}) as response:
        return await response.json() if response.status == 200 else None


async def api_workers(http: aiohttp.ClientSession, tenant: Tenant) -> list[dict]:
    async with http.get(f"{tenant.platform.api_url}/api/v1/workers",
                        headers={"Authorization": f"Bearer {tenant.token}"},
                        timeout=aiohttp.ClientTimeout(total=180)) as response:
        response.raise_for_status()
        return await response.json()


def heard_within(workers: list[dict], seconds: float) -> int:
    now = datetime.now(UTC)
    return sum(1 for w in workers if w["last_heartbeat"] and
               (now - datetime.fromisoformat(w["last_heartbeat"])).total_seconds() <= seconds)


# --- the phases -------------------------------------------------------------------------------


async def connect_phase(args, fleet: Fleet, tenant: Tenant, keys: list[str], http,
                        cpu: Cpu, lag: LoopLag) -> dict:
    master = tenant.platform.master_url
    before = await scrape(http, master)
    lag_mark = len(lag.lags)
    cpu.mark()
    started = time.perf_counter()
    fleet.start(args.sessions, keys, args.connect_concurrency)
    at_master = at_api = None
    progress = []
    deadline = started + args.connect_timeout
    while time.perf_counter() < deadline:
        await asyncio.sleep(0.5)
        samples = await scrape(http, master)
        connected = int(sample(samples, "jobrunner_connected_workers"))
        elapsed = time.perf_counter() - started
        if not progress or elapsed - progress[-1][0] >= 5:
            progress.append((round(elapsed, 1), connected))
            print(f"  {elapsed:5.1f} s: {connected} sessions at the master", flush=True)
        if at_master is None and connected >= args.sessions:
            at_master = elapsed
        if at_master is not None:
            online = [w for w in await api_workers(http, tenant) if w["status"] == "online"]
            if len(online) >= args.sessions:
                at_api = time.perf_counter() - started
                break
            await asyncio.sleep(1.5)
    after = await scrape(http, master)
    return {
        "sessions": args.sessions,
        "connect_concurrency": args.connect_concurrency,
        "at_master_seconds": round(at_master, 1) if at_master is not None else None,
        "online_at_api_seconds": round(at_api, 1) if at_api is not None else None,
        "connected_at_master": int(sample(after, "jobrunner_connected_workers")),
        "progress": progress,
        "refusals": sum(w.refusals for w in fleet.workers),
        "master_lag": lag_figures(before, after),
        "simulator_lag": lag.since(lag_mark),
        "cpu": cpu.mark(),
    }


async def steady_phase(args, fleet: Fleet, tenant: Tenant, http, cpu: Cpu, lag: LoopLag,
                       rabbitmq: RabbitMQ, vhost: str, master_pid: int) -> dict:
    master = tenant.platform.master_url
    await asyncio.sleep(HEARTBEAT_SECONDS)  # the connect burst's first beats are through
    beats_before = [w.beats for w in fleet.workers]
    connects_before = sum(w.connects for w in fleet.workers)
    before = await scrape(http, master)
    lag_mark = len(lag.lags)
    cpu.mark()
    started = time.perf_counter()
    with profiled({f"fleet-{args.sessions}-master": master_pid}, args.profile):
        await asyncio.sleep(args.window)
    elapsed = time.perf_counter() - started
    after = await scrape(http, master)
    usage = cpu.mark()
    sent = [w.beats - b for w, b in zip(fleet.workers, beats_before)]
    heartbeat = "jobrunner_worker_events_total"
    received = (sample(after, heartbeat, event=names.EV_HEARTBEAT)
                - sample(before, heartbeat, event=names.EV_HEARTBEAT))
    workers = await api_workers(http, tenant)
    queue = await management(
        http, rabbitmq, f"queues/{vhost}/{names.HEARTBEATS_QUEUE}") or {}
    connections = await management(http, rabbitmq, f"vhosts/{vhost}/connections") or []
    rss = psutil.Process(master_pid).memory_info().rss
    return {
        "window_seconds": round(elapsed, 1),
        "heartbeats_sent_per_session": {"min": min(sent), "max": max(sent),
                                        "expected": round(elapsed / HEARTBEAT_SECONDS, 1),
                                        "sessions_silent": sum(1 for s in sent if s == 0)},
        "master_heartbeats_per_second": round(received / elapsed, 1),
        "expected_per_second": round(args.sessions / HEARTBEAT_SECONDS, 1),
        "api_online": sum(1 for w in workers if w["status"] == "online"),
        "api_heard_within_10s": heard_within(workers, 10),
        "api_heartbeat_backlog": queue.get("messages"),
        "reconnects": sum(w.connects for w in fleet.workers) - connects_before,
        "master_rss_mb": round(rss / 2**20, 1),
        "master_lag": lag_figures(before, after),
        "simulator_lag": lag.since(lag_mark),
        "rabbitmq_connections": [{"name": c.get("client_properties", {}).get(
            "connection_name") or c.get("name"), "channels": c.get("channels")}
            for c in connections],
        "cpu": usage,
    }


async def new_queue_phase(args, fleet: Fleet, tenant: Tenant, http, rabbitmq: RabbitMQ,
                          vhost: str) -> dict:
    """The tenant's first job creates its dispatch queue: the time until every session consumes
    it (the API announces it on the control topic, the master adds it to each session)."""
    api = f"{tenant.platform.api_url}/api/v1"
    headers = {"Authorization": f"Bearer {tenant.token}"}
    async with http.get(f"{api}/me", headers=headers) as response:
        queue = names.dispatch_queue((await response.json())["tenant"]["id"], [])
    # Consumers counted by passive declares (the management API's figures lag by seconds).
    connection = await aio_pika.connect(rabbitmq.vhost_url(vhost))
    try:
        channel = await connection.channel()
        started = time.perf_counter()
        async with http.post(f"{api}/jobs", json={"command": "echo first"},
                             headers=headers) as response:
            job_id = (await response.json())["id"]
        consumers, at_all, progress = 0, None, []
        deadline = started + args.connect_timeout
        while time.perf_counter() < deadline:
            try:
                declared = await channel.declare_queue(queue, passive=True)
                consumers = declared.declaration_result.consumer_count
            except aio_pika.exceptions.ChannelNotFoundEntity:  # not declared yet
                channel = await connection.channel()
            elapsed = time.perf_counter() - started
            progress.append((round(elapsed, 2), consumers))
            # (the session running the first job has no consumer while it is full)
            if consumers >= args.sessions - (0 if job_id in fleet.finished else 1):
                at_all = elapsed
                break
            await asyncio.sleep(0.1)
    finally:
        await connection.close()
    assigned = fleet.assigned.get(job_id)
    return {"queue_consumers": consumers,
            "all_consuming_seconds": round(at_all, 2) if at_all is not None else None,
            "first_job_assign_ms": round(1000 * (assigned[0] - started), 1) if assigned else None,
            "progress": progress[:: max(1, len(progress) // 10)]}


async def jobs_phase(args, fleet: Fleet, tenant: Tenant, http, cpu: Cpu) -> dict:
    master = tenant.platform.master_url
    api = f"{tenant.platform.api_url}/api/v1"
    headers = {"Authorization": f"Bearer {tenant.token}", "Content-Type": "application/json"}
    body = json.dumps({"command": "echo hello"})
    sent: dict[str, float] = {}
    answered: list[float] = []
    todo = list(range(args.jobs))

    async def submitter() -> None:
        while todo:
            todo.pop()
            at = time.perf_counter()
            async with http.post(f"{api}/jobs", data=body, headers=headers) as response:
                response.raise_for_status()
                sent[(await response.json())["id"]] = at
            answered.append(time.perf_counter() - at)

    # One at a time first: the latency of an idle fleet, then the burst.
    one_by_one: list[float] = []
    for _ in range(args.latency_jobs):
        at = time.perf_counter()
        async with http.post(f"{api}/jobs", data=body, headers=headers) as response:
            job_id = (await response.json())["id"]
        while job_id not in fleet.finished and time.perf_counter() - at < 30:
            await asyncio.sleep(0.002)
        if job_id in fleet.assigned:
            one_by_one.append(fleet.assigned[job_id][0] - at)

    async def final() -> int:
        async with http.get(f"{api}/stats", headers=headers) as response:
            by_status = (await response.json())["by_status"]
        return sum(by_status.get(s, 0) for s in FINAL)

    await asyncio.sleep(1)  # the one-at-a-time jobs are stored final
    ended_before = await final()
    cpu.mark()
    before = await scrape(http, master)
    api_before = await scrape(http, tenant.platform.api_url)
    started = time.perf_counter()
    await asyncio.gather(*(submitter() for _ in range(16)))
    deadline = time.perf_counter() + args.jobs_timeout
    while time.perf_counter() < deadline and await final() - ended_before < args.jobs:
        await asyncio.sleep(0.5)
    elapsed = time.perf_counter() - started
    after = await scrape(http, master)
    api_after = await scrape(http, tenant.platform.api_url)
    usage = cpu.mark()
    stored: list[dict] = []
    for job_id in sent:
        async with http.get(f"{api}/jobs/{job_id}", headers=headers) as response:
            stored.append(await response.json())
    platform_latency = [
        (datetime.fromisoformat(j["started_at"]) - datetime.fromisoformat(j["created_at"]))
        .total_seconds() for j in stored if j.get("started_at")]
    client_latency = [fleet.assigned[j][0] - t for j, t in sent.items() if j in fleet.assigned]
    requeued = {reason: sample(after, "jobrunner_dispatch_requeued_total", reason=reason)
                - sample(before, "jobrunner_dispatch_requeued_total", reason=reason)
                for reason in ("no_slot", "not_taken", "error")}
    return {
        "jobs": args.jobs,
        "seconds": round(elapsed, 1),
        "by_status": dict(sorted({s: sum(1 for j in stored if j["status"] == s)
                                  for s in {j["status"] for j in stored}}.items())),
        "dispatch_one_at_a_time": summary_ms(one_by_one) if one_by_one else None,
        "submit": summary_ms(answered),
        "distinct_workers": len({j["worker_name"] for j in stored if j.get("worker_name")}),
        "distinct_workers_seen_by_fleet": len({fleet.assigned[j][1] for j in sent
                                               if j in fleet.assigned}),
        "dispatch_client": summary_ms(client_latency) if client_latency else None,
        "dispatch_platform": summary_ms(platform_latency) if platform_latency else None,
        "api_dispatch_latency_p99": quantile(0.99, api_before, api_after,
                                             "jobrunner_dispatch_latency_seconds"),
        "requeued": requeued,
        "resends": sum(w.resends for w in fleet.workers),
        "master_lag": lag_figures(before, after),
        "cpu": usage,
    }


async def run_fleet(args, platform: Platform, rabbitmq: RabbitMQ, vhost: str,
                    mongodb_port: int | None) -> dict:
    tenant = platform.new_tenant()
    keys = [tenant.worker_key(f"fleet-{i}") for i in range(args.keys)]
    pids = {"simulator": os.getpid(), "master": platform.master.pid, "api": platform.api.pid}
    rabbitmq_port = urllib.parse.urlsplit(rabbitmq.url).port or 5672
    for name, port in (("rabbitmq", rabbitmq_port), ("database", mongodb_port)):
        if port and (pid := listener_pid(port)) is not None:
            pids[name] = pid
    report: dict = {"logs": {"master": str(platform.master.log_path),
                             "api": str(platform.api.log_path)}}
    if args.pin:
        report["pinned"] = pin(platform)
    # The sessions' HTTP and WebSocket connections on one aiohttp session; REST calls, scrapes
    # and the management API on another. Why its keep-alive is 2 s: uvicorn closes an idle
    # connection after 5 s, and a request sent on one it is closing is reset.
    async with (aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as sessions,
                aiohttp.ClientSession(connector=aiohttp.TCPConnector(
                    limit=0, keepalive_timeout=2)) as http):
        report["master_rss_mb_before"] = round(
            psutil.Process(platform.master.pid).memory_info().rss / 2**20, 1)
        cpu, lag = Cpu(pids), LoopLag()
        fleet = Fleet(sessions, platform.master_url, args.capacity, args.job_seconds)
        phases = [
            ("connect", f"{args.sessions} sessions ({args.connect_concurrency} connecting at once)",
             lambda: connect_phase(args, fleet, tenant, keys, http, cpu, lag)),
            ("steady", f"heartbeats over {args.window:.0f} s",
             lambda: steady_phase(args, fleet, tenant, http, cpu, lag, rabbitmq, vhost,
                                  platform.master.pid)),
            ("new_queue", "the tenant's first job, its dispatch queue reaching every session",
             lambda: new_queue_phase(args, fleet, tenant, http, rabbitmq, vhost)),
            ("jobs", (f"{args.latency_jobs} jobs one at a time, then {args.jobs} at once over "
                     "REST, dispatched across the fleet"),
             lambda: jobs_phase(args, fleet, tenant, http, cpu)),
        ]
        try:
            for name, what, phase in phases:
                print(f"{name}: {what} ...", flush=True)
                try:
                    report[name] = await phase()
                except Exception as exc:  # noqa: BLE001 - a phase that broke is a figure too
                    report[name] = {"error": repr(exc)[:500]}
                print(json.dumps(report[name]), flush=True)
                await asyncio.sleep(2)
        finally:
            report["errors"] = fleet.errors[:20]
            lag.task.cancel()
            await fleet.stop()
    return report


# --- the run ----------------------------------------------------------------------------------


def pin(platform: Platform) -> dict:
    """The master on a CPU of its own among the processes started here; the rest elsewhere."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return {"error": "one CPU: nothing to separate"}
    master, rest = {cpus[-1]}, set(cpus[:-1])
    os.sched_setaffinity(platform.master.pid, master)
    for pid in (os.getpid(), platform.api.pid):
        os.sched_setaffinity(pid, rest)
    return {"master": sorted(master), "simulator_and_api": sorted(rest)}


def raise_open_files() -> int:
    """As many file descriptors as allowed: each session is a socket here and in the master
    (which inherits this limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--window", type=float, default=30.0,
                        help="seconds of steady heartbeats measured")
    parser.add_argument("--capacity", type=int, default=1, help="of each simulated worker")
    parser.add_argument("--keys", type=int, default=1, help="worker keys the fleet shares")
    parser.add_argument("--connect-concurrency", type=int, default=100,
                        help="sessions connecting at once")
    parser.add_argument("--connect-timeout", type=float, default=180.0)
    parser.add_argument("--jobs-timeout", type=float, default=120.0)
    parser.add_argument("--latency-jobs", type=int, default=20,
                        help="jobs submitted one at a time before the burst")
    parser.add_argument("--consumer-prefetch", type=int, default=None,
                        help="CONSUMER_PREFETCH of the API and master (default: theirs, 8)")
    parser.add_argument("--pin", action="store_true",
                        help="the master alone on the last CPU, this simulator and the API on "
                             "the others (RabbitMQ, the database and anything else float)")
    parser.add_argument("--profile", action="store_true",
                        help="py-spy record of the master over the steady window "
                             "(benchmarks/results/profile-fleet-N-master.txt)")
    parser.add_argument("--job-seconds", type=float, default=0.0,
                        help="how long a simulated job runs between its log and its end")
    args = parser.parse_args()

    open_files = raise_open_files()
    if args.consumer_prefetch:
        os.environ["CONSUMER_PREFETCH"] = str(args.consumer_prefetch)  # the services inherit it
    token = secrets.token_hex(4)
    vhost, database = f"jobrunner-fleet-{token}", f"jobrunner_fleet_{token}"
    report: dict = {"when": datetime.now().isoformat(timespec="seconds"),
                    "machine": {"cpus": os.cpu_count(), "open_files": open_files},
                    "args": vars(args)}
    RESULTS.mkdir(parents=True, exist_ok=True)
    with rabbitmq_server() as rabbitmq, mongodb_server() as mongodb_url:
        rabbitmq.create_vhost(vhost)
        try:
            platform_gen = start_platform(rabbitmq.vhost_url(vhost), mongodb_url, database)
            platform = next(platform_gen)
            try:
                port = int(mongodb_url.rsplit(":", 1)[-1].split("/")[0])
                report.update(asyncio.run(run_fleet(args, platform, rabbitmq, vhost, port)))
            finally:
                platform_gen.close()
        finally:
            rabbitmq.delete_vhost(vhost)
            with MongoClient(mongodb_url) as client:
                client.drop_database(database)
    text = json.dumps(report, indent=2) + "\n"
    (RESULTS / "fleet.json").write_text(text)
    (RESULTS / f"fleet-{args.sessions}.json").write_text(text)
    print_summary(report)
    print(f"written to {RESULTS / 'fleet.json'}")


def met(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def print_summary(report: dict) -> None:
    rows: list[tuple[str, str, str]] = []
    for name in ("connect", "steady", "new_queue", "jobs"):
        if "error" in report.get(name, {"error": "not run"}):
            rows.append((f"{name}: failed", str(report.get(name, {}).get("error", "not run")), ""))
    try:
        rows += summary_rows(report)
    except (KeyError, TypeError):  # a phase that failed has no figures to show
        pass
    width = max(len(name) for name, _, _ in rows)
    print("\n".join(f"{name:<{width}}  {value}  {target}".rstrip() for name, value, target in rows))


def summary_rows(report: dict) -> list[tuple[str, str, str]]:
    rows = []
    c = report["connect"]
    n, online = c["sessions"], c["online_at_api_seconds"]
    rows.append((f"{n} sessions at the master / online at the API",
                 f"{c['at_master_seconds']} s / {online} s",
                 (f"≤ {TARGETS['online_seconds']} s: "
                 f"{met(online is not None and online <= TARGETS['online_seconds'])}")))
    s = report["steady"]
    lag, beats = s["master_lag"]["p99"], s["heartbeats_sent_per_session"]
    rows += [
        (f"master RSS at {n} (before: {report['master_rss_mb_before']} MB)",
         f"{s['master_rss_mb']} MB",
         f"≤ {TARGETS['master_rss_mb']} MB: {met(s['master_rss_mb'] <= TARGETS['master_rss_mb'])}"),
        ("master event-loop lag p50 / p99 (steady)",
         (f"≤ {s['master_lag']['p50'].get('at_most')} / ≤ {lag.get('at_most')} s (est. "
         f"{s['master_lag']['p50'].get('estimate')} / {lag.get('estimate')} s; of "
         f"{lag.get('count')} samples {s['master_lag']['over_50ms']} over 50 ms, "
         f"{s['master_lag']['over_250ms']} over 250)"),
         (f"≤ {TARGETS['lag_p99_ms']} ms: "
         f"{met(lag.get('at_most') is not None and lag['at_most'] <= TARGETS['lag_p99_ms'] / 1000)}")),
        ("heartbeats per session in the window (sent)",
         (f"{beats['min']}–{beats['max']} (expected {beats['expected']}), "
         f"{beats['sessions_silent']} silent"),
         f"every session: {met(beats['sessions_silent'] == 0)}"),
        ("master heartbeats/s; API heard from in 10 s",
         (f"{s['master_heartbeats_per_second']} (N/5 = {s['expected_per_second']}); "
         f"{s['api_heard_within_10s']} of {n}"), ""),
        ("CPU, steady (% of a core)", json.dumps(s["cpu"]["percent_of_a_core"]), ""),
        ("CPU, connecting (% of a core)", json.dumps(c["cpu"]["percent_of_a_core"]), ""),
    ]
    q = report["new_queue"]
    rows.append(("a new dispatch queue: every session consuming it",
                 f"{q['all_consuming_seconds']} s ({q['queue_consumers']} consumers)", ""))
    j = report["jobs"]
    client, stored, single = (j["dispatch_client"] or {}, j["dispatch_platform"] or {},
                              j["dispatch_one_at_a_time"] or {})
    rows += [
        (f"{j['jobs']} jobs: statuses, distinct workers",
         f"{j['by_status']}, {j['distinct_workers']} workers",
         f"all succeed: {met(j['by_status'].get('succeeded', 0) == j['jobs'])}"),
        ("dispatch, one at a time: POST -> job:assign",
         f"p50 {single.get('p50_ms')} ms, p99 {single.get('p99_ms')} ms", ""),
        (f"dispatch, {j['jobs']} at once: POST -> job:assign / created -> started",
         (f"p50 {client.get('p50_ms')} / {stored.get('p50_ms')} ms, "
         f"p99 {client.get('p99_ms')} / {stored.get('p99_ms')} ms"), ""),
    ]
    return rows


if __name__ == "__main__":
    main()
