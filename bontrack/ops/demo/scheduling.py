"""Demo scheduling data: types, rooms, working hours, a populated calendar for the coming weeks,
a video consultation today, a waitlist entry, and one online booking that matches an existing chart
(a pending match for the front desk at the northside clinic). Bulk inserts, deterministic with the given rng.

The recall list is computed from the signed sessions the treatments demo writes (it runs first);
patients whose last session is past its target appear overdue.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bontrack.accounts.models import User
from bontrack.core.models import Clinic, Practice
from bontrack.patients.models import Condition, Patient
from bontrack.scheduling import links
from bontrack.scheduling.availability import find_slots
from bontrack.scheduling.defaults import ensure_clinic_defaults
from bontrack.scheduling.models import (
    Appointment,
    AppointmentType,
    PendingMatch,
    Room,
    Source,
    Status,
    WaitlistEntry,
    WorkingHours,
)

# username -> (clinic slug, weekdays, start, end)
DEMO_HOURS = {
    "dr.lee": ("northside", range(5), time(8, 30), time(16, 30)),
    "nurse.kim": ("northside", range(5), time(8, 0), time(16, 0)),
    "dr.okafor": ("riverside", range(4), time(9, 0), time(17, 0)),
}


def seed_demo_scheduling(*, practice: Practice, rng: random.Random, today: date) -> int:
    clinics = {c.slug: c for c in Clinic.objects.filter(practice=practice)}
    users = {u.username: u for u in User.objects.filter(practice=practice)}
    rooms: dict[int, list[Room]] = {}
    for clinic in clinics.values():
        ensure_clinic_defaults(clinic)
        rooms[clinic.pk] = Room.objects.bulk_create(
            [Room(clinic=clinic, name=f"Treatment room {i}") for i in (1, 2)]
        )
    hours = []
    for username, (slug, days, start, end) in DEMO_HOURS.items():
        if username in users and slug in clinics:
            hours += [
                WorkingHours(
                    clinic=clinics[slug], clinician=users[username], weekday=d, start=start, end=end
                )
                for d in days
            ]
    WorkingHours.objects.bulk_create(hours)

    made: list[Appointment] = []
    busy_patients: set[tuple[int, date]] = set()
    for username, (slug, days, start, end) in DEMO_HOURS.items():
        if username not in users or slug not in clinics:
            continue
        clinic, clinician = clinics[slug], users[username]
        tz = ZoneInfo(clinic.time_zone)
        types = {t.code: t for t in AppointmentType.objects.filter(clinic=clinic)}
        deliverable = [
            t for t in types.values() if any(r in t.delivered_by for r in clinician.roles())
        ]
        patients = list(Patient.objects.filter(clinic=clinic, status="active").order_by("id")[:400])
        # A treatment visit treats the patient's own condition (first on file), never a default.
        conditions: dict[int, str] = {}
        for pid, ind in (
            Condition.objects.filter(patient__in=patients, active=True)
            .order_by("-id")
            .values_list("patient_id", "indication")
        ):
            conditions[pid] = ind
        if not patients or not deliverable:
            continue
        room_cycle = rooms[clinic.pk]
        for offset in range(-3, 21):  # the last few days too: completed visits
            day = today + timedelta(days=offset)
            if day.weekday() not in days:
                continue
            t = datetime.combine(day, start, tzinfo=tz)
            stop = datetime.combine(day, end, tzinfo=tz)
            n = 0
            while t < stop:
                if rng.random() < 0.35:
                    t += timedelta(minutes=15)
                    continue
                atype = rng.choice(deliverable)
                s = (t + timedelta(minutes=atype.buffer_before_minutes)).astimezone(UTC)
                e = s + timedelta(minutes=atype.duration_minutes)
                block_end = e + timedelta(minutes=atype.buffer_after_minutes)
                if block_end.astimezone(tz) > stop:
                    break
                patient = rng.choice(patients)
                if (patient.pk, day) in busy_patients:
                    t += timedelta(minutes=15)
                    continue
                busy_patients.add((patient.pk, day))
                room = room_cycle[n % len(room_cycle)] if atype.needs_room else None
                n += 1
                made.append(
                    Appointment(
                        practice=practice,
                        clinic=clinic,
                        patient=patient,
                        clinician=clinician,
                        room=room if username != "nurse.kim" else room_cycle[1],
                        appointment_type=atype,
                        indication=conditions.get(patient.pk, "")
                        if atype.kind == "treatment"
                        else "",
                        starts_at=s,
                        ends_at=e,
                        block_start=s - timedelta(minutes=atype.buffer_before_minutes),
                        block_end=block_end,
                        status=Status.BOOKED,
                        source=rng.choice([Source.STAFF, Source.STAFF, Source.ONLINE]),
                        video_token=links.new_video_token() if atype.is_video else None,
                        contact_consent=True,
                    )
                )
                t = block_end.astimezone(tz) + timedelta(minutes=(15 - block_end.minute % 15) % 15)
                t = t.replace(second=0, microsecond=0)
    # Rooms are shared by dr.lee and nurse.kim: keep dr.lee in room 1 and nurse.kim in room 2.
    # Visits that are over are completed (their day list offers "Book the next session").
    now_utc = datetime.now(UTC)
    # One visit in nine that is over was missed (the dashboard's no-show figure has data).
    for i, a in enumerate(made):
        if a.room is not None and a.clinician.username == "dr.lee":
            a.room = rooms[a.clinic_id][0]
        if a.ends_at < now_utc:
            a.status = Status.NO_SHOW if i % 9 == 4 else Status.COMPLETED
            if a.status == Status.NO_SHOW:
                a.no_show_reason = "unknown"
    # Video consultation today with dr.lee, one hour from now (or late afternoon).
    north = clinics.get("northside")
    if north and "dr.lee" in users:
        tz = ZoneInfo(north.time_zone)
        video = AppointmentType.objects.get(clinic=north, code="free-video-consult")
        now = datetime.now(tz)
        start = (now + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
        if start.date() != today:
            start = datetime.combine(today, time(17, 0), tzinfo=tz)
        s = start.astimezone(UTC)
        e = s + timedelta(minutes=video.duration_minutes)
        made = [
            a
            for a in made
            if not (
                a.clinician_id == users["dr.lee"].pk
                and a.block_start < e + timedelta(minutes=5)
                and a.block_end > s
            )
        ]
        prospect = Patient.objects.filter(clinic=north, status="active").order_by("-id").first()
        if prospect:
            made = [
                a
                for a in made
                if not (a.patient_id == prospect.pk and a.starts_at < e and a.ends_at > s)
            ]
            made.append(
                Appointment(
                    practice=practice,
                    clinic=north,
                    patient=prospect,
                    clinician=users["dr.lee"],
                    appointment_type=video,
                    starts_at=s,
                    ends_at=e,
                    block_start=s,
                    block_end=e + timedelta(minutes=video.buffer_after_minutes),
                    status=Status.BOOKED,
                    source=Source.ONLINE,
                    video_token=links.new_video_token(),
                    reason="Headaches most days; wants to hear about the treatment",
                    contact_consent=True,
                )
            )
    Appointment.objects.bulk_create(made, batch_size=500)
    if north:
        treatment = AppointmentType.objects.get(clinic=north, code="treatment")
        waiting = Patient.objects.filter(clinic=north, status="active").order_by("id")[5:8]
        WaitlistEntry.objects.bulk_create(
            [
                WaitlistEntry(
                    clinic=north,
                    patient=p,
                    appointment_type=treatment,
                    earliest=today,
                    latest=today + timedelta(days=14),
                )
                for p in waiting
            ]
        )
        _demo_pending_match(north, today=today)
    return len(made)


def _demo_pending_match(clinic: Clinic, *, today: date) -> None:
    """One online booking at the clinic whose details match an existing chart: it waits for the
    front desk at /schedule/matches/ (it is on a new prospective chart until they decide)."""
    existing = Patient.objects.filter(clinic=clinic, status="active").order_by("id")[10:11].first()
    video = AppointmentType.objects.filter(clinic=clinic, code="free-video-consult").first()
    if existing is None or video is None:
        return
    slots = find_slots(
        clinic=clinic,
        appointment_type=video,
        start=today + timedelta(days=3),
        end=today + timedelta(days=10),
        now=datetime.now(UTC),
        limit=1,
    )
    if not slots:
        return
    slot = slots[0]
    booked = Patient.objects.create(
        practice_id=clinic.practice_id,
        clinic=clinic,
        mrn="W00000001",
        first_name=existing.first_name,
        last_name=existing.last_name,
        date_of_birth=existing.date_of_birth,
        email=f"{existing.first_name}.{existing.last_name}@example.net".lower(),
        status="prospective",
    )
    appointment = Appointment.objects.create(
        practice_id=clinic.practice_id,
        clinic=clinic,
        patient=booked,
        clinician_id=slot.clinician_id,
        room_id=slot.room_id,
        appointment_type=video,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        block_start=slot.starts_at - timedelta(minutes=video.buffer_before_minutes),
        block_end=slot.ends_at + timedelta(minutes=video.buffer_after_minutes),
        status=Status.BOOKED,
        source=Source.ONLINE,
        video_token=links.new_video_token(),
        reason="Would like to talk about the headache treatment",
        contact_consent=True,
    )
    PendingMatch.objects.create(
        practice_id=clinic.practice_id,
        clinic=clinic,
        appointment=appointment,
        booked_patient=booked,
        matched_patient=existing,
        matched_on=["name_and_birth_date"],
    )
