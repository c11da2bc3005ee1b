"""Output that would break a transport: one 20 MiB line (SPEC §6.3, issue 3 "Output limits")."""

import pytest

from tests.support.platform import Tenant

pytestmark = pytest.mark.e2e

MIB = 1024 * 1024


def test_a_20_mib_line_is_stored_whole_in_pieces_and_breaks_nothing(
    tenant: Tenant, start_worker, record_counts
) -> None:
    start_worker(tenant.worker_key())
    job = tenant.submit(command="head -c 20971520 /dev/zero | tr '\\0' x; echo; echo after")
    done = tenant.wait_final(job["id"], timeout=120)
    assert done["status"] == "succeeded"
    lines = tenant.all_lines(job["id"], timeout=120)
    *pieces, last = lines
    # Split at the worker's line limit: nothing lost, nothing over the Socket.IO message size.
    assert sum(len(p["text"]) for p in pieces) == 20 * MIB
    assert all(set(p["text"]) == {"x"} and len(p["text"]) <= 64 * 1024 for p in pieces)
    assert last["text"] == "after"
    assert [ln["seq"] for ln in lines] == list(range(1, len(lines) + 1))
    # And the session is still fine: the next job runs
    follow = tenant.submit(command="echo still-here")
    assert tenant.wait_final(follow["id"])["status"] == "succeeded"
    # 20 MiB in 64 KiB pieces is 320 lines, then "after", then the next job's line
    record_counts("a 20 MiB line (stored as 64 KiB pieces)", tenant,
                  [job["id"], follow["id"]], 320 + 1 + 1)


def test_output_past_the_cap_is_cut_with_a_visible_line_and_the_job_runs_on(
    tenant: Tenant, start_worker
) -> None:
    # The test platform caps stored logs at 24 MiB (tests/support/platform.py).
    start_worker(tenant.worker_key())
    job = tenant.submit(command="head -c 31457280 /dev/zero | tr '\\0' y; echo; echo ran-on >&2;"
                                " exit 7")
    done = tenant.wait_final(job["id"], timeout=120)
    assert done["status"] == "failed" and done["exit_code"] == 7  # it ran to its own end
    assert done["log_truncated"] is True
    lines = tenant.all_lines(job["id"], timeout=120)
    *kept, cut = lines
    assert sum(len(ln["text"]) for ln in kept) <= 24 * MIB
    assert "output truncated" in cut["text"] and "24 MiB" in cut["text"]
    assert all(ln["text"] != "ran-on" for ln in lines)
    assert [ln["seq"] for ln in lines] == list(range(1, len(lines) + 1))
