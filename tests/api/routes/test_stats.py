"""The overview's jobs-per-minute buckets."""

from datetime import UTC, datetime, timedelta

from jobrunner_api.routes.stats import MINUTES, minute_buckets

NOW = datetime(2026, 1, 1, 12, 30, 42, tzinfo=UTC)


def test_jobs_fall_into_their_minute_the_current_one_last() -> None:
    created = [
        NOW,  # the current minute
        NOW.replace(second=0),  # its first instant
        NOW - timedelta(minutes=1),
        NOW - timedelta(minutes=MINUTES - 1),  # the oldest minute shown
        NOW - timedelta(minutes=MINUTES),  # too old
    ]
    start, buckets = minute_buckets(created, NOW)
    assert start == datetime(2026, 1, 1, 11, 31, tzinfo=UTC)
    assert len(buckets) == MINUTES
    assert buckets[-1] == 2 and buckets[-2] == 1 and buckets[0] == 1
    assert sum(buckets) == 4
