"""Garbage-collector settings for long-running services (API, master, worker).

Why: each service makes many short-lived objects per job or event (messages, models, futures,
timers). With CPython's default young-generation threshold (700 new objects) those living a
few milliseconds get collected over and over and reach the old generation, whose full
collections then stall the event loop. Collected after YOUNG_THRESHOLD new objects instead,
they die young, in fewer passes; what startup made lives as long as the process and is frozen
out of every collection.
"""

import gc

# New objects (allocations less deallocations) that start a young-generation collection.
YOUNG_THRESHOLD = 50_000


def settle_after_startup() -> None:
    """Collect once, freeze what startup made, and raise the young generation's threshold."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *gc.get_threshold()[1:])
