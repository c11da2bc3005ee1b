"""Cron arithmetic of schedules (SPEC §3): validating an expression and a time zone, the next
fire times, and what a sweep does with a fire time that is due. Pure functions, no database.

Expressions have the five fields of Debian's cron (minute hour day-of-month month
day-of-week; names like MON and JAN, ranges, steps, lists; also `L`, `LW`, `MON#2`, `5L`) or
one of the aliases @yearly, @monthly, @weekly, @daily, @hourly. They are evaluated by cronsim,
which follows Debian's cron, in the schedule's IANA time zone (zoneinfo). Every fire time is
stored and compared in UTC.

Daylight saving time, as cronsim documents it (Debian's cron):
- An expression at a fixed time of day (its minute and hour fields do not start with `*`,
  e.g. `30 2 * * *`, `0 9-17 * * 1-5`):
  - a fire time in the gap of a spring-forward change (02:30 when clocks jump from 02:00 to
    03:00) fires at the end of the gap, 03:00 local time, once (even if 03:00 is a fire time
    of its own too);
  - a fire time in the repeated hour of a fall-back change (02:30 when clocks go from 03:00
    back to 02:00) fires once, at its first occurrence (still summer time), not an hour later.
- Any other expression (`*/15 * * * *`, `30 * * * *`) follows real time: the times of a gap
  do not exist, so nothing fires then (`30 * * * *` fires at 01:30 and then 03:30, an hour
  apart), and the repeated hour fires twice (02:30 summer time and 02:30 winter time).
- UTC and zones without DST: no change, every fire time once.
Known limit (cronsim 2.8): Australia/Lord_Howe moves its clocks by 30 minutes, and there an
expression with `*` in its minute or hour field can miss fire times in the hour after a change
(cronsim steps such a search by whole real hours). Every other zone moves by whole hours.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

Misfire = Literal["run_once", "skip"]
ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
PREVIEW_MAX = 50
# Why: cronsim reads a one-value range with a step, "5-5/20", as "5/20" (5, 25, 45); Debian's
# cron as the range it is (5 alone). Rewritten to the value before cronsim reads it.
ONE_VALUE_STEP = re.compile(r"^(\w+)-\1/\d+$", re.IGNORECASE)


class InvalidSchedule(ValueError):
    """A cron expression or a time zone that cannot be used (REST: 422, with the reason)."""


def zone(name: str) -> ZoneInfo:
    """The IANA time zone of that name (e.g. Europe/Berlin, UTC)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidSchedule(f"unknown time zone {name!r}: give an IANA name such as UTC, "
                              "Europe/Berlin or America/New_York") from None


def expression(cron: str) -> str:
    """The expression as cronsim reads it (an alias expanded); InvalidSchedule if it is not
    valid or never fires."""
    text = " ".join(cron.split())
    text = ALIASES.get(text.lower(), text)
    if len(text.split()) != 5:
        raise InvalidSchedule(
            f"{cron!r} is not a cron expression: give five fields (minute hour day-of-month "
            "month day-of-week, e.g. '30 2 * * 1-5') or @hourly, @daily, @weekly, @monthly, "
            "@yearly")
    text = " ".join(",".join(ONE_VALUE_STEP.sub(r"\1", term) for term in field.split(","))
                    for field in text.split())
    try:
        it = CronSim(text, datetime(2000, 1, 1, tzinfo=UTC))
    except CronSimError as exc:
        # cronsim's reasons read "Bad minute", "Bad day-of-week", ...
        raise InvalidSchedule(f"{cron!r}: {str(exc).lower()} field") from None
    if next(it, None) is None:
        raise InvalidSchedule(f"{cron!r} never fires (no date matches it in 50 years)")
    return text


def next_fire(cron: str, tz: ZoneInfo, after: datetime) -> datetime | None:
    """The first fire time strictly after `after` (UTC); None if none comes in 50 years.

    Why the loop: for a fixed-time expression cronsim counts in wall-clock time, so from the
    second pass of a repeated hour it may answer a time of the first pass, already gone.
    """
    for fire in CronSim(expression(cron), after.astimezone(tz)):
        if fire > after:
            return fire.astimezone(UTC)
    return None


def next_fires(cron: str, tz: ZoneInfo, after: datetime, count: int) -> list[datetime]:
    """The next `count` fire times after `after`, in the zone (each with its UTC offset)."""
    fires: list[datetime] = []
    at: datetime | None = after
    while len(fires) < count and (at := next_fire(cron, tz, at)) is not None:
        fires.append(at.astimezone(tz))
    return fires


def describe(cron: str) -> str:
    """In words, e.g. "At 02:30 on Monday through Friday"."""
    return CronSim(expression(cron), datetime(2000, 1, 1)).explain()


@dataclass(frozen=True)
class Firing:
    """What a sweep does with a schedule whose fire time `due` has come."""

    run: bool  # make the job of that fire time
    next_run_at: datetime | None  # the following fire time


def on_due(cron: str, tz: ZoneInfo, due: datetime, now: datetime, misfire: Misfire,
           grace: timedelta) -> Firing:
    """A due fire time makes its job, then the schedule goes on from the next fire time after
    `now`: fire times missed while the platform was down make one job in all, not one each.
    With `skip`, a fire time more than `grace` late makes none."""
    run = misfire == "run_once" or now - due <= grace
    return Firing(run=run, next_run_at=next_fire(cron, tz, now))
