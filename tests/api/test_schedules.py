"""The cron arithmetic of schedules (jobrunner_api.schedules): validation, next fire times in a
time zone across DST changes, and what a due fire time does after an outage. No database.

The property tests check cronsim's answers, as wrapped by schedules.next_fire, against an
oracle written here from the rules of the module's docstring (Debian's cron).
"""

from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from jobrunner_api import schedules
from jobrunner_api.schedules import InvalidSchedule, next_fire, next_fires, on_due

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def fires(cron: str, tz: ZoneInfo, after: datetime, count: int) -> list[str]:
    """The next fire times as local wall-clock times with their offsets, for reading."""
    return [f.isoformat() for f in next_fires(cron, tz, after, count)]


# --- daylight saving time, by example -----------------------------------------------------------


def test_a_fixed_time_in_the_spring_forward_gap_fires_once_at_the_end_of_the_gap() -> None:
    # Berlin, 29 March 2026: clocks jump from 02:00 to 03:00; there is no 02:30
    assert fires("30 2 * * *", BERLIN, utc(2026, 3, 27, 12), 3) == [
        "2026-03-28T02:30:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"]
    # and a time that is a fire time of its own at the end of the gap fires once there
    assert fires("0,30 2,3 * * *", BERLIN, utc(2026, 3, 28, 23), 3) == [
        "2026-03-29T03:00:00+02:00", "2026-03-29T03:30:00+02:00", "2026-03-30T02:00:00+02:00"]
    # New York, 8 March 2026: 02:00 -> 03:00
    assert fires("15 2 * * *", NEW_YORK, utc(2026, 3, 8, 0), 2) == [
        "2026-03-08T03:00:00-04:00", "2026-03-09T02:15:00-04:00"]


def test_a_fixed_time_in_the_repeated_fall_back_hour_fires_once_at_its_first_occurrence() -> None:
    # Berlin, 25 October 2026: clocks go back from 03:00 to 02:00; 02:30 happens twice
    assert fires("30 2 * * *", BERLIN, utc(2026, 10, 24, 12), 2) == [
        "2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]
    # from within the second pass of that hour, its 02:45 has been (in the first pass)
    assert next_fire("45 2 * * *", BERLIN, utc(2026, 10, 25, 1, 40)) == utc(2026, 10, 26, 1, 45)
    # New York, 1 November 2026: 02:00 -> 01:00
    assert fires("30 1 * * *", NEW_YORK, utc(2026, 10, 31, 12), 2) == [
        "2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"]


def test_a_wildcard_expression_follows_real_time_across_both_changes() -> None:
    # spring: the missing 02:30 is not fired; 01:30 and 03:30 are an hour apart
    assert fires("30 * * * *", BERLIN, utc(2026, 3, 28, 23, 45), 3) == [
        "2026-03-29T01:30:00+01:00", "2026-03-29T03:30:00+02:00", "2026-03-29T04:30:00+02:00"]
    # autumn: both 02:30s fire, an hour apart
    assert fires("30 * * * *", BERLIN, utc(2026, 10, 24, 23, 45), 3) == [
        "2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+01:00", "2026-10-25T03:30:00+01:00"]
    assert len(next_fires("*/15 * * * *", BERLIN, utc(2026, 10, 24, 22), 24)) == 24


def test_utc_and_zones_without_dst_fire_every_time_once() -> None:
    assert fires("30 2 * * *", ZoneInfo("UTC"), utc(2026, 3, 28, 12), 2) == [
        "2026-03-29T02:30:00+00:00", "2026-03-30T02:30:00+00:00"]
    assert fires("0 9 * * 1-5", ZoneInfo("Asia/Kolkata"), utc(2026, 12, 4, 12), 2) == [
        "2026-12-07T09:00:00+05:30", "2026-12-08T09:00:00+05:30"]


# --- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("cron", "reason"), [
    ("61 * * * *", "bad minute field"),
    ("* 24 * * *", "bad hour field"),
    ("* * * 13 *", "bad month field"),
    ("* * * * MONDAY", "bad day-of-week field"),
    ("0 0 30 2 *", "bad day-of-month field"),
    ("* * *", "give five fields"),
    ("0 * * * * *", "give five fields"),  # a seconds field: not Debian's cron
    ("@sometimes", "give five fields"),
    ("* * */20 * 1L", "never fires"),
])
def test_a_bad_expression_is_refused_with_its_reason(cron: str, reason: str) -> None:
    with pytest.raises(InvalidSchedule, match=reason):
        schedules.expression(cron)


