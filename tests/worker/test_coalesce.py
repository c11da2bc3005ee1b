"""The start holder: a short attempt in one job:ran, a longer one the classic way, never late."""

import asyncio

import pytest
from jobrunner_shared import names
from jobrunner_shared.messages import JobFinished, JobLog, JobRan, JobStarted, LogLine, utcnow
from jobrunner_worker.coalesce import StartHolder, unfold
from jobrunner_worker.logs import encoded_size

LINGER = 0.05


class FakeOutbox:
    """Records what is put, and when (on the loop's clock)."""

    def __init__(self) -> None:
        self.ran_supported = True
        self.puts: list[tuple[str, object, float]] = []

    def put(self, event, payload) -> None:
        self.puts.append((event, payload, asyncio.get_running_loop().time()))

    @property
    def events(self) -> list[str]:
        return [event for event, _, _ in self.puts]


def batch(first: int, n: int = 2, text: str = "line") -> JobLog:
    lines = [LogLine(seq=s, stream="stdout", text=f"{text}{s}", ts=utcnow())
             for s in range(first, first + n)]
    return JobLog(job_id="j", attempt=1, lines=lines)


def finished(**fields) -> JobFinished:
    values = dict(job_id="j", attempt=1, status="failed", exit_code=3, error=None, last_seq=3)
    values.update(fields)
    return JobFinished(**values)


def holder(outbox: FakeOutbox, **kwargs) -> StartHolder:
    kwargs.setdefault("linger", LINGER)
    kwargs.setdefault("batch_lines", 1000)
    kwargs.setdefault("batch_bytes", 256 * 1024)
    return StartHolder(outbox=outbox, **kwargs)


async def test_a_quick_attempt_is_one_job_ran_with_all_its_lines_in_order():
    outbox = FakeOutbox()
    now = [10.0]
    report = holder(outbox, clock=lambda: now[0])
    report.started(JobStarted(job_id="j", attempt=1, pid=42))
    report.log(batch(1))
    now[0] = 10.02
    report.log(batch(3, n=1))
    assert outbox.puts == []  # all held while the attempt may still end within the linger
    end = finished(error="boom", log_truncated=True)
    report.finished(end)
    assert outbox.events == [names.EV_JOB_RAN]
    ran = outbox.puts[0][1]
    assert isinstance(ran, JobRan)
    assert (ran.pid, ran.duration_seconds) == (42, pytest.approx(0.02))
    assert [line.seq for line in ran.lines] == [1, 2, 3]
    assert [line.text for line in ran.lines] == ["line1", "line2", "line3"]
    # the end as a job:finished would have said it
    assert ran.model_dump(include=set(JobFinished.model_fields)) == end.model_dump()
    await asyncio.sleep(LINGER * 2)
    assert outbox.events == [names.EV_JOB_RAN]  # the linger's timer does not put it again


async def test_a_slow_attempt_puts_its_start_within_the_linger_then_goes_the_classic_way():
    outbox = FakeOutbox()
    report = holder(outbox)
    loop = asyncio.get_running_loop()
    began = loop.time()
    report.started(JobStarted(job_id="j", attempt=1, pid=42))
    report.log(batch(1))
    await asyncio.sleep(LINGER + 0.4)
    # the start, then what was held, once the linger ran out – and no later
    assert outbox.events == [names.EV_JOB_STARTED, names.EV_JOB_LOG]
    assert LINGER <= outbox.puts[0][2] - began < LINGER + 0.15
    start = outbox.puts[0][1]
    assert (start.job_id, start.attempt, start.pid) == ("j", 1, 42)
    # saying how long it was held, so the master dates the start when the process began
    assert LINGER <= start.held_seconds < LINGER + 0.15
    # from then on, everything at once, as before
    report.log(batch(3))
    assert outbox.events[-1] == names.EV_JOB_LOG
    report.finished(finished(last_seq=4))
    assert outbox.events == [names.EV_JOB_STARTED] + [names.EV_JOB_LOG] * 2 + [
        names.EV_JOB_FINISHED]
    assert [line.seq for _, b, _ in outbox.puts[1:3] for line in b.lines] == [1, 2, 3, 4]


@pytest.mark.parametrize("bound", ["lines", "bytes"])
async def test_more_than_one_batch_worth_is_released_at_once_as_separate_entries(bound):
    outbox = FakeOutbox()
    text = "x" * 300
    line_bytes = encoded_size(text + "1")
    if bound == "lines":
        report = holder(outbox, batch_lines=3)
    else:
        report = holder(outbox, batch_bytes=int(line_bytes * 2.5))
    report.started(JobStarted(job_id="j", attempt=1, pid=42))
    report.log(batch(1, n=2, text=text))
    assert outbox.puts == []  # 2 lines: within either bound
    report.log(batch(3, n=2, text=text))
    # 4 lines would be over: the start and both batches go now, in order, not as a job:ran
    assert outbox.events == [names.EV_JOB_STARTED, names.EV_JOB_LOG, names.EV_JOB_LOG]
    assert [line.seq for _, b, _ in outbox.puts[1:] for line in b.lines] == [1, 2, 3, 4]
    report.finished(finished(last_seq=4))
    assert outbox.events[-1] == names.EV_JOB_FINISHED and len(outbox.puts) == 4


