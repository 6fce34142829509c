"""Program dashboard benchmark (not a test): the dashboard from the rollup, and in the same run
the same figures computed directly from raw rows as the reference; prints the ratios.

    # a copy of the large seed (50,000 patients, ~10 million diary days), migrated and filled:
    su postgres -c "psql -c 'CREATE DATABASE bontrack_large_dash TEMPLATE bontrack_large OWNER bontrack'"
    export DATABASE_URL=postgres://bontrack:bontrack@127.0.0.1:5432/bontrack_large_dash
    uv run bontrack migrate && uv run bontrack outcomes_backfill
    uv run python bench/bench_dashboard.py [--runs 20] [--sample 300]

Timed, for three periods (last month, last 12 months, everything):
- ``figures``: the eight figures from the rollup (``figures.compute``: two grouped queries);
- ``page``: the whole dashboard view (figures, filters, charts, template; SVG fallbacks cached);
- reference ``raw SQL``: stages, units per indication, adverse effects per 100 sessions,
  no-shows and the 12-14-week rhythm, each one grouped query over the raw rows (sessions,
  injections, adverse effects, appointments);
- reference ``responders per patient``: the responder figure from raw rows runs the practice's
  response rules per patient (diary + sessions + scores); timed on a sample and scaled up to
  every patient assessed.
Target (issue 13): the dashboard under 250 ms whatever the period.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bontrack.settings")
os.environ.setdefault("BONTRACK_TESTING", "1")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count, F, Sum, Window  # noqa: E402
from django.db.models.functions import Lag  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django.utils import timezone  # noqa: E402

from bontrack.accounts.models import Membership, Scope, User  # noqa: E402
from bontrack.accounts.roles import Role  # noqa: E402
from bontrack.core.models import Practice  # noqa: E402
from bontrack.ops.dashboard import figures, views  # noqa: E402
from bontrack.ops.dashboard.figures import Filters  # noqa: E402
from bontrack.ops.dashboard.refresh import _assessment, rhythm_bounds  # noqa: E402
from bontrack.outcomes.models import OutcomeBucket, OutcomeFact, PatientOutcome  # noqa: E402
from bontrack.patients.models import Patient  # noqa: E402
from bontrack.scheduling.models import Appointment, Status  # noqa: E402
from bontrack.treatments.choices import InjectionStatus, SessionStatus  # noqa: E402
from bontrack.treatments.models import AdverseEffect, Injection, TreatmentSession  # noqa: E402


def timed(fn, runs: int) -> tuple[float, float, object]:
    out = fn()  # warm-up (connection, caches)
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)], out


def raw_figures(practice_id: int, start: date, end: date) -> dict[str, object]:
    """The period figures straight from the raw rows (one grouped query each)."""
    zone = timezone.get_current_timezone()
    lo = datetime(start.year, start.month, 1, tzinfo=zone)
    nxt = date(end.year + (end.month == 12), end.month % 12 + 1, 1)
    hi = datetime(nxt.year, nxt.month, 1, tzinfo=zone)
    sessions = TreatmentSession.objects.filter(
        patient__practice_id=practice_id,
        status=SessionStatus.SIGNED,
        performed_at__gte=lo,
        performed_at__lt=hi,
    )
    units = list(
        Injection.objects.filter(session__in=sessions, status=InjectionStatus.DONE)
        .values("indication")
        .annotate(u=Sum("units"), s=Count("session", distinct=True))
        .order_by()
    )
    n_sessions = sessions.count()
    effects = list(
        AdverseEffect.objects.filter(session__in=sessions)
        .values("kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    visits = list(
        Appointment.objects.filter(
            practice_id=practice_id,
            starts_at__gte=lo,
            starts_at__lt=hi,
            status__in=[Status.COMPLETED, Status.CHECKED_IN, Status.NO_SHOW],
        )
        .values("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    gaps = (
        TreatmentSession.objects.filter(
            patient__practice_id=practice_id, status=SessionStatus.SIGNED
        )
        .annotate(
            prev=Window(
                Lag("performed_at"),
                partition_by=[F("patient_id")],
                order_by=F("performed_at").asc(),
            )
        )
        .values("performed_at", "prev")
    )
    low, high = rhythm_bounds("chronic_migraine")
    rhythm = {"early": 0, "on_time": 0, "late": 0}
    for row in gaps.iterator(chunk_size=20000):
        if row["prev"] is None or not (lo <= row["performed_at"] < hi):
            continue
        gap = (row["performed_at"] - row["prev"]).days
        rhythm["early" if gap < low else "on_time" if gap <= high else "late"] += 1
    stages = list(
        TreatmentSession.objects.filter(
            patient__practice_id=practice_id, status=SessionStatus.SIGNED
        )
        .values("patient_id")
        .annotate(n=Count("id"))
        .order_by()
        .values("n")
        .annotate(patients=Count("patient_id", distinct=True))
        .order_by()
    )
    return {
        "units": units,
        "sessions": n_sessions,
        "effects": effects,
        "visits": visits,
        "rhythm": rhythm,
        "stages": stages,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--sample", type=int, default=300)
    args = parser.parse_args()
    practice = Practice.objects.annotate(n=Count("patients")).order_by("-n").first()
    assert practice is not None
    today = timezone.localdate()
    patients = Patient.objects.filter(practice=practice).count()
    print(
        f"database {connection.settings_dict['NAME']} ({connection.vendor}); practice "
        f"{practice.pk} with {patients} patients; rollup: {PatientOutcome.objects.count()} "
        f"outcomes, {OutcomeFact.objects.count()} facts, {OutcomeBucket.objects.count()} buckets"
    )
    scope = Scope(practice_id=practice.pk, all_clinics=True, clinic_ids=frozenset())
    # A practice-wide clinic administrator (added once to the benchmark copy if the seed has none).
    admin = User.objects.filter(
        memberships__practice=practice,
        memberships__role=Role.CLINIC_ADMIN,
        memberships__clinic__isnull=True,
    ).first()
    if admin is None:
        admin = User.objects.create(username="bench.dashboard.admin", practice=practice)
        Membership.objects.create(user=admin, practice=practice, role=Role.CLINIC_ADMIN)
    this_month = today.replace(day=1)
    last12 = figures.default_period(today)
    periods = {
        "last month": (this_month, this_month),
        "last 12 months": last12,
        "everything": (date(2000, 1, 1), date(2100, 12, 1)),
    }
    rf = RequestFactory()
    rows = []
    for label, (start, end) in periods.items():
        f = Filters(start, end)
        fig_med, fig_p95, _ = timed(lambda f=f: figures.compute(scope, f, today), args.runs)
        page = None
        if admin is not None:

            def view(start=start, end=end):
                req = rf.get(
                    "/dashboard/", {"from": start.strftime("%Y-%m"), "to": end.strftime("%Y-%m")}
                )
                req.user = admin
                req.htmx = False
                resp = views.dashboard(req)
                assert resp.status_code == 200
                return resp

            page = timed(view, args.runs)
        raw_med, raw_p95, _ = timed(
            lambda s=start, e=end: raw_figures(practice.pk, s, e), max(3, args.runs // 5)
        )
        rows.append((label, fig_med, fig_p95, page, raw_med, raw_p95))
        print(
            f"{label:>15}: rollup figures median {fig_med:7.1f} ms p95 {fig_p95:7.1f} ms"
            + (f" | page median {page[0]:7.1f} ms p95 {page[1]:7.1f} ms" if page else "")
            + f" | raw SQL reference median {raw_med:8.1f} ms"
            + f" | ratio raw/rollup {raw_med / fig_med:6.1f}x"
        )
    # The responder figure from raw rows: the practice's response rules per patient.
    assessed = list(
        TreatmentSession.objects.filter(patient__practice=practice, status=SessionStatus.SIGNED)
        .values("patient_id")
        .annotate(n=Count("id"))
        .filter(n__gte=2)
        .values_list("patient_id", flat=True)[: args.sample]
    )
    total_assessable = (
        TreatmentSession.objects.filter(patient__practice=practice, status=SessionStatus.SIGNED)
        .values("patient_id")
        .annotate(n=Count("id"))
        .filter(n__gte=2)
        .count()
    )
    t = time.perf_counter()
    for patient in Patient.objects.filter(pk__in=assessed):
        sessions = list(
            TreatmentSession.objects.filter(patient=patient, status=SessionStatus.SIGNED)
            .order_by("performed_at", "id")
            .values(
                "id", "performed_at", "clinic_id", "clinic__time_zone", "signed_by_id", "indication"
            )
        )
        _assessment(patient, sessions, today, lambda *a, **k: None)
    per_patient = (time.perf_counter() - t) / max(1, len(assessed))
    full = per_patient * total_assessable
    fig_everything = rows[-1][1]
    print(
        f"responders from raw rows: {per_patient * 1000:.1f} ms per patient x "
        f"{total_assessable} patients with two cycles = {full:.0f} s "
        f"(sample of {len(assessed)}); rollup {fig_everything:.1f} ms: ratio {full * 1000 / fig_everything:,.0f}x"
    )


if __name__ == "__main__":
    main()
