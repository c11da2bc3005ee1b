"""Revocations: the attempts the API stopped lately, as this master heard them on the control
topic, and whether they vouch for a delivery without a read of MongoDB.

A first delivery of an attempt (not redelivered, not dead-lettered back, not a copy the sweeper
published again) can only be one that must not run if the attempt was cancelled while queued:
nothing else ends a queued attempt that no worker took. The API announces every cancel on the
control topic (`CancelAttempt`, after the change is stored), and every master hears every
announcement. So a master that has listened without a break since before the attempt was
queued knows from its own list whether it still runs: Celery's revoke list, kept for a bounded
time. Anything it cannot vouch for (queued before it listened, or too long ago to remember, or
a copy) is read from MongoDB, as before.
"""

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

# A delivery whose attempt was queued longer ago than this is read: the list forgets a stop
# some time after it was heard (below), and a delivery that waited this long is no hot path.
HORIZON_SECONDS = 60.0
# How far the clocks of API and master hosts may disagree (the attempt's queued_at is the
# API's). Leases already assume clocks kept in step by NTP, which agree within milliseconds.
CLOCK_SLACK_SECONDS = 2.0
# Stops remembered at most; past it the list starts over, and what it knew is read instead.
MAX_REVOKED = 100_000


class Revocations:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        # Since when (wall clock, seconds) the control topic was heard without a break; None
        # while its channel is closed (announcements meanwhile are lost with its queue).
        self._since: float | None = None
        # (job id, attempt) -> when its stop was heard; oldest first.
        self._revoked: OrderedDict[tuple[str, int], float] = OrderedDict()

    def listening(self) -> None:
        """The control consumer is (again) in place: heard from now on."""
        self._since = self._clock()

    def deaf(self) -> None:
        """The control consumer's channel closed: nothing is vouched for until it is back."""
        self._since = None

    def follow(self, channel: Any) -> None:
        """Listen and go deaf with `channel`, the robust channel the control consumer uses
        (aio-pika reopens it, and its queue and consumer, after a close)."""
        channel.close_callbacks.add(lambda *_: self.deaf())
        channel.reopen_callbacks.add(lambda *_: self.listening())
        self.listening()

    def revoke(self, job_id: str, attempt: int) -> None:
        now = self._clock()
        self._forget_before(now - HORIZON_SECONDS - 2 * CLOCK_SLACK_SECONDS)
        if len(self._revoked) >= MAX_REVOKED:
            # Why start over rather than drop the oldest: a delivery it vouches for must not
            # miss a stop; from here on, only attempts queued after now are vouched for.
            self._revoked.clear()
            self._since = None if self._since is None else now
        self._revoked[(job_id, attempt)] = now
        self._revoked.move_to_end((job_id, attempt))

    def revoked(self, job_id: str, attempt: int) -> bool:
        return (job_id, attempt) in self._revoked

    def vouch(self, queued_at: float | None) -> bool:
        """Whether every stop of an attempt queued at `queued_at` (the API's clock, seconds)
        would be in the list: heard since before it was queued, and recent enough."""
        if queued_at is None or self._since is None:
            return False
        age = self._clock() - queued_at
        return queued_at - CLOCK_SLACK_SECONDS >= self._since and age <= HORIZON_SECONDS

    def __len__(self) -> int:
        return len(self._revoked)

    def _forget_before(self, cutoff: float) -> None:
        # Why this long: a stop is heard after its attempt was queued (less the clock slack),
        # and a delivery is vouched for only within HORIZON_SECONDS of that.
        while self._revoked and next(iter(self._revoked.values())) < cutoff:
            self._revoked.popitem(last=False)
