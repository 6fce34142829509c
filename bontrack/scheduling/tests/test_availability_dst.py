"""Slots follow the clinic's wall clock across daylight-saving changes, in two zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bontrack.scheduling.availability import find_slots
from bontrack.scheduling.models import AvailabilityException, WorkingHours

pytestmark = pytest.mark.django_db

EARLY = datetime(2026, 1, 1, tzinfo=UTC)  # "now": far before every tested day


def _hours(sched, zone: str, weekday: int, start: time, end: time):
    sched.clinic.time_zone = zone
    sched.clinic.save()
    WorkingHours.objects.all().delete()
    WorkingHours.objects.create(
        clinic=sched.clinic,
        clinician=sched.world.users["nurse"],
        weekday=weekday,
        start=start,
        end=end,
    )


def _slots(sched, day: date, code: str = "follow-up-video"):
    return find_slots(
        clinic=sched.clinic,
        appointment_type=sched.type(code),
        start=day,
        end=day,
        now=EARLY,
        apply_notice=False,
    )


def _local(slots, zone: str) -> list[str]:
    return [s.starts_at.astimezone(ZoneInfo(zone)).strftime("%H:%M %Z") for s in slots]


# (zone, the day before, the transition day (a Sunday), UTC hour of 09:00 before, after)
TRANSITIONS = [
    ("America/New_York", date(2026, 3, 7), date(2026, 3, 8), 14, 13),  # spring forward
    ("America/New_York", date(2026, 10, 31), date(2026, 11, 1), 13, 14),  # fall back
    ("Europe/London", date(2026, 3, 28), date(2026, 3, 29), 9, 8),  # BST starts
    ("Europe/London", date(2026, 10, 24), date(2026, 10, 25), 8, 9),  # BST ends
]


@pytest.mark.parametrize("zone,before,day,utc_before,utc_after", TRANSITIONS)
def test_nine_oclock_stays_nine_oclock_across_the_change(
    sched, zone, before, day, utc_before, utc_after
):
    _hours(sched, zone, 5, time(9), time(10))  # Saturday
    WorkingHours.objects.create(
        clinic=sched.clinic,
        clinician=sched.world.users["nurse"],
        weekday=6,
        start=time(9),
        end=time(10),
    )
    first_before = _slots(sched, before)[0].starts_at
    first_after = _slots(sched, day)[0].starts_at
    assert first_before.hour == utc_before and first_after.hour == utc_after
    assert _local(_slots(sched, day), zone)[0].startswith("09:00")


def test_a_block_across_the_spring_gap_offers_real_time_only_new_york(sched):
    # 01:00-04:00 local on 2026-03-08 is two real hours: 02:xx does not exist.
    _hours(sched, "America/New_York", 6, time(1), time(4))
    slots = _slots(sched, date(2026, 3, 8))
    local = _local(slots, "America/New_York")
    assert local[:4] == ["01:00 EST", "01:15 EST", "01:30 EST", "01:45 EST"]
    assert local[4] == "03:00 EDT"
    assert not any(t.startswith("02:") for t in local)
    assert slots[-1].ends_at - slots[0].starts_at == timedelta(hours=2)
    assert all(s.ends_at - s.starts_at == timedelta(minutes=15) for s in slots)


def test_a_block_across_the_autumn_change_offers_the_repeated_hour_once_each_london(sched):
    # 00:00-03:00 local on 2026-10-25 is four real hours: 01:xx happens twice (BST, then GMT).
    _hours(sched, "Europe/London", 6, time(0), time(3))
    slots = _slots(sched, date(2026, 10, 25))
    local = _local(slots, "Europe/London")
    assert local.count("01:00 BST") == 1 and local.count("01:00 GMT") == 1
    assert len(slots) == 4 * 4
    assert len({s.starts_at for s in slots}) == len(slots)


def test_leave_removes_slots_and_an_extra_clinic_adds_them(sched):
    _hours(sched, "America/New_York", 1, time(9), time(10))  # Tuesday
    day = date(2026, 6, 2)
    tz = ZoneInfo("America/New_York")
    assert len(_slots(sched, day)) == 4
    AvailabilityException.objects.create(
        clinic=sched.clinic,
        clinician=sched.world.users["nurse"],
        kind="leave",
        starts_at=datetime(2026, 6, 2, 9, 0, tzinfo=tz),
        ends_at=datetime(2026, 6, 2, 9, 30, tzinfo=tz),
    )
    assert _local(_slots(sched, day), "America/New_York") == ["09:30 EDT", "09:45 EDT"]
    AvailabilityException.objects.create(
        clinic=sched.clinic,
        clinician=sched.world.users["nurse"],
        kind="extra",
        starts_at=datetime(2026, 6, 2, 18, 0, tzinfo=tz),
        ends_at=datetime(2026, 6, 2, 18, 30, tzinfo=tz),
    )
    assert _local(_slots(sched, day), "America/New_York")[-2:] == ["18:00 EDT", "18:15 EDT"]


def test_minimum_notice_and_horizon_apply_to_online_search(sched):
    _hours(sched, "America/New_York", 1, time(9), time(12))
    atype = sched.type("free-video-consult")  # 120 min notice, 42 days horizon
    now = datetime(2026, 6, 2, 13, 0, tzinfo=UTC)  # 09:00 EDT
    slots = find_slots(
        clinic=sched.clinic,
        appointment_type=atype,
        start=date(2026, 6, 2),
        end=date(2026, 6, 2),
        now=now,
    )
    assert slots[0].starts_at == now + timedelta(hours=2)
    far = find_slots(
        clinic=sched.clinic,
        appointment_type=atype,
        start=date(2026, 8, 4),
        end=date(2026, 8, 4),
        now=now,
    )
    assert far == []
