"""Slot finder benchmark on the large seed (issue 11): the staff slot finder's p95, next to
references measured in the same run (so a loaded machine shows in both).

Run it on a COPY of the large seed, never on bontrack_large itself:

    su postgres -c "psql -c 'CREATE DATABASE bontrack_large_access TEMPLATE bontrack_large OWNER bontrack'"
    export DATABASE_URL=postgres://bontrack:bontrack@127.0.0.1:5432/bontrack_large_access
    uv run bontrack migrate
    uv run python bench/bench_slot_finder.py --runs 100

Set-up (idempotent, on the copy): the clinics' default types and two rooms, working hours
Mon–Fri 08:00–17:00 for every physician and nurse of a clinic, and the next four weeks filled
to about 85% with 30-minute treatments (the large seed's appointments are all in the past).

Measured, interleaved round-robin:
* `slot_finder.find`: a treatment for a patient with a signed session (interval dates, 28 days
  from the 12-week target) and a consultation with no patient (the next 28 days);
* the `/schedule/new/` page through the test client (front desk, warm process);
* references: `availability.find_slots` for one clinic over 7 days (the computation underneath,
  benchmarked in docs/scheduling.md), and a fixed SQL statement (generate_series) that measures
  the machine's load, not our code.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bontrack.settings")
os.environ.setdefault("BONTRACK_TESTING", "1")  # allow the test client's host

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from bontrack.accounts.models import Membership  # noqa: E402
from bontrack.accounts.roles import Role  # noqa: E402
from bontrack.core.models import Clinic  # noqa: E402
from bontrack.scheduling import slot_finder  # noqa: E402
from bontrack.scheduling.availability import find_slots  # noqa: E402
from bontrack.scheduling.defaults import ensure_clinic_defaults  # noqa: E402
from bontrack.scheduling.models import Appointment, AppointmentType, Room, WorkingHours  # noqa: E402
from bontrack.treatments.models import TreatmentSession  # noqa: E402

FILL_WEEKS = 4


def setup() -> tuple[int, int]:
    """Types, rooms, working hours and four weeks of future appointments (idempotent)."""
    clinics = list(Clinic.objects.order_by("id"))
    for clinic in clinics:
        ensure_clinic_defaults(clinic)
        if not Room.objects.filter(clinic=clinic).exists():
            Room.objects.bulk_create([Room(clinic=clinic, name=f"Room {i}") for i in (1, 2)])
    members = list(
        Membership.objects.filter(
            role__in=[Role.PHYSICIAN, Role.NURSE], clinic__isnull=False
        ).select_related("user", "clinic")
    )
    if not WorkingHours.objects.exists():
        WorkingHours.objects.bulk_create(
            [
                WorkingHours(
                    clinic=m.clinic, clinician=m.user, weekday=d, start=dtime(8), end=dtime(17)
                )
                for m in members
                for d in range(5)
            ]
        )
    now = timezone.now()
    if Appointment.objects.filter(starts_at__gt=now).exists():
        return len(members), Appointment.objects.filter(starts_at__gt=now).count()
    rng = random.Random(11)
    rows = []
    for i, m in enumerate(members):
        tz = ZoneInfo(m.clinic.time_zone)
        rooms = list(Room.objects.filter(clinic=m.clinic).order_by("id"))
        atype = AppointmentType.objects.get(clinic=m.clinic, code="treatment")
        patients = list(
            m.clinic.patients.order_by("id").values_list("id", flat=True)[i % 7 :: 7][:400]
        )
        today = now.astimezone(tz).date()
        n = 0
        for k in range(1, FILL_WEEKS * 7 + 1):
            day = today + timedelta(days=k)
            if day.weekday() >= 5:
                continue
            t = datetime.combine(day, dtime(8), tzinfo=tz).astimezone(UTC)
            end = datetime.combine(day, dtime(17), tzinfo=tz).astimezone(UTC)
            while t + timedelta(minutes=45) <= end:
                if rng.random() < 0.85 and patients:
                    s = t + timedelta(minutes=5)
                    e = s + timedelta(minutes=30)
                    rows.append(
                        Appointment(
                            practice_id=m.clinic.practice_id,
                            clinic=m.clinic,
                            patient_id=patients[n % len(patients)],
                            clinician=m.user,
                            room=rooms[i % 2],
                            appointment_type=atype,
                            indication="chronic_migraine",
                            starts_at=s,
                            ends_at=e,
                            block_start=t,
                            block_end=e + timedelta(minutes=10),
                        )
                    )
                    n += 1
                t += timedelta(minutes=45)
    # A patient holds at most one appointment at a time: drop rows that would overlap.
    seen: set[tuple[int, datetime]] = set()
    unique = []
    for r in rows:
        key = (r.patient_id, r.starts_at)
        if key not in seen:
            seen.add(key)
            unique.append(r)
    with transaction.atomic():
        Appointment.objects.bulk_create(unique, batch_size=2000, ignore_conflicts=True)
    return len(members), Appointment.objects.filter(starts_at__gt=now).count()


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    t0 = time.perf_counter()
    clinicians, future = setup()
    print(
        f"set-up {time.perf_counter() - t0:.1f} s: {clinicians} clinicians, {future} future appointments"
    )
    print(
        "database:",
        Appointment.objects.count(),
        "appointments,",
        connection.settings_dict["NAME"],
    )
    # The busiest clinic and a patient of it with a signed session.
    session = (
        TreatmentSession.objects.filter(status="signed", indication="chronic_migraine")
        .select_related("patient", "clinic")
        .order_by("-performed_at")
        .first()
    )
    clinic = session.clinic if session else Clinic.objects.order_by("id").first()
    patient = session.patient if session else None
    treatment = AppointmentType.objects.get(clinic=clinic, code="treatment")
    consult = AppointmentType.objects.get(clinic=clinic, code="consult")
    desk = (
        Membership.objects.filter(role=Role.FRONT_DESK, clinic=clinic)
        .select_related("user")
        .first()
    )
    client = Client(HTTP_HOST="localhost")
    client.force_login(desk.user)
    url = f"/schedule/new/?clinic={clinic.pk}&type={treatment.pk}" + (
        f"&patient={patient.pk}&indication=chronic_migraine" if patient else ""
    )
    assert client.get(url).status_code == 200
    today = timezone.now().astimezone(ZoneInfo(clinic.time_zone)).date()

    def finder_treatment() -> object:
        return slot_finder.find(
            clinic=clinic,
            appointment_type=treatment,
            patient=patient,
            indication="chronic_migraine",
            start=None,
            end=None,
        )

    def finder_consult() -> object:
        return slot_finder.find(
            clinic=clinic,
            appointment_type=consult,
            patient=None,
            indication="",
            start=None,
            end=None,
        )

    def page() -> object:
        response = client.get(url)
        assert response.status_code == 200
        return response

    def raw_week() -> object:
        return find_slots(
            clinic=clinic,
            appointment_type=treatment,
            start=today + timedelta(days=1),
            end=today + timedelta(days=7),
            now=timezone.now(),
            apply_notice=False,
        )

    def fixed_sql() -> object:
        with connection.cursor() as cur:
            cur.execute("SELECT sum(i) FROM generate_series(1, 300000) i")
            return cur.fetchone()

    cases: dict[str, Callable[[], object]] = {
        "slot finder: treatment, patient with a signed session (28 days)": finder_treatment,
        "slot finder: consultation, no patient (28 days)": finder_consult,
        "slot finder page /schedule/new/ (test client, warm)": page,
        "reference: find_slots, one clinic, 7 days": raw_week,
        "reference: fixed SQL (machine load)": fixed_sql,
    }
    for fn in cases.values():  # warm caches and imports
        fn()
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.runs):
        for name, fn in cases.items():
            t = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - t) * 1000)
    found = finder_treatment()
    print(f"clinic {clinic.name}: {len(found.slots)} slots from {found.start} to {found.end}")
    print(f"load average: {os.getloadavg()}")
    print(f"{'benchmark':65} {'median':>9} {'p95':>9}  (ms, {args.runs} runs)")
    for name, values in times.items():
        print(f"{name:65} {statistics.median(values):9.1f} {pct(values, 95):9.1f}")


if __name__ == "__main__":
    main()
