"""Every fault scenario ends with counts; the session writes them as a table.

The table goes to .data/test-output/reliability.md (and the terminal summary), the source of
the table in docs/reliability.md. `make test` runs the suite in several sessions (pytest-xdist's
workers, then the node-wide tests alone): each merges its rows into the table, a scenario's row
replaced by its latest counts.
"""

import fcntl
import time
from collections.abc import Callable, Iterator

import pytest

from tests.support.paths import DATA_DIR
from tests.support.platform import FINAL, Tenant
from tests.support.reliability import Counts, merged

REPORT = DATA_DIR / "test-output" / "reliability.md"
# How long a log may take to be complete after its job ended (a requeued batch waits up to
# 6 s per delivery: jobrunner_shared.amqp.ConsumeErrorPolicy).
LOG_WAIT_SECONDS = 30


_rows: list[Counts] = []


@pytest.fixture
def record_counts() -> Callable[..., Counts]:
    """record_counts(scenario, tenant, job_ids, lines_printed): count, check and keep."""

    def record(scenario: str, tenant: Tenant, job_ids: list[str], lines_printed: int) -> Counts:
        final_once = stored = duplicates = 0
        with tenant.client() as client:
            for job_id in job_ids:
                final_once += client.get(f"/jobs/{job_id}").json()["status"] in FINAL
                seqs: list[int] = []
                # Why wait: a job's end and its log travel on different queues; a log batch
                # requeued during a fault (with its growing pause) can be stored after the end
                # is. `complete` says every line is in; lines still missing after the wait are
                # counted as lost.
                deadline = time.monotonic() + LOG_WAIT_SECONDS
                while True:
                    page = client.get(f"/jobs/{job_id}/logs",
                                      params={"after": seqs[-1] if seqs else 0, "limit": 10000})
                    body = page.json()
                    seqs.extend(line["seq"] for line in body["lines"])
                    if body["complete"] or (not body["lines"] and time.monotonic() > deadline):
                        break
                    if not body["lines"]:
                        time.sleep(0.2)
                stored += len(seqs)
                duplicates += len(seqs) - len(set(seqs))
        counts = Counts(scenario, len(job_ids), final_once, lines_printed, stored, duplicates)
        _rows.append(counts)
        assert counts.final_once == counts.submitted, counts
        assert counts.lines_stored == counts.lines_printed, counts
        assert counts.duplicates == 0, counts
        return counts

    return record


@pytest.fixture(scope="session", autouse=True)
def _write_report() -> Iterator[None]:
    yield
    if not _rows:
        return
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    # Why a lock: pytest-xdist's workers end their sessions at about the same time.
    with open(REPORT.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        table = REPORT.read_text() if REPORT.exists() else ""
        REPORT.write_text(merged(table, _rows))
