"""Reading a service's GET /metrics (Prometheus text format) in tests."""

import time
from collections.abc import Callable

import httpx
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(base_url: str) -> Samples:
    """Every sample by (name, labels): `value(samples, "jobrunner_jobs", status="queued")`."""
    response = httpx.get(f"{base_url}/metrics", timeout=10)
    response.raise_for_status()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """A sample's value; 0 when the service does not show it (yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def wait_metric(base_url: str, name: str, predicate: Callable[[float], bool],
                timeout: float = 15, **labels: str) -> float:
    """Scrape until the sample satisfies `predicate` (cached figures need a refresh period)."""
    deadline = time.monotonic() + timeout
    while True:
        current = value(scrape(base_url), name, **labels)
        if predicate(current):
            return current
        if time.monotonic() > deadline:
            raise AssertionError(f"{name}{labels} is still {current} after {timeout}s")
        time.sleep(0.2)
