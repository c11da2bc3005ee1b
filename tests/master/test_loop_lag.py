"""The master's event-loop lag metric: a loop held up shows in the histogram, an idle one not."""

import asyncio
import time

from jobrunner_master import metrics


def observed(at_most: float) -> float:
    """Samples of jobrunner_event_loop_lag_seconds at or below `at_most` (a bucket bound)."""
    for sample in metrics.EVENT_LOOP_LAG.collect()[0].samples:
        if sample.name.endswith("_bucket") and float(sample.labels["le"]) == at_most:
            return sample.value
    raise AssertionError(f"no bucket {at_most}")


def total() -> float:
    return observed(float("inf"))


async def test_a_blocked_event_loop_shows_as_lag_and_an_idle_one_does_not() -> None:
    watcher = asyncio.create_task(metrics.watch_event_loop(interval=0.02))
    try:
        # Given an idle loop: its samples are below 50 ms (but for a hiccup of this shared VM)
        before_total, before_fast = total(), observed(0.05)
        await asyncio.sleep(0.3)
        samples = total() - before_total
        assert samples >= 5
        assert observed(0.05) - before_fast >= samples - 1
        # When a callback holds the loop for 300 ms
        before_total, before_fast = total(), observed(0.25)
        time.sleep(0.3)
        await asyncio.sleep(0.1)
        # Then one sample says the loop was at least 250 ms late
        assert total() - before_total >= 1
        assert observed(0.25) - before_fast < total() - before_total
    finally:
        watcher.cancel()
