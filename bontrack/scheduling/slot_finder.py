"""The staff slot finder: the earliest fitting slots of a type across a clinic's clinicians.

Filters: clinician, room, date range and time of day. Opening hours, leave and booked time come
from `availability.find_slots` (the same computation the booking checks). For a treatment of a
patient with a signed session the search starts no earlier than the re-treatment interval's
earliest date (unless a physician asks for an early treatment, which then needs their override
with a reason at booking), and by default at the 12-week target. A fixed number of queries
whatever the number of appointments (six for the slots, one each for the last session, the
clinicians' names, the rooms, and the chosen room's booked time).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from bontrack.accounts.models import User
from bontrack.core.models import Clinic
from bontrack.patients.models import Patient
from bontrack.scheduling import facts
from bontrack.scheduling.availability import Busy, find_slots, local_midnight, zone
from bontrack.scheduling.models import (
    HOLDING,
    MAX_BLOCK,
    Appointment,
    AppointmentType,
    Kind,
    Room,
)

# Time of day: (label, first hour, hour after the last start).
TIMES_OF_DAY = {
    "": ("Any time", 0, 24),
    "morning": ("Morning (before 12:00)", 0, 12),
    "afternoon": ("Afternoon (12:00 to 17:00)", 12, 17),
    "evening": ("Evening (from 17:00)", 17, 24),
}
MAX_RANGE_DAYS = 62
DEFAULT_RANGE_DAYS = 28
LIMIT = 12
FIRST_CHUNK_DAYS = 7


@dataclass(frozen=True)
class FoundSlot:
    key: str
    starts_at: datetime
    local: datetime
    clinician_id: int
    clinician: str
    room_id: int | None
    room: str


@dataclass
class Finding:
    start: date
    end: date
    slots: list[FoundSlot] = field(default_factory=list)
    last_session: date | None = None
    earliest: date | None = None
    target: date | None = None
    rule_id: str = ""
    enforced: bool = True
    early: bool = False


def slot_key(starts_at: datetime, clinician_id: int, room_id: int | None) -> str:
    return f"{starts_at.isoformat()}|{clinician_id}|{room_id or ''}"


def clinician_name(user: User) -> str:
    return user.get_full_name() or user.username


def interval_dates(
    *, clinic: Clinic, patient: Patient, indication: str, on: date
) -> tuple[date | None, date | None, date | None, facts.Interval]:
    """(last signed session, earliest allowed, 12-week target) local dates, and the interval."""
    interval = facts.interval_for(
        indication, pediatric=facts.is_pediatric_on(patient.date_of_birth, on)
    )
    last = facts.last_signed_session(patient.pk, indication)
    if last is None:
        return None, None, None, interval
    tz = zone(clinic)
    earliest, target, _ = facts.due_dates(last, interval, tz)
    return last.astimezone(tz).date(), earliest, target, interval


def find(
    *,
    clinic: Clinic,
    appointment_type: AppointmentType,
    patient: Patient | None,
    indication: str,
    start: date | None,
    end: date | None,
    clinician_id: int | None = None,
    room_id: int | None = None,
    time_of_day: str = "",
    after: time | None = None,
    early: bool = False,
    limit: int = LIMIT,
) -> Finding:
    tz = zone(clinic)
    now = timezone.now()
    today = now.astimezone(tz).date()
    finding = Finding(start=today, end=today)
    wanted_start = start
    if appointment_type.kind == Kind.TREATMENT and patient is not None and indication:
        last, earliest, target, interval = interval_dates(
            clinic=clinic, patient=patient, indication=indication, on=start or today
        )
        finding.last_session, finding.earliest, finding.target = last, earliest, target
        finding.rule_id, finding.enforced = interval.rule_id, interval.enforce
        if target is not None and wanted_start is None:
            wanted_start = target
        if earliest is not None and interval.enforce:
            if early and (wanted_start or today) < earliest:
                finding.early = True
            else:
                wanted_start = max(wanted_start or today, earliest)
    first = max(wanted_start or today, today)
    last_day = (
        end if end is not None and end >= first else first + timedelta(days=DEFAULT_RANGE_DAYS - 1)
    )
    last_day = min(last_day, first + timedelta(days=MAX_RANGE_DAYS - 1))
    finding.start, finding.end = first, last_day
    _, from_hour, to_hour = TIMES_OF_DAY.get(time_of_day, TIMES_OF_DAY[""])
    room_busy: Busy | None = None
    if room_id is not None and appointment_type.needs_room:
        window = (local_midnight(first, tz), local_midnight(last_day + timedelta(days=1), tz))
        room_busy = Busy(
            Appointment.objects.filter(
                room_id=room_id,
                status__in=HOLDING,
                block_start__lt=window[1],
                block_start__gte=window[0] - MAX_BLOCK,
            ).values_list("block_start", "block_end")
        )
    before = timedelta(minutes=appointment_type.buffer_before_minutes)
    after_buffer = timedelta(minutes=appointment_type.buffer_after_minutes)
    chosen: list[tuple[Any, datetime, int | None]] = []
    seen: set[tuple[datetime, int]] = set()
    # The first week, then (only if it held fewer than `limit` fitting slots) the rest of the
    # range: computing every free time of 28 empty days costs far more than the six queries of a
    # second search, and a full calendar needs at most two (bench/bench_slot_finder.py). The two
    # parts are chronological, so stopping after the first is exact.
    chunk_start = first
    chunk_days = FIRST_CHUNK_DAYS
    while chunk_start <= last_day and len(chosen) < limit:
        chunk_end = min(chunk_start + timedelta(days=chunk_days - 1), last_day)
        chunk_days = MAX_RANGE_DAYS
        slots = find_slots(
            clinic=clinic,
            appointment_type=appointment_type,
            start=chunk_start,
            end=chunk_end,
            now=now,
            clinician_ids=[clinician_id] if clinician_id else None,
            apply_notice=False,
        )
        chunk_start = chunk_end + timedelta(days=1)
        for s in slots:
            local = s.starts_at.astimezone(tz)
            if not from_hour <= local.hour < to_hour:
                continue
            if after is not None and local.date() == first and local.time() < after:
                continue
            if (s.starts_at, s.clinician_id) in seen:
                continue
            room = s.room_id
            if room_busy is not None:
                if not room_busy.free(s.starts_at - before, s.ends_at + after_buffer):
                    continue
                room = room_id
            seen.add((s.starts_at, s.clinician_id))
            chosen.append((s, local, room))
    chosen.sort(key=lambda c: (c[0].starts_at, c[0].clinician_id))
    chosen = chosen[:limit]
    names = {
        u.pk: clinician_name(u)
        for u in User.objects.filter(pk__in={c[0].clinician_id for c in chosen})
    }
    rooms = dict(
        Room.objects.filter(pk__in={c[2] for c in chosen if c[2]}).values_list("id", "name")
    )
    finding.slots = [
        FoundSlot(
            key=slot_key(s.starts_at, s.clinician_id, room),
            starts_at=s.starts_at,
            local=local,
            clinician_id=s.clinician_id,
            clinician=names.get(s.clinician_id, ""),
            room_id=room,
            room=rooms.get(room, "") if room else "",
        )
        for s, local, room in chosen
    ]
    return finding
