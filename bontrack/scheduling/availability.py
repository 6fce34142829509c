"""Free slots, computed from rules (never stored).

Working hours are wall-clock times in the clinic's zone. Each day's block is turned into a
UTC interval first (`datetime.combine(day, start, tzinfo=zone)`), and candidate starts step
through that interval in real (UTC) minutes. So on a spring-forward day a 01:00–04:00 block
is two real hours (01:00, 01:15 … 01:45, 03:00 …) and on a fall-back day it is four, with
both 01:xx hours offered once each; durations are always real minutes.

A candidate is free when its block (start − buffer before, end + buffer after) overlaps no
holding appointment of the clinician (at any clinic) and no leave, and, for in-person
types, some active room of the clinic is free for the block. Reads: six queries whatever
the range and however many clinics are searched together (`find_slots_many`).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import BigIntegerField, Func, Q, QuerySet

from bontrack.accounts.models import Membership
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

    def free(self, start: Any, end: Any) -> bool:
        i = bisect.bisect_left(self.starts, end)
        return i == 0 or self.ends[i - 1] <= start

    def blocked_until(self, start: Any, end: Any) -> Any:
        """None when [start, end) is free, else the end of the busy interval it hits (no
        block overlapping that interval can be free, so a search may jump past it)."""
        i = bisect.bisect_left(self.starts, end)
        if i == 0 or self.ends[i - 1] <= start:
            return None
        return self.ends[i - 1]


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
    return _eligible([(clinic, appointment_type)])[clinic.pk]


def _eligible(items: list[tuple[Clinic, AppointmentType]]) -> dict[int, list[int]]:
    """{clinic id: sorted ids of active staff who may deliver its type}, one query."""
    practice_ids = {c.practice_id for c, _ in items}
    clinic_ids = {c.pk for c, _ in items}
    roles = {r for _, t in items for r in t.delivered_by}
    rows = Membership.objects.filter(
        Q(clinic_id__in=clinic_ids) | Q(clinic__isnull=True),
        practice_id__in=practice_ids,
        role__in=roles,
        user__is_active=True,
    ).values_list("user_id", "practice_id", "clinic_id", "role")
    out: dict[int, set[int]] = {c.pk: set() for c, _ in items}
    by_clinic = {c.pk: (c, t) for c, t in items}
    for user_id, practice_id, clinic_id, role in rows:
        targets = [clinic_id] if clinic_id is not None else list(by_clinic)
        for cid in targets:
            found = by_clinic.get(cid)
            if found and found[0].practice_id == practice_id and role in found[1].delivered_by:
                out[cid].add(user_id)
    return {cid: sorted(ids) for cid, ids in out.items()}


def _settings_many(clinics: list[Clinic]) -> None:
    """Fill each clinic's cached settings with one query (see `settings_for`)."""
    missing = [c for c in clinics if getattr(c, "_scheduling_settings", None) is None]
    if not missing:
        return
    found = {s.clinic_id: s for s in SchedulingSettings.objects.filter(clinic__in=missing)}
    for c in missing:
        c._scheduling_settings = found.get(c.pk) or SchedulingSettings(clinic=c)  # type: ignore[attr-defined]


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
    return find_slots_many(
        [(clinic, appointment_type)],
        start=start,
        end=end,
        now=now,
        clinician_ids=clinician_ids,
        apply_notice=apply_notice,
        exclude_appointment_id=exclude_appointment_id,
        limit=limit,
    )[clinic.pk]


