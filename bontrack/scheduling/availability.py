"""Free slots, computed from rules (never stored).

Working hours are wall-clock times in the clinic's zone. Each day's block is turned into a
UTC interval first (`datetime.combine(day, start, tzinfo=zone)`), and candidate starts step
through that interval in real (UTC) minutes. So on a spring-forward day a 01:00–04:00 block
is two real hours (01:00, 01:15 … 01:45, 03:00 …) and on a fall-back day it is four, with
both 01:xx hours offered once each; durations are always real minutes.

A candidate is free when its block (start − buffer before, end + buffer after) overlaps no
holding appointment of the clinician (at any clinic) and no leave, and, for in-person
types, some active room of the clinic is free for the block. Reads: four queries whatever
the range.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q

from bontrack.accounts.models import User
from bontrack.core.models import Clinic
from bontrack.scheduling.models import (
    HOLDING,
    MAX_BLOCK,
    Appointment,
    AppointmentType,
    AvailabilityException,
    ExceptionKind,
    Room,
    SchedulingSettings,
    WorkingHours,
)


@dataclass(frozen=True)
class Slot:
    starts_at: datetime
    ends_at: datetime
    clinician_id: int
    room_id: int | None


class Busy:
    """Merged, sorted busy intervals of one resource; O(log n) overlap test."""

    def __init__(self, intervals: Iterable[tuple[datetime, datetime]]) -> None:
        merged: list[list[datetime]] = []
        for start, end in sorted(intervals):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self.starts = [m[0] for m in merged]
        self.ends = [m[1] for m in merged]

    def free(self, start: datetime, end: datetime) -> bool:
        i = bisect.bisect_left(self.starts, end)
        return i == 0 or self.ends[i - 1] <= start


def zone(clinic: Clinic) -> ZoneInfo:
    return ZoneInfo(clinic.time_zone)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def settings_for(clinic: Clinic) -> SchedulingSettings:
    found = getattr(clinic, "_scheduling_settings", None)
    if found is None:
        found = SchedulingSettings.objects.filter(clinic=clinic).first() or SchedulingSettings(
            clinic=clinic
        )
        clinic._scheduling_settings = found  # type: ignore[attr-defined]
    return found


def eligible_clinician_ids(clinic: Clinic, appointment_type: AppointmentType) -> list[int]:
    """Staff of the clinic (or practice-wide) whose role may deliver the type."""
    return list(
        User.objects.filter(
            Q(memberships__clinic=clinic) | Q(memberships__clinic__isnull=True),
            memberships__practice_id=clinic.practice_id,
            memberships__role__in=appointment_type.delivered_by,
            is_active=True,
        )
        .distinct()
        .order_by("id")
        .values_list("id", flat=True)
    )


def find_slots(
    *,
    clinic: Clinic,
    appointment_type: AppointmentType,
    start: date,
    end: date,
    now: datetime,
    clinician_ids: list[int] | None = None,
    apply_notice: bool = True,
    exclude_appointment_id: int | None = None,
    limit: int | None = None,
) -> list[Slot]:
    """Free slots of `appointment_type` from local date `start` to `end` (inclusive)."""
    tz = zone(clinic)
    step = timedelta(minutes=settings_for(clinic).slot_step_minutes or 15)
    duration = timedelta(minutes=appointment_type.duration_minutes)
    before = timedelta(minutes=appointment_type.buffer_before_minutes)
    after = timedelta(minutes=appointment_type.buffer_after_minutes)
    eligible = eligible_clinician_ids(clinic, appointment_type)
    if clinician_ids is not None:
        eligible = [c for c in eligible if c in set(clinician_ids)]
    if not eligible or end < start:
        return []
    window_start = local_midnight(start, tz)
    window_end = local_midnight(end + timedelta(days=1), tz)
    earliest = now + timedelta(minutes=appointment_type.min_notice_minutes) if apply_notice else now
    latest = now + timedelta(days=appointment_type.horizon_days) if apply_notice else None

    hours_by_weekday: dict[int, list[WorkingHours]] = defaultdict(list)
    for wh in WorkingHours.objects.filter(clinic=clinic, clinician_id__in=eligible):
        hours_by_weekday[wh.weekday].append(wh)

    pad = timedelta(hours=24)
    busy_raw: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    extra: dict[int, list[tuple[datetime, datetime, int | None]]] = defaultdict(list)
    for ex in AvailabilityException.objects.filter(
        clinician_id__in=eligible, starts_at__lt=window_end + pad, ends_at__gt=window_start - pad
    ):
        if ex.kind == ExceptionKind.LEAVE:
            busy_raw[ex.clinician_id].append((ex.starts_at, ex.ends_at))
        elif ex.clinic_id == clinic.pk:
            extra[ex.clinician_id].append((ex.starts_at, ex.ends_at, ex.room_id))

    rooms: list[int] = []
    room_busy_raw: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    if appointment_type.needs_room:
        rooms = list(Room.objects.filter(clinic=clinic, active=True).values_list("id", flat=True))
        if not rooms:
            return []
    holding = Appointment.objects.filter(
        status__in=HOLDING,
        block_start__lt=window_end + pad,
        block_start__gte=window_start - pad - MAX_BLOCK,
        block_end__gt=window_start - pad,
    )
    if exclude_appointment_id:
        holding = holding.exclude(pk=exclude_appointment_id)
    eligible_set = set(eligible)
    resource = Q(clinician_id__in=eligible)
    if rooms:
        resource |= Q(room_id__in=rooms)
    for clinician_id, room_id, bs, be in holding.filter(resource).values_list(
        "clinician_id", "room_id", "block_start", "block_end"
    ):
        if clinician_id in eligible_set:
            busy_raw[clinician_id].append((bs, be))
        if room_id in rooms:
            room_busy_raw[room_id].append((bs, be))
    busy = {c: Busy(busy_raw.get(c, [])) for c in eligible}
    room_busy = {r: Busy(room_busy_raw.get(r, [])) for r in rooms}

    # Open intervals per clinician (UTC), from weekly hours and extra clinics.
    opens: list[tuple[datetime, datetime, int, int | None]] = []
    day = start
    while day <= end:
        for wh in hours_by_weekday.get(day.weekday(), []):
            if (wh.valid_from and day < wh.valid_from) or (wh.valid_until and day > wh.valid_until):
                continue
            o_start = datetime.combine(day, wh.start, tzinfo=tz).astimezone(UTC)
            o_end = datetime.combine(day, wh.end, tzinfo=tz).astimezone(UTC)
            opens.append((o_start, o_end, wh.clinician_id, wh.room_id))
        day += timedelta(days=1)
    for clinician_id, items in extra.items():
        for ex_start, ex_end, room_id in items:
            if ex_start < window_end and ex_end > window_start:
                opens.append(
                    (max(ex_start, window_start), min(ex_end, window_end), clinician_id, room_id)
                )

    seen: set[tuple[datetime, int]] = set()
    slots: list[Slot] = []
    for o_start, o_end, clinician_id, preferred_room in sorted(opens, key=lambda o: (o[0], o[2])):
        t = o_start
        while t + duration <= o_end:
            key = (t, clinician_id)
            if t >= earliest and (latest is None or t <= latest) and key not in seen:
                block_start, block_end = t - before, t + duration + after
                if busy[clinician_id].free(block_start, block_end):
                    room_id = None
                    ok = True
                    if rooms:
                        order = ([preferred_room] if preferred_room in rooms else []) + rooms
                        room_id = next(
                            (r for r in order if room_busy[r].free(block_start, block_end)), None
                        )
                        ok = room_id is not None
                    if ok:
                        seen.add(key)
                        slots.append(Slot(t, t + duration, clinician_id, room_id))
            t += step
    slots.sort(key=lambda s: (s.starts_at, s.clinician_id))
    return slots[:limit] if limit else slots


def distinct_times(slots: list[Slot]) -> list[Slot]:
    """One slot per start time (the first clinician free), for the public page."""
    out: list[Slot] = []
    last: datetime | None = None
    for s in slots:
        if s.starts_at != last:
            out.append(s)
            last = s.starts_at
    return out