def test_aliases_and_spacing() -> None:
    assert schedules.expression("@daily") == "0 0 * * *"
    assert schedules.expression(" @HOURLY ") == "0 * * * *"
    assert schedules.expression("30  2 *\t* mon-fri") == "30 2 * * mon-fri"
    assert next_fire("@weekly", ZoneInfo("UTC"), utc(2026, 12, 2)) == utc(2026, 12, 6)
    assert schedules.describe("30 2 * * 1-5") == "At 02:30 on Monday through Friday"
    # A one-value range with a step is that value, as in Debian's cron (cronsim alone: 5, 25, 45)
    assert fires("5-5/20 * * * *", ZoneInfo("UTC"), utc(2026, 12, 2), 2) == [
        "2026-12-02T00:05:00+00:00", "2026-12-02T01:05:00+00:00"]


@pytest.mark.parametrize("name", ["Mars/Olympus", "Europe/berlin ", "/etc/passwd", "../UTC", ""])
def test_an_unknown_time_zone_is_refused(name: str) -> None:
    with pytest.raises(InvalidSchedule, match="unknown time zone"):
        schedules.zone(name)


# --- misfires -----------------------------------------------------------------------------------

GRACE = timedelta(seconds=60)


def test_fire_times_missed_in_an_outage_make_one_job_then_the_schedule_goes_on_from_now() -> None:
    # Given an hourly schedule due at 01:00, and the platform back at 04:20
    due, now = utc(2026, 12, 1, 1), utc(2026, 12, 1, 4, 20)
    # Then run_once makes one job (not four) and the next fire time is 05:00
    assert on_due("0 * * * *", ZoneInfo("UTC"), due, now, "run_once", GRACE) == \
        schedules.Firing(run=True, next_run_at=utc(2026, 12, 1, 5))
    # And skip makes none, with the same next fire time
    assert on_due("0 * * * *", ZoneInfo("UTC"), due, now, "skip", GRACE) == \
        schedules.Firing(run=False, next_run_at=utc(2026, 12, 1, 5))


def test_skip_still_runs_a_fire_time_within_the_grace() -> None:
    due = utc(2026, 12, 1, 1)
    for late, runs in ((timedelta(seconds=1), True), (GRACE, True),
                       (GRACE + timedelta(seconds=1), False)):
        firing = on_due("*/5 * * * *", ZoneInfo("UTC"), due, due + late, "skip", GRACE)
        assert firing.run is runs, late
        assert firing.next_run_at == utc(2026, 12, 1, 1, 5)


# --- properties ---------------------------------------------------------------------------------

# Zones that move their clocks forward, back, by two hours (Troll), at midnight (Santiago), or
# never. Not Australia/Lord_Howe: its 30-minute change is a known limit (schedules.py).
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Antarctica/Troll",
         "America/Santiago", "Asia/Kolkata"]
START, END = utc(2025, 1, 1), utc(2028, 1, 1)


@cache
def transitions(name: str) -> list[datetime]:
    """The instants (to the minute) where the zone's UTC offset changes, 2025 to 2027."""
    tz, found, at = ZoneInfo(name), [], START
    while at < END:
        nxt = at + timedelta(hours=1)
        if at.astimezone(tz).utcoffset() != nxt.astimezone(tz).utcoffset():
            edge = at
            while edge.astimezone(tz).utcoffset() == at.astimezone(tz).utcoffset():
                edge += timedelta(minutes=1)
            found.append(edge)
        at = nxt
    return found