def find_slots_many(
    items: list[tuple[Clinic, AppointmentType]],
    *,
    start: date,
    end: date,
    now: datetime,
    clinician_ids: list[int] | None = None,
    apply_notice: bool = True,
    exclude_appointment_id: int | None = None,
    limit: int | None = None,
) -> dict[int, list[Slot]]:
    """Free slots for several clinics at once ({clinic id: slots}), e.g. a whole practice.

    Six queries in all, whatever the number of clinics, clinicians or appointments: eligible
    staff, settings, working hours, exceptions, rooms, and the appointments holding time in
    the searched window (a range scan on `appt_clinician_start` / `appt_room_start`:
    `block_start` is bounded on both sides because an appointment holds at most a day).
    """
    out: dict[int, list[Slot]] = {c.pk: [] for c, _ in items}
    if end < start or not items:
        return out
    clinics = [c for c, _ in items]
    _settings_many(clinics)
    eligible = _eligible(items)
    if clinician_ids is not None:
        wanted = set(clinician_ids)
        eligible = {cid: [u for u in ids if u in wanted] for cid, ids in eligible.items()}
    all_clinicians = sorted({u for ids in eligible.values() for u in ids})
    if not all_clinicians:
        return out
    windows = {
        c.pk: (local_midnight(start, zone(c)), local_midnight(end + timedelta(days=1), zone(c)))
        for c in clinics
    }
    window_start = min(w[0] for w in windows.values())
    window_end = max(w[1] for w in windows.values())
    clinic_ids = [c.pk for c in clinics]

    hours: dict[tuple[int, int], list[WorkingHours]] = defaultdict(list)
    for wh in WorkingHours.objects.filter(
        clinic_id__in=clinic_ids, clinician_id__in=all_clinicians
    ):
        hours[(wh.clinic_id, wh.weekday)].append(wh)

    pad = timedelta(hours=24)
    leave: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    extra: dict[int, list[tuple[datetime, datetime, int, int | None]]] = defaultdict(list)
    for ex in AvailabilityException.objects.filter(
        clinician_id__in=all_clinicians,
        starts_at__lt=window_end + pad,
        ends_at__gt=window_start - pad,
    ):
        if ex.kind == ExceptionKind.LEAVE:
            leave[ex.clinician_id].append((ex.starts_at, ex.ends_at))
        else:
            extra[ex.clinic_id].append((ex.starts_at, ex.ends_at, ex.clinician_id, ex.room_id))

    rooms_of: dict[int, list[int]] = defaultdict(list)
    if any(t.needs_room for _, t in items):
        for room_id, clinic_id in Room.objects.filter(
            clinic_id__in=[c.pk for c, t in items if t.needs_room], active=True
        ).values_list("id", "clinic_id"):
            rooms_of[clinic_id].append(room_id)
    all_rooms = {r for ids in rooms_of.values() for r in ids}

    holding = Appointment.objects.filter(
        status__in=HOLDING,
        block_start__lt=window_end + pad,
        block_start__gte=window_start - pad - MAX_BLOCK,
        block_end__gt=window_start - pad,
    )
    if exclude_appointment_id:
        holding = holding.exclude(pk=exclude_appointment_id)
    resource = Q(clinician_id__in=all_clinicians)
    if all_rooms:
        resource |= Q(room_id__in=sorted(all_rooms))
    busy_raw: dict[int, list[tuple[int, int]]] = defaultdict(list)
    room_busy_raw: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for c, intervals in leave.items():
        busy_raw[c].extend((_us(a), _us(b)) for a, b in intervals)
    clinician_set = set(all_clinicians)
    for clinician_id, room_id, bs, be in _held(holding.filter(resource)):
        if clinician_id in clinician_set:
            busy_raw[clinician_id].append((bs, be))
        if room_id in all_rooms:
            room_busy_raw[room_id].append((bs, be))
    busy = {c: Busy(busy_raw.get(c, ())) for c in all_clinicians}
    room_busy = {r: Busy(room_busy_raw.get(r, ())) for r in all_rooms}

    for clinic, appointment_type in items:
        rooms = rooms_of.get(clinic.pk, []) if appointment_type.needs_room else []
        if appointment_type.needs_room and not rooms:
            continue
        out[clinic.pk] = _slots_of_clinic(
            clinic=clinic,
            appointment_type=appointment_type,
            start=start,
            end=end,
            now=now,
            window=windows[clinic.pk],
            eligible=eligible[clinic.pk],
            hours=hours,
            extra=extra.get(clinic.pk, []),
            rooms=rooms,
            busy=busy,
            room_busy=room_busy,
            apply_notice=apply_notice,
            limit=limit,
        )
    return out


