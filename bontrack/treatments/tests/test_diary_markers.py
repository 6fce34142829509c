"""Signed sessions are marked on the diary charts through the diaries hook (diaries never imports
treatments)."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from bontrack.diaries import hooks
from bontrack.diaries.actions import actors
from bontrack.diaries.tests.conftest import build_diary
from bontrack.patients.models import Condition
from bontrack.treatments.diary_markers import signed_session_dates
from bontrack.treatments.models import TreatmentSession

DIARIES = Path(__file__).resolve().parents[2] / "diaries"


@pytest.fixture
def cm_patient(world):
    Condition.objects.get_or_create(  # the treatments conftest may have recorded it already
        patient=world.patient, indication="chronic_migraine", icd10_code="G43.709"
    )
    return world.patient


def test_diaries_code_does_not_import_treatments():
    offenders = []
    for path in DIARIES.rglob("*.py"):
        if "tests" in path.parts or path.name == "demo.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            offenders += [f"{path.name}: {n}" for n in names if n.startswith("bontrack.treatments")]
    assert offenders == []


def test_the_treatments_app_provides_the_session_dates():
    assert signed_session_dates in hooks._session_dates


@pytest.mark.django_db
def test_a_signed_session_is_marked_on_the_diary_page(world, cm_patient):
    build_diary(cm_patient, end=actors.local_today(), days=60)
    when = timezone.now() - timedelta(days=20)
    TreatmentSession.objects.create(
        patient=cm_patient,
        clinic=cm_patient.clinic,
        indication="chronic_migraine",
        performed_at=when,
        status="signed",
        signed_at=when,
        signed_by=world.users["physician"],
        rule_set="botox-us@1",
        consent_obtained=True,
    )
    page = world.client("physician").get(f"/diaries/patients/{cm_patient.pk}/")
    assert page.context["sessions"] == [timezone.localdate(when)]
