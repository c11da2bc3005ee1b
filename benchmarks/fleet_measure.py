"""Measuring for benchmarks/fleet.py: Prometheus scrapes and histogram quantiles between two of
them, event-loop lag of this process, CPU of each process involved."""

import asyncio
import statistics
import time

import aiohttp
import psutil
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset], float]


async def scrape(http: aiohttp.ClientSession, base_url: str) -> Samples:
    async with http.get(f"{base_url}/metrics", timeout=aiohttp.ClientTimeout(total=30)) as r:
        text = await r.text()
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def sample(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def quantile(q: float, before: Samples, after: Samples, name: str) -> dict:
    """The q-quantile of a histogram's observations between two scrapes: the bucket it falls
    in (`at_most`, an upper bound) and Prometheus' linear estimate inside that bucket."""
    buckets = sorted(
        (float(dict(labels)["le"]), value - before.get((metric, labels), 0.0))
        for (metric, labels), value in after.items() if metric == f"{name}_bucket")
    total = buckets[-1][1] if buckets else 0
    if not total:
        return {"count": 0}
    rank, low, below = q * total, 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if bound == float("inf"):
                return {"count": int(total), "at_most": None, "estimate": low}
            estimate = low + (bound - low) * (rank - below) / max(count - below, 1e-9)
            return {"count": int(total), "at_most": bound, "estimate": round(estimate, 4)}
        low, below = bound, count
    return {"count": int(total)}


def over(bound: float, before: Samples, after: Samples, name: str) -> int:
    """Observations of a histogram above `bound` (a bucket's bound) between two scrapes."""
    def count(samples: Samples, le: str) -> float:
        return sample(samples, f"{name}_bucket", le=le)
    total = count(after, "+Inf") - count(before, "+Inf")
    return int(total - (count(after, str(bound)) - count(before, str(bound))))


def lag_figures(before: Samples, after: Samples) -> dict:
    """The master's event-loop lag between two scrapes: p50 and p99 by bucket, and how many
    samples (one per 0.1 s) were over 50 ms and over 250 ms."""
    name = "jobrunner_event_loop_lag_seconds"
    return {"p50": quantile(0.5, before, after, name), "p99": quantile(0.99, before, after, name),
            "over_50ms": over(0.05, before, after, name),
            "over_250ms": over(0.25, before, after, name)}


class LoopLag:
    """This process's own event-loop lag (the simulator's), the master's probe replicated."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            asked = loop.time() + 0.1
            await asyncio.sleep(0.1)
            self.lags.append(max(0.0, loop.time() - asked))

    def since(self, start: int) -> dict:
        lags = sorted(self.lags[start:]) or [0.0]
        return {"p50_ms": round(1000 * statistics.median(lags), 1),
                "p99_ms": round(1000 * lags[min(len(lags) - 1, round(0.99 * (len(lags) - 1)))], 1),
                "max_ms": round(1000 * lags[-1], 1)}


def listener_pid(port: int) -> int | None:
    for conn in psutil.net_connections("tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port and conn.pid:
            return conn.pid
    return None


class Cpu:
    """CPU seconds of each process between marks, as % of one core."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.procs = {name: psutil.Process(pid) for name, pid in pids.items()}
        self.last = self._now()

    def _now(self) -> tuple[float, dict[str, float]]:
        machine = psutil.cpu_times()
        out = {"machine": machine.user + machine.nice + machine.system + machine.irq
               + machine.softirq + machine.steal}
        for name, proc in self.procs.items():
            try:
                times = proc.cpu_times()
                out[name] = times.user + times.system
            except psutil.Error:
                out[name] = 0.0
        return time.perf_counter(), out

    def mark(self) -> dict:
        (t0, before), (t1, after) = self.last, self._now()
        self.last = (t1, after)
        used = {name: round(100 * (after[name] - before[name]) / (t1 - t0), 1) for name in after}
        machine = used.pop("machine")
        ours = round(sum(used.values()), 1)
        # Everything else on the machine (other people's processes, the kernel's work for
        # no process of ours): this VM is shared.
        used["others"] = round(max(0.0, machine - ours), 1)
        return {"seconds": round(t1 - t0, 1), "percent_of_a_core": used, "total": ours,
                "machine": machine, "cores": psutil.cpu_count()}


def summary_ms(values: list[float]) -> dict:
    ordered = sorted(values)
    return {"p50_ms": round(1000 * statistics.median(ordered), 1),
            "p99_ms": round(1000 * ordered[min(len(ordered) - 1,
                                                round(0.99 * (len(ordered) - 1)))], 1),
            "max_ms": round(1000 * ordered[-1], 1)}