def _slots_of_clinic(
    *,
    clinic: Clinic,
    appointment_type: AppointmentType,
    start: date,
    end: date,
    now: datetime,
    window: tuple[datetime, datetime],
    eligible: list[int],
    hours: dict[tuple[int, int], list[WorkingHours]],
    extra: list[tuple[datetime, datetime, int, int | None]],
    rooms: list[int],
    busy: dict[int, Busy],
    room_busy: dict[int, Busy],
    apply_notice: bool,
    limit: int | None,
) -> list[Slot]:
    """The pure part: candidate starts through each open interval, tested against busy time."""
    if not eligible:
        return []
    tz = zone(clinic)
    step = timedelta(minutes=settings_for(clinic).slot_step_minutes or 15)
    duration = timedelta(minutes=appointment_type.duration_minutes)
    before = timedelta(minutes=appointment_type.buffer_before_minutes)
    after = timedelta(minutes=appointment_type.buffer_after_minutes)
    window_start, window_end = window
    earliest = now + timedelta(minutes=appointment_type.min_notice_minutes) if apply_notice else now
    latest = now + timedelta(days=appointment_type.horizon_days) if apply_notice else None
    eligible_set = set(eligible)

    # Open intervals per clinician (UTC), from weekly hours and extra clinics.
    opens: list[tuple[datetime, datetime, int, int | None]] = []
    day = start
    while day <= end:
        for wh in hours.get((clinic.pk, day.weekday()), ()):
            if wh.clinician_id not in eligible_set:
                continue
            if (wh.valid_from and day < wh.valid_from) or (wh.valid_until and day > wh.valid_until):
                continue
            o_start = datetime.combine(day, wh.start, tzinfo=tz).astimezone(UTC)
            o_end = datetime.combine(day, wh.end, tzinfo=tz).astimezone(UTC)
            opens.append((o_start, o_end, wh.clinician_id, wh.room_id))
        day += timedelta(days=1)
    for ex_start, ex_end, clinician_id, room_id in extra:
        if clinician_id in eligible_set and ex_start < window_end and ex_end > window_start:
            opens.append(
                (max(ex_start, window_start), min(ex_end, window_end), clinician_id, room_id)
            )

    # The candidate loop works in integer microseconds since the epoch (cheap to compare).
    step_us, duration_us = step // _US, duration // _US
    before_us, after_us = before // _US, after // _US
    latest_us = _us(latest) if latest is not None else None
    seen: set[tuple[int, int]] = set()
    found: list[tuple[int, int, int | None]] = []
    for o_start, o_end, clinician_id, preferred_room in sorted(opens, key=lambda o: (o[0], o[2])):
        blocked_until = busy[clinician_id].blocked_until
        order = ([preferred_room] if preferred_room in rooms else []) + rooms
        t = _us(_first_step(o_start, earliest, step))
        end_us = _us(o_end) - duration_us
        while t <= end_us:
            if latest_us is not None and t > latest_us:
                break
            key = (t, clinician_id)
            block_start, block_end = t - before_us, t + duration_us + after_us
            until = blocked_until(block_start, block_end)
            if until is not None:
                # Jump to the first step whose block starts at or after the busy interval's end.
                t += max(1, -((t - before_us - until) // step_us)) * step_us
                continue
            if key not in seen:
                room_id = None
                ok = True
                if rooms:
                    room_id = next(
                        (r for r in order if room_busy[r].free(block_start, block_end)), None
                    )
                    ok = room_id is not None
                if ok:
                    seen.add(key)
                    found.append((t, clinician_id, room_id))
            t += step_us
    found.sort(key=lambda f: (f[0], f[1]))
    if limit:
        found = found[:limit]
    return [
        Slot(_EPOCH + t * _US, _EPOCH + (t + duration_us) * _US, clinician_id, room_id)
        for t, clinician_id, room_id in found
    ]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def _us(moment: datetime) -> int:
    """Microseconds since the epoch (exact)."""
    return (moment - _EPOCH) // _US


class _EpochMicros(Func):
    """PostgreSQL: a timestamptz as integer microseconds since the epoch, computed in SQL.

    Loading ~5,000 time-zone-aware datetimes through psycopg's Python loader costs more than
    the whole search (half of it, measured); integers load almost for free.
    """

    template = "(EXTRACT(EPOCH FROM %(expressions)s) * 1000000)::bigint"
    output_field = BigIntegerField()


def _held(qs: QuerySet[Appointment]) -> Iterable[tuple[int, int | None, int, int]]:
    """(clinician, room, block start µs, block end µs) of the appointments in `qs`."""
    if connection.vendor == "postgresql":
        sql, params = (
            qs.annotate(bs_us=_EpochMicros("block_start"), be_us=_EpochMicros("block_end"))
            .values_list("clinician_id", "room_id", "bs_us", "be_us")
            .order_by()
            .query.sql_with_params()
        )
        # Plain integers need none of the ORM's per-row converters (measurably slower).
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    return (
        (c, r, _us(bs), _us(be))
        for c, r, bs, be in qs.values_list("clinician_id", "room_id", "block_start", "block_end")
    )


def _first_step(o_start: datetime, earliest: datetime, step: timedelta) -> datetime:
    """The first candidate start on the grid `o_start + k·step` that is not before `earliest`."""
    if earliest <= o_start:
        return o_start
    k = -((o_start - earliest) // step)  # ceil((earliest - o_start) / step)
    return o_start + k * step


def distinct_times(slots: list[Slot]) -> list[Slot]:
    """One slot per start time (the first clinician free), for the public page."""
    out: list[Slot] = []
    last: datetime | None = None
    for s in slots:
        if s.starts_at != last:
            out.append(s)
            last = s.starts_at
    return out
