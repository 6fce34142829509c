from __future__ import annotations

import pytest
from django.core.management import call_command

from bontrack.accounts.models import User
from bontrack.core.models import Clinic, Practice
from bontrack.patients.models import Patient

pytestmark = pytest.mark.django_db


def test_seed_builds_the_same_practice_for_the_same_seed(capsys):
    call_command("seed", patients=40, seed=7, clinics=3)
    first = list(Patient.objects.order_by("mrn").values_list("mrn", "last_name", "date_of_birth"))
    assert len(first) == 40 and Practice.objects.get(slug="seed-7").clinics.count() == 3
    Patient.objects.all().delete()
    User.objects.filter(practice__slug="seed-7").delete()
    Clinic.objects.filter(practice__slug="seed-7").delete()
    Practice.objects.filter(slug="seed-7").delete()
    call_command("seed", patients=40, seed=7, clinics=3)
    again = list(Patient.objects.order_by("mrn").values_list("mrn", "last_name", "date_of_birth"))
    assert again == first
    assert "Seeded 40 patients" in capsys.readouterr().out


def test_the_demo_seeds_once_and_prints_the_logins(capsys):
    call_command("demo", no_serve=True, patients=30)
    out = capsys.readouterr().out
    assert "dr.lee" in out and "patient.demo" in out and "demo-pass-2026" in out
    call_command("demo", no_serve=True)
    assert Practice.objects.filter(slug="demo").count() == 1
    # 30 patients, and the new chart of the one online booking that waits for the front desk
    from bontrack.scheduling.models import PendingMatch

    assert PendingMatch.objects.filter(status="pending", clinic__slug="northside").count() == 1
    # ... and issue 10's three dosing patients (two children, a migraine + dystonia patient).
    assert Patient.objects.filter(practice__slug="demo").count() == 30 + 1 + 3