async def test_the_last_batch_flushed_at_the_end_counts_against_the_bound_too():
    outbox = FakeOutbox()
    report = holder(outbox, batch_lines=2)
    report.started(JobStarted(job_id="j", attempt=1, pid=42))
    report.log(batch(1, n=2))
    report.log(batch(3, n=1))  # what AttemptLog.close() flushes at the end
    report.finished(finished())
    assert outbox.events == [names.EV_JOB_STARTED, names.EV_JOB_LOG, names.EV_JOB_LOG,
                             names.EV_JOB_FINISHED]


async def test_linger_zero_disables_coalescing():
    outbox = FakeOutbox()
    report = holder(outbox, linger=0)
    report.started(JobStarted(job_id="j", attempt=1, pid=42))
    assert outbox.events == [names.EV_JOB_STARTED]  # at once
    report.log(batch(1))
    report.finished(finished(last_seq=2))
    assert outbox.events == [names.EV_JOB_STARTED, names.EV_JOB_LOG, names.EV_JOB_FINISHED]


async def test_no_coalescing_while_the_master_does_not_know_job_ran():
    # Given a master that does not know job:ran, the start is not held at all
    outbox = FakeOutbox()
    outbox.ran_supported = False
    report = holder(outbox)
    report.started(JobStarted(job_id="j", attempt=1, pid=42))
    assert outbox.events == [names.EV_JOB_STARTED]
    # And when that is learnt while a start is held, the end comes the classic way
    outbox = FakeOutbox()
    report = holder(outbox)
    report.started(JobStarted(job_id="j", attempt=1, pid=42))
    report.log(batch(1))
    outbox.ran_supported = False
    report.finished(finished(last_seq=2))
    assert outbox.events == [names.EV_JOB_STARTED, names.EV_JOB_LOG, names.EV_JOB_FINISHED]


async def test_release_puts_everything_held_once():
    # an attempt torn down before its end: nothing may stay held
    outbox = FakeOutbox()
    report = holder(outbox)
    report.started(JobStarted(job_id="j", attempt=1, pid=42))
    report.log(batch(1))
    report.release()
    assert outbox.events == [names.EV_JOB_STARTED, names.EV_JOB_LOG]
    report.release()
    await asyncio.sleep(LINGER * 2)
    assert outbox.events == [names.EV_JOB_STARTED, names.EV_JOB_LOG]


async def test_an_attempt_that_never_started_is_one_job_ran_without_pid_or_duration():
    outbox = FakeOutbox()
    now = [5.0]
    report = holder(outbox, clock=lambda: now[0])
    report.started(JobStarted(job_id="j", attempt=1, pid=None))
    now[0] = 5.5
    report.log(batch(1, n=1, text="cannot start"))
    report.finished(finished(exit_code=127, last_seq=1))
    ran = outbox.puts[0][1]
    assert outbox.events == [names.EV_JOB_RAN]
    assert (ran.pid, ran.duration_seconds, ran.exit_code) == (None, 0.0, 127)
    assert [line.text for line in ran.lines] == ["cannot start1"]


def test_unfold_gives_the_classic_events_with_the_lines_in_bounded_batches():
    lines = [LogLine(seq=s, stream="stderr", text=f"l{s}", ts=utcnow()) for s in range(1, 6)]
    end = finished(status="cancelled", exit_code=None, error="cancelled", last_seq=5)
    ran = JobRan(**end.model_dump(), pid=7, duration_seconds=0.01, lines=lines)
    events = unfold(ran, batch_lines=2, batch_bytes=256 * 1024)
    assert [event for event, _ in events] == [names.EV_JOB_STARTED] + [names.EV_JOB_LOG] * 3 + [
        names.EV_JOB_FINISHED]
    assert events[0][1] == JobStarted(job_id="j", attempt=1, pid=7)
    assert [[line.seq for line in b.lines] for _, b in events[1:4]] == [[1, 2], [3, 4], [5]]
    assert events[-1][1] == end
    # by size: each line alone when two would not fit
    by_size = unfold(ran, batch_lines=1000, batch_bytes=encoded_size("l1") + 1)
    assert [len(b.lines) for _, b in by_size[1:-1]] == [1] * 5
    # no lines: no job:log
    quiet = JobRan(**end.model_dump(), pid=7)
    assert [event for event, _ in unfold(quiet, batch_lines=2, batch_bytes=1024)] == [
        names.EV_JOB_STARTED, names.EV_JOB_FINISHED]
