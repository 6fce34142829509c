"""Diary benchmarks (not tests). Run against the seeded PostgreSQL benchmark database:

    DATABASE_URL=postgres://bontrack:bontrack@127.0.0.1:5432/bontrack_bench \\
        uv run python bench/bench_diaries.py [--rows 1000000] [--page-runs 30]

Targets (issue 4): the staff diary page of a patient with 3 years of entries renders
server-side in under 150 ms; a bulk diary import of 1,000,000 rows runs at 20,000 rows/s or
more. The script adds one benchmark physician and one 3-year diary to the seeded practice
(idempotent) and imports into dates of 2001-2004 (removed again before each import run).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bontrack.settings")
os.environ.setdefault("BONTRACK_TESTING", "1")  # allow the test client's host

import django  # noqa: E402

django.setup()

from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from bontrack.accounts.models import Membership, User  # noqa: E402
from bontrack.core.models import Practice  # noqa: E402
from bontrack.diaries.csv import jobs as csv_jobs  # noqa: E402
from bontrack.diaries.csv import progress as csv_progress  # noqa: E402
from bontrack.diaries.models import DiaryDay, DiaryMedication  # noqa: E402
from bontrack.factories import login  # noqa: E402
from bontrack.patients.models import Condition, Patient  # noqa: E402

IMPORT_START = date(2001, 1, 1)


def practice() -> Practice:
    p = Practice.objects.filter(slug__startswith="seed-").order_by("id").first()
    if p is None:
        sys.exit("No seeded practice: run `bontrack seed --patients 50000 --seed 1` first.")
    return p


def bench_user(p: Practice) -> User:
    user, created = User.objects.get_or_create(username="bench.diaries", defaults={"practice": p})
    if created:
        user.set_unusable_password()
        user.save()
        Membership.objects.create(user=user, practice=p, clinic=None, role="physician")
    return user


def three_year_patient(p: Practice) -> Patient:
    patient = Patient.objects.filter(practice=p).order_by("id").first()
    assert patient is not None
    Condition.objects.get_or_create(
        patient=patient, indication="chronic_migraine", icd10_code="G43.709", active=True
    )
    today = timezone.localdate()
    start = today - timedelta(days=3 * 365 - 1)
    if DiaryDay.objects.filter(patient=patient, date__gte=start).count() < 3 * 365:
        DiaryDay.objects.filter(patient=patient).delete()
        rng = random.Random(1)
        rows, meds = [], []
        for k in range(3 * 365):
            d = start + timedelta(days=k)
            if rng.random() < 0.6:
                row = DiaryDay(
                    patient=patient,
                    date=d,
                    headache=True,
                    hours=Decimal("6"),
                    severity=rng.choice([1, 2, 3]),
                    unilateral=rng.random() < 0.6,
                    pulsating=rng.random() < 0.7,
                    nausea=rng.random() < 0.6,
                    photophobia=rng.random() < 0.6,
                    phonophobia=rng.random() < 0.5,
                    source="patient",
                )
                if rng.random() < 0.4:
                    meds.append((row, "Sumatriptan", "triptan"))
            else:
                row = DiaryDay(patient=patient, date=d, headache=False, source="patient")
            rows.append(row)
        DiaryDay.objects.bulk_create(rows, batch_size=2000)
        DiaryMedication.objects.bulk_create(
            [DiaryMedication(day=r, name=n, drug_class=c) for r, n, c in meds], batch_size=2000
        )
    return patient


def bench_page(client: Client, url: str, runs: int, *, cold: bool = False) -> list[float]:
    """Server-side time per request; ``cold`` empties the cache first (no cached summary)."""
    client.get(url)  # warm templates
    times = []
    for _ in range(runs):
        if cold:
            cache.clear()
        t0 = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, response.status_code
    return times


def write_csv(path: Path, p: Practice, rows: int) -> int:
    mrns = list(Patient.objects.filter(practice=p).order_by("id").values_list("mrn", flat=True))
    per_patient = -(-rows // len(mrns))
    rng = random.Random(2)
    written = 0
    with path.open("w") as fh:
        fh.write(
            ",".join(
                [
                    "mrn",
                    "date",
                    "headache",
                    "hours",
                    "severity",
                    "unilateral",
                    "pulsating",
                    "nausea",
                    "photophobia",
                    "phonophobia",
                    "medications",
                    "triptan_or_ergot_relief",
                ]
            )
            + "\n"
        )
        for k in range(per_patient):
            d = (IMPORT_START + timedelta(days=k)).isoformat()
            for mrn in mrns:
                if written == rows:
                    return written
                if rng.random() < 0.55:
                    med = "sumatriptan" if rng.random() < 0.4 else ""
                    fh.write(
                        f"{mrn},{d},1,{rng.choice((3, 5, 8))},{rng.randint(1, 3)},1,1,1,0,0,"
                        f"{med},{1 if med and rng.random() < 0.5 else 0}\n"
                    )
                else:
                    fh.write(f"{mrn},{d},0,,0,0,0,0,0,0,,0\n")
                written += 1
    return written


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--page-runs", type=int, default=30)
    parser.add_argument("--skip-import", action="store_true")
    args = parser.parse_args()
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    p = practice()
    print(f"practice {p.slug}: {Patient.objects.filter(practice=p).count()} patients")
    user = bench_user(p)
    patient = three_year_patient(p)
    client = Client(SERVER_NAME="localhost")
    login(client, user)
    n_days = DiaryDay.objects.filter(patient=patient).count()
    for name, url, cold in (
        ("staff diary page, summary not cached", f"/diaries/patients/{patient.pk}/", True),
        ("staff diary page, summary cached", f"/diaries/patients/{patient.pk}/", False),
        ("chart panel (eligibility)", f"/diaries/patients/{patient.pk}/panel/", True),
    ):
        times = bench_page(client, url, args.page_runs, cold=cold)
        print(
            f"{name}, {n_days} diary days: median {statistics.median(times):.1f} ms, "
            f"p95 {sorted(times)[int(0.95 * (len(times) - 1))]:.1f} ms (target < 150 ms)"
        )
    if args.skip_import:
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.csv"
        t0 = time.perf_counter()
        rows = write_csv(path, p, args.rows)
        print(
            f"generated {rows} rows ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f} s"
        )
        t0 = time.perf_counter()
        with connection.cursor() as cur:  # set-based: the ORM's cascade collector is slow here
            cur.execute(
                "DELETE FROM diaries_diarymedication m USING diaries_diaryday d "
                "WHERE m.day_id = d.id AND d.date >= %s AND d.date < %s",
                [IMPORT_START, date(2005, 1, 1)],
            )
            cur.execute(
                "DELETE FROM diaries_diarydayrevision r USING diaries_diaryday d "
                "WHERE r.day_id = d.id AND d.date >= %s AND d.date < %s",
                [IMPORT_START, date(2005, 1, 1)],
            )
            cur.execute(
                "DELETE FROM diaries_diaryday WHERE date >= %s AND date < %s",
                [IMPORT_START, date(2005, 1, 1)],
            )
            cleared = cur.rowcount
        print(f"cleared {cleared} rows of an earlier run in {time.perf_counter() - t0:.1f} s")
        for label in ("first import (all new)", "same file again (all unchanged)"):
            t0 = time.perf_counter()
            job = csv_jobs.import_file(actor=user, practice=p, path=path)
            elapsed = time.perf_counter() - t0
            assert job.status == "done", job.errors[:5]
            print(
                f"{label}: {rows} rows in {elapsed:.1f} s = {rows / elapsed:,.0f} rows/s (target >= 20,000)"
            )
            print(
                "  phases (s): "
                + ", ".join(f"{k} {v:.1f}" for k, v in csv_progress.LAST_TIMINGS.items())
            )


if __name__ == "__main__":
    main()
