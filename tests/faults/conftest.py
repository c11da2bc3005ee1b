"""Every fault scenario ends with counts; the session writes them as a table.

The table goes to .data/test-output/reliability.md (and the terminal summary), the source of
the table in docs/reliability.md.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from tests.support.paths import DATA_DIR
from tests.support.platform import FINAL, Tenant

REPORT = DATA_DIR / "test-output" / "reliability.md"


@dataclass
class Counts:
    scenario: str
    submitted: int
    final_once: int
    lines_printed: int
    lines_stored: int
    duplicates: int

    def row(self) -> str:
        return (f"| {self.scenario} | {self.submitted} | {self.final_once} | "
                f"{self.lines_printed} | {self.lines_stored} | {self.duplicates} |")


_rows: list[Counts] = []


@pytest.fixture
def record_counts() -> Callable[..., Counts]:
    """record_counts(scenario, tenant, job_ids, lines_printed): count, check and keep."""

    def record(scenario: str, tenant: Tenant, job_ids: list[str], lines_printed: int) -> Counts:
        final_once = stored = duplicates = 0
        for job_id in job_ids:
            job = tenant.job(job_id)
            final_once += job["status"] in FINAL
            lines = tenant.all_lines(job_id, timeout=120)
            seqs = [ln["seq"] for ln in lines]
            stored += len(lines)
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
    header = ("| scenario | jobs submitted | jobs in exactly one final state | lines printed "
              "| lines stored | duplicates |\n| --- | ---: | ---: | ---: | ---: | ---: |")
    REPORT.write_text(header + "\n" + "\n".join(row.row() for row in _rows) + "\n")