def term(lo: int, hi: int) -> st.SearchStrategy[str]:
    value = st.integers(lo, hi)
    return st.one_of(
        st.just("*"),
        st.integers(1, max(2, (hi - lo) // 2)).map(lambda n: f"*/{n}"),
        value.map(str),
        st.tuples(value, value).map(lambda ab: f"{min(ab)}-{max(ab)}"),
        st.tuples(value, value, st.integers(1, 5)).map(
            lambda abn: f"{min(abn[:2])}-{max(abn[:2])}/{abn[2]}"),
        st.lists(value, min_size=2, max_size=4).map(lambda vs: ",".join(map(str, vs))),
    )


crons = st.tuples(term(0, 59), term(0, 23), term(1, 31), term(1, 12), term(0, 7)).map(" ".join)


@st.composite
def instants(draw: st.DrawFn, name: str) -> datetime:
    """Any minute of 2025-2027, or one within three days of a change of the zone's offset."""
    near = transitions(name)
    if near and draw(st.booleans()):
        base = draw(st.sampled_from(near))
        return base + timedelta(seconds=draw(st.integers(-3 * 86400, 3 * 86400)))
    return draw(st.datetimes(START.replace(tzinfo=None), END.replace(tzinfo=None),
                             timezones=st.just(UTC)))


cases = st.sampled_from(ZONES).flatmap(
    lambda name: st.tuples(crons, st.just(name), instants(name)))


def values(text: str, lo: int, hi: int) -> set[int]:
    """The values of one field of the expressions generated above."""
    found: set[int] = set()
    for part in text.split(","):
        span, _, step = part.partition("/")
        if span == "*":
            first, last = lo, hi
        else:
            first_text, _, last_text = span.partition("-")
            first, last = int(first_text), int(last_text or first_text)
        found |= set(range(first, last + 1, int(step or 1)))
    return found


def matches(cron: str, wall: datetime) -> bool:
    """Debian's cron on a wall-clock time: every field, the two day fields ANDed when either
    starts with `*`, ORed otherwise; day-of-week 7 is Sunday."""
    minute, hour, dom, month, dow = cron.split()
    days = values(dom, 1, 31)
    weekdays = {d % 7 for d in values(dow, 0, 7)}
    on_dom, on_dow = wall.day in days, (wall.weekday() + 1) % 7 in weekdays
    day = (on_dom and on_dow) if dom.startswith("*") or dow.startswith("*") else (on_dom or on_dow)
    return (wall.minute in values(minute, 0, 59) and wall.hour in values(hour, 0, 23)
            and wall.month in values(month, 1, 12) and day)


def fires_at(cron: str, tz: ZoneInfo, at: datetime) -> bool:
    """Whether the schedule fires at the UTC minute `at`, by the rules of schedules.py."""
    local = at.astimezone(tz)
    minute, hour = cron.split()[:2]
    if minute.startswith("*") or hour.startswith("*"):
        return matches(cron, local)  # real time: the wall-clock time as it is
    if local.fold:
        return False  # a repeated hour's second pass: it fired in the first
    if matches(cron, local):
        return True
    # The end of a gap fires what the gap's wall-clock times would have.
    before = (at - timedelta(minutes=1)).astimezone(tz).replace(tzinfo=None)
    wall = before + timedelta(minutes=1)
    while wall < local.replace(tzinfo=None):
        if matches(cron, wall):
            return True
        wall += timedelta(minutes=1)
    return False


def valid(cron: str) -> bool:
    try:
        schedules.expression(cron)
    except InvalidSchedule:
        return False
    return True


PROPERTY = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@PROPERTY
@given(cases)
def test_the_next_fire_time_is_strictly_later_and_fires_by_the_expression(case) -> None:
    cron, name, after = case
    assume(valid(cron))
    tz = ZoneInfo(name)
    fire = next_fire(cron, tz, after)
    assume(fire is not None)
    assert fire > after
    assert fire.second == 0 and fire.microsecond == 0
    assert fires_at(cron, tz, fire), (cron, name, after, fire.astimezone(tz))


@PROPERTY
@given(cases, st.integers(0, 7 * 86400))
def test_next_fire_is_monotone(case, gap: int) -> None:
    cron, name, first = case
    assume(valid(cron))
    tz = ZoneInfo(name)
    later = first + timedelta(seconds=gap)
    one, two = next_fire(cron, tz, first), next_fire(cron, tz, later)
    assume(one is not None and two is not None)
    assert one <= two
    following = next_fire(cron, tz, one)
    assert following is None or following > one


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(cases)
def test_no_fire_time_is_skipped_before_the_next(case) -> None:
    cron, name, after = case
    assume(valid(cron))
    tz = ZoneInfo(name)
    fire = next_fire(cron, tz, after)
    assume(fire is not None)
    # Every minute between (up to two days of them) is not a fire time
    minute = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    end = min(fire, minute + timedelta(days=2))
    while minute < end:
        assert not fires_at(cron, tz, minute), (cron, name, after, minute.astimezone(tz), fire)
        minute += timedelta(minutes=1)
