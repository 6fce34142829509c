"""Scheduling benchmarks (not tests). Run against a PostgreSQL database seeded with
`bontrack seed --clinics 20` (the script adds what it needs, idempotently):

    export DATABASE_URL=postgres://bontrack:bontrack@127.0.0.1:5432/bontrack_sched_bench
    uv run bontrack migrate && uv run bontrack seed --patients 20000 --seed 7 --clinics 20
    uv run python bench/bench_scheduling.py --seed 7 [--appointments 650000] [--runs 40]

Targets (issue 5): a free-slot search across all clinicians of a 20-clinic practice with
650,000 appointments answers in under 100 ms p95; the recall list of a clinic with 5,000
active patients renders in under 200 ms.

Seeding (`seed_appointments`): working hours (Mon–Fri 08:00–17:00) for every physician and
nurse, two rooms per clinic, and back-to-back appointments (about 85% of the day filled)
going back in time from 8 weeks ahead until the requested number exist. A 5,000-patient
clinic with one signed session per patient (spread over the last 6 months) is added for the
recall list.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
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

from bontrack.accounts.models import Membership, User  # noqa: E402
from bontrack.accounts.roles import Role  # noqa: E402
from bontrack.core.models import Clinic, Practice  # noqa: E402
from bontrack.ops.seed import build_patients  # noqa: E402
from bontrack.patients.models import Patient  # noqa: E402
from bontrack.scheduling.availability import find_slots, find_slots_many  # noqa: E402
from bontrack.scheduling.defaults import ensure_clinic_defaults  # noqa: E402
from bontrack.scheduling.models import Appointment, AppointmentType, Room, WorkingHours  # noqa: E402
from bontrack.scheduling.recall import recall_page, recall_rows  # noqa: E402


def seed_appointments(practice: Practice, total: int, today: date) -> int:
    """Bulk-insert appointments for the practice until it holds `total` (idempotent)."""
    have = Appointment.objects.filter(practice=practice).count()
    if have >= total:
        return have
    clinics = list(Clinic.objects.filter(practice=practice).order_by("id"))
    for clinic in clinics:
        ensure_clinic_defaults(clinic)
        if not Room.objects.filter(clinic=clinic).exists():
            Room.objects.bulk_create([Room(clinic=clinic, name=f"Room {i}") for i in (1, 2)])
    clinicians = list(
        Membership.objects.filter(
            practice=practice, role__in=[Role.PHYSICIAN, Role.NURSE], clinic__isnull=False
        ).select_related("user", "clinic")
    )
    if not WorkingHours.objects.filter(clinic__practice=practice).exists():
        WorkingHours.objects.bulk_create(
            [
                WorkingHours(
                    clinic=m.clinic, clinician=m.user, weekday=d, start=dtime(8), end=dtime(17)
                )
                for m in clinicians
                for d in range(5)
            ]
        )
    rng = random.Random(5)
    lanes = []
    for i, m in enumerate(clinicians):
        rooms = list(Room.objects.filter(clinic=m.clinic).order_by("id"))
        types = list(AppointmentType.objects.filter(clinic=m.clinic, kind="treatment"))
        patients = list(Patient.objects.filter(clinic=m.clinic).values_list("id", flat=True))
        half = patients[i % 2 :: 2] or patients
        lanes.append((m, rooms[i % 2], types[0], half))
    per_lane = (total - have) // len(lanes) + 1
    rows: list[Appointment] = []
    made = 0
    start_day = today + timedelta(weeks=8)
    for m, room, atype, patients in lanes:
        tz = ZoneInfo(m.clinic.time_zone)
        day, n = start_day, 0
        while n < per_lane:
            day -= timedelta(days=1)
            if day.weekday() >= 5:
                continue
            t = datetime.combine(day, dtime(8), tzinfo=tz).astimezone(UTC)
            end = datetime.combine(day, dtime(17), tzinfo=tz).astimezone(UTC)
            while t + timedelta(minutes=45) <= end and n < per_lane:
                if rng.random() < 0.85:
                    s = t + timedelta(minutes=5)
                    e = s + timedelta(minutes=30)
                    rows.append(
                        Appointment(
                            practice=practice,
                            clinic=m.clinic,
                            patient_id=patients[n % len(patients)],
                            clinician=m.user,
                            room=room,
                            appointment_type=atype,
                            indication="chronic_migraine",
                            starts_at=s,
                            ends_at=e,
                            block_start=t,
                            block_end=e + timedelta(minutes=10),
                            status="completed" if s < timezone.now() else "booked",
                        )
                    )
                    n += 1
                t += timedelta(minutes=45)
            if len(rows) >= 20000:
                with transaction.atomic():
                    Appointment.objects.bulk_create(rows, batch_size=5000)
                made += len(rows)
                rows = []
                sys.stderr.write(f"\r  {have + made:,} appointments")
    if rows:
        with transaction.atomic():
            Appointment.objects.bulk_create(rows, batch_size=5000)
        made += len(rows)
    sys.stderr.write("\n")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE scheduling_appointment")
    return have + made


def seed_recall_clinic(practice: Practice, today: date, n: int = 5000) -> Clinic:
    from bontrack.treatments.models import TreatmentSession

    clinic, created = Clinic.objects.get_or_create(
        practice=practice, slug="recall-bench", defaults={"name": "Recall benchmark clinic"}
    )
    if created or not Patient.objects.filter(clinic=clinic).exists():
        with transaction.atomic():
            build_patients(
                practice=practice,
                clinics=[clinic],
                count=n,
                rng=random.Random(9),
                today=today,
                mrn_prefix="RB",
            )
            Patient.objects.filter(clinic=clinic).update(status="active")
    if not TreatmentSession.objects.filter(clinic=clinic).exists():
        signer = User.objects.filter(practice=practice).first()
        rng = random.Random(11)
        now = timezone.now()
        with transaction.atomic():
            TreatmentSession.objects.bulk_create(
                [
                    TreatmentSession(
                        patient_id=pk,
                        clinic=clinic,
                        indication="chronic_migraine",
                        performed_at=now - timedelta(days=rng.randint(1, 180)),
                        status="signed",
                        signed_at=now,
                        signed_by=signer,
                        rule_set="botox-us@1",
                        consent_obtained=True,
                    )
                    for pk in Patient.objects.filter(clinic=clinic).values_list("id", flat=True)
                ],
                batch_size=5000,
            )
    ensure_clinic_defaults(clinic)
    return clinic


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) >= 20 else max(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--appointments", type=int, default=650_000)
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    practice = Practice.objects.get(slug=f"seed-{args.seed}")
    today = timezone.localdate()
    t0 = time.perf_counter()
    total = seed_appointments(practice, args.appointments, today)
    print(f"appointments in practice: {total:,} (seeding {time.perf_counter() - t0:.1f} s)")
    clinics = list(
        Clinic.objects.filter(practice=practice).exclude(slug="recall-bench").order_by("id")
    )[:20]
    types = {
        t.clinic_id: t for t in AppointmentType.objects.filter(clinic__in=clinics, code="treatment")
    }
    now = timezone.now()
    items = [(c, types[c.pk]) for c in clinics]
    samples, per_clinic, loop, n_slots = [], [], [], 0
    for run in range(args.runs):
        start = today + timedelta(days=run % 14)
        # The practice-wide search: one set of queries for all clinics.
        t = time.perf_counter()
        found = find_slots_many(
            items, start=start, end=start + timedelta(days=6), now=now, apply_notice=False
        )
        samples.append((time.perf_counter() - t) * 1000)
        n_slots += sum(len(v) for v in found.values())
        # For comparison: one search per clinic (the old way), and one clinic alone.
        t = time.perf_counter()
        for clinic in clinics:
            c0 = time.perf_counter()
            find_slots(
                clinic=clinic,
                appointment_type=types[clinic.pk],
                start=start,
                end=start + timedelta(days=6),
                now=now,
                apply_notice=False,
            )
            per_clinic.append((time.perf_counter() - c0) * 1000)
        loop.append((time.perf_counter() - t) * 1000)
    print(
        f"free-slot search, 7 days, all clinicians of {len(clinics)} clinics (practice-wide): "
        f"median {statistics.median(samples):.1f} ms, p95 {p95(samples):.1f} ms "
        f"({n_slots // args.runs} slots per search); one search per clinic: median "
        f"{statistics.median(loop):.1f} ms, p95 {p95(loop):.1f} ms; one clinic: median "
        f"{statistics.median(per_clinic):.1f} ms, p95 {p95(per_clinic):.1f} ms"
    )
    clinic = seed_recall_clinic(practice, today)
    rows = recall_rows(clinic=clinic)
    compute = []
    for _ in range(args.runs // 2 or 1):
        t = time.perf_counter()
        recall_page(clinic=clinic, status="", cursor=None, size=50, today=None)
        compute.append((time.perf_counter() - t) * 1000)
    admin = User.objects.filter(practice=practice, memberships__role=Role.FRONT_DESK).first()
    Membership.objects.get_or_create(
        user=admin, practice=practice, clinic=clinic, role=Role.FRONT_DESK
    )
    client = Client(HTTP_HOST="localhost")
    client.force_login(admin)
    t = time.perf_counter()
    client.get(f"/schedule/recall/?clinic={clinic.pk}")  # cold: imports, URL and template caches
    cold = (time.perf_counter() - t) * 1000
    pages = []
    for _ in range(args.runs):
        t = time.perf_counter()
        response = client.get(f"/schedule/recall/?clinic={clinic.pk}")
        pages.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, response.status_code
    print(
        f"recall list, {len(rows):,} patients: computation (page of 50 + counts) median {statistics.median(compute):.1f} ms "
        f"p95 {p95(compute):.1f} ms; page render median {statistics.median(pages):.1f} ms p95 {p95(pages):.1f} ms "
        f"(first, cold request of the process: {cold:.0f} ms)"
    )


if __name__ == "__main__":
    main()
