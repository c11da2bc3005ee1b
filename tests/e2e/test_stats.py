"""`GET /api/v1/stats`: the dashboard overview's counts, per tenant."""

import pytest

from tests.support.platform import Tenant

pytestmark = pytest.mark.e2e


def test_counts_by_status_and_per_minute_are_the_tenants_own(platform, tenant: Tenant) -> None:
    other = platform.new_tenant()
    for n in range(3):
        tenant.submit(command=f"echo {n}", labels=["nobody-has-this"])
    other.submit(command="echo other", labels=["nobody-has-this"])
    with tenant.client() as client:
        stats = client.get("/stats").json()
    assert stats["by_status"] == {
        "queued": 3, "running": 0, "succeeded": 0, "failed": 0, "timed_out": 0, "cancelled": 0,
    }
    assert len(stats["created_per_minute"]) == 60
    assert sum(stats["created_per_minute"]) == 3
