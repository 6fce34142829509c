"""Treatments benchmarks (not tests): the session screen and the dose-check round trip of one site
edit, for a patient with 40 earlier sessions. Run on PostgreSQL:

    DATABASE_URL=postgres://bontrack:bontrack@127.0.0.1:5432/bontrack_treat2 \\
        uv run bontrack migrate && \\
    DATABASE_URL=postgres://bontrack:bontrack@127.0.0.1:5432/bontrack_treat2 \\
        uv run python bench/bench_treatments.py [--runs 30]

The script creates (idempotently) a practice "bench-treatments" with one nurse and one patient
holding 40 signed PREEMPT sessions 12 weeks apart and a draft session today with a vial, then
measures server-side through the Django test client (no network): GET of the session screen, and
POST of a site edit (HTMX), which runs dose-check on the proposed state and re-renders the workspace.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bontrack.settings")
os.environ.setdefault("BONTRACK_TESTING", "1")  # allow the test client's host

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from bontrack.accounts.roles import Role  # noqa: E402
from bontrack.core.models import Clinic, Practice  # noqa: E402
from bontrack.factories import PatientFactory, login, staff  # noqa: E402
from bontrack.inventory.models import Lot, Vial  # noqa: E402
from bontrack.patients.models import Patient  # noqa: E402
from bontrack.treatments import facts  # noqa: E402
from bontrack.treatments.actions import charting, vials  # noqa: E402
from bontrack.treatments.models import Injection, TreatmentSession  # noqa: E402

HISTORY = 40


def setup():  # type: ignore[no-untyped-def]
    practice, _ = Practice.objects.get_or_create(
        slug="bench-treatments", defaults={"name": "Bench"}
    )
    clinic, _ = Clinic.objects.get_or_create(
        practice=practice, slug="bench-t1", defaults={"name": "Bench clinic"}
    )
    from bontrack.accounts.models import User

    nurse = User.objects.filter(username="bench.treatments.nurse").first() or staff(
        Role.NURSE, clinic, username="bench.treatments.nurse"
    )
    patient = Patient.objects.filter(practice=practice, mrn="BT-0001").first()
    if patient is None:
        patient = PatientFactory(clinic=clinic, mrn="BT-0001")
        now = timezone.now()
        interval = facts.retreatment_interval_days("chronic_migraine")
        rows = TreatmentSession.objects.bulk_create(
            [
                TreatmentSession(
                    patient=patient,
                    clinic=clinic,
                    performed_at=now - timedelta(days=interval * (i + 1)),
                    consent_obtained=True,
                )
                for i in range(HISTORY)
            ]
        )
        Injection.objects.bulk_create(
            [
                Injection(
                    session=s, muscle=r["muscle"], side=r["side"], units=r["units"], position=n
                )
                for s in rows
                for n, r in enumerate(facts.preempt_site_rows())
            ]
        )
        TreatmentSession.objects.filter(pk__in=[s.pk for s in rows]).update(
            status="signed", signed_at=now, signed_by=nurse, rule_set="botox-us@1"
        )
        lot = Lot.objects.create(
            practice=practice,
            ndc="0023-3921-02",
            lot_number="BENCH1",
            expiry=timezone.localdate() + timedelta(days=300),
            size_units=max(facts.vial_sizes()),
        )
        vial = Vial.objects.create(lot=lot, clinic=clinic)
        draft = charting.create_session(actor=nurse, patient=patient)
        vials.open_vial(
            actor=nurse,
            session=draft,
            vial=vial,
            diluent_ml=facts.cm_diluent_ml(lot.size_units),
            reconstituted_at=draft.performed_at - timedelta(minutes=20),
        )
    draft = TreatmentSession.objects.get(patient=patient, status="draft", amends__isnull=True)
    return nurse, patient, draft


def timed(fn, runs: int) -> tuple[float, float, int]:  # type: ignore[no-untyped-def]
    fn()  # warm-up
    samples = []
    queries = 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - t0) * 1000)
        queries = len(ctx)
    samples.sort()
    p95 = samples[max(0, int(round(0.95 * len(samples))) - 1)]
    return statistics.median(samples), p95, queries


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    nurse, patient, draft = setup()
    client = login(Client(HTTP_HOST="127.0.0.1"), nurse)
    url = f"/treatments/sessions/{draft.pk}/"
    site = draft.injections.order_by("position").first()
    per_site = facts.units_per_site()
    toggle = {"n": 0}

    def screen() -> None:
        response = client.get(url)
        assert response.status_code == 200, response.status_code

    def edit() -> None:
        toggle["n"] += 1
        units = per_site if toggle["n"] % 2 else per_site - Decimal("0.5")
        response = client.post(
            f"{url}sites/{site.pk}/save/",
            {"units": str(units), "status": "done"},
            HTTP_HX_REQUEST="true",
        )
        assert response.status_code == 200, response.status_code

    def dose_check_only() -> None:
        s = TreatmentSession.objects.select_related("patient", "clinic").get(pk=draft.pk)
        facts.run_dose_check(s, list(s.injections.all()), vials.session_vials(s))

    print(f"database: {connection.vendor}; patient {patient.mrn}: {HISTORY} signed sessions")
    for name, fn in (
        ("session screen GET", screen),
        ("site edit POST (dose-check + re-render)", edit),
        ("dose-check alone (ORM document + rules)", dose_check_only),
    ):
        median, p95, queries = timed(fn, args.runs)
        print(f"{name:45s} median {median:7.1f} ms  p95 {p95:7.1f} ms  {queries} queries")


if __name__ == "__main__":
    main()
