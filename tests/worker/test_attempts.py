"""Attempts with real processes, against a recording outbox: how each one is reported."""

import asyncio

import pytest
from jobrunner_shared import names
from jobrunner_shared.messages import JobAssignment
from jobrunner_worker.attempts import Attempts
from jobrunner_worker.settings import WorkerSettings


class RecordingOutbox:
    def __init__(self) -> None:
        self.ran_supported = True
        self.puts: list[tuple[str, dict]] = []

    def put(self, event, payload) -> None:
        self.puts.append((event, payload.model_dump(mode="json")))

    @property
    def events(self) -> list[str]:
        return [event for event, _ in self.puts]


def attempts_with(linger: float, **settings) -> tuple[Attempts, RecordingOutbox, list[int]]:
    outbox = RecordingOutbox()
    attempts = Attempts(WorkerSettings(api_key="k", worker_start_linger_seconds=linger,
                                       kill_grace_seconds=1, **settings), outbox)
    changes: list[int] = []
    attempts.on_change = lambda: changes.append(len(attempts))
    return attempts, outbox, changes


def assignment(**fields) -> JobAssignment:
    return JobAssignment(job_id="j", tenant_id="t", attempt=1, **fields)


async def printed(attempts: Attempts, lines: int) -> None:
    """Until the attempt's process has written that many lines (its start may take a while)."""
    for _ in range(200):
        running = attempts._running.get(("j", 1))
        if running is not None and running.runner.last_seq >= lines:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the job did not print in time")


async def ended(attempts: Attempts) -> None:
    attempts.drain()
    await asyncio.wait_for(attempts.wait_drained(), 10)


@pytest.mark.parametrize(("how", "status"), [("cancel", "cancelled"), ("timeout", "timed_out")])
async def test_an_attempt_cancelled_or_timed_out_within_the_linger_is_one_job_ran(how, status):
    # Given a start linger longer than the attempt will last
    attempts, outbox, changes = attempts_with(linger=5)
    timeout = 1 if how == "timeout" else None
    assert attempts.assign(assignment(command="echo before; sleep 30",
                                      timeout_seconds=timeout)).accepted
    await printed(attempts, 1)
    await asyncio.sleep(0.1)
    assert outbox.puts == []  # the start is held
    assert changes == [1]  # while the heartbeat already lists it
    if how == "cancel":
        assert attempts.cancel("j", 1)
    await ended(attempts)
    # Then it is reported once, with the status it ended with and what it printed
    assert outbox.events == [names.EV_JOB_RAN]
    ran = outbox.puts[0][1]
    assert (ran["status"], ran["exit_code"], ran["pid"] > 0) == (status, None, True)
    assert [line["text"] for line in ran["lines"]] == ["before"]
    assert ran["duration_seconds"] >= (1 if how == "timeout" else 0.1)
    assert changes == [1, 0]


async def test_a_longer_attempt_is_reported_the_classic_way_and_nothing_stays_held():
    attempts, outbox, changes = attempts_with(linger=0.05, log_flush_interval=0.02)
    assert attempts.assign(assignment(command="echo one; sleep 1; echo two")).accepted
    for _ in range(200):
        if len(outbox.puts) >= 2:
            break
        await asyncio.sleep(0.01)
    # the start and the first line went out while the attempt still runs: the linger ran out
    assert outbox.events == [names.EV_JOB_STARTED, names.EV_JOB_LOG] and len(attempts) == 1
    await ended(attempts)
    assert outbox.events == [names.EV_JOB_STARTED, names.EV_JOB_LOG, names.EV_JOB_LOG,
                             names.EV_JOB_FINISHED]
    texts = [line["text"] for event, data in outbox.puts if event == names.EV_JOB_LOG
             for line in data["lines"]]
    assert texts == ["one", "two"]
    assert outbox.puts[-1][1]["status"] == "succeeded" and outbox.puts[-1][1]["last_seq"] == 2
    assert changes == [1, 0]


async def test_the_error_of_a_job_ran_is_masked_as_job_finished_would_have_it():
    attempts, outbox, _ = attempts_with(linger=5)
    assert attempts.assign(assignment(argv=["/nonexistent/s3cret-tool"], mask=["s3cret"])).accepted
    await ended(attempts)
    assert outbox.events == [names.EV_JOB_RAN]
    ran = outbox.puts[0][1]
    assert (ran["pid"], ran["duration_seconds"], ran["exit_code"]) == (None, 0, 127)
    assert "s3cret" not in str(ran) and "***-tool" in ran["error"]
