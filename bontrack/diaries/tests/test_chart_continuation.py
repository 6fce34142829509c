"""The chronic migraine panel shows the initiation criteria only until the first signed session of
chronic migraine; then it shows where the patient is: cycle, response so far, next review, next due.
A treated patient whose migraine improved never sees a red "not eligible"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bontrack.diaries.actions import actors, consultation
from bontrack.diaries.tests.conftest import add_failed_preventives, build_diary
from bontrack.factories import PatientFactory, signed_session
from bontrack.patients.models import Condition

pytestmark = pytest.mark.django_db


def _panel(world, patient, persona="physician") -> str:
    response = world.client(persona).get(f"/diaries/patients/{patient.pk}/panel/")
    assert response.status_code == 200
    return response.content.decode()


def _eligible_then_treated(world, patient, *, days_ago: int = 60, improved: bool = True):
    """Chronic diary and three failed classes, the physician's decision, a signed session
    `days_ago`, then a diary that improved (episodic) since the session."""
    today = actors.local_today()
    start = today - timedelta(days=days_ago)
    build_diary(patient, end=start - timedelta(days=1), days=120, seed=5)
    add_failed_preventives(patient)
    consultation.record_eligibility_decision(
        actor=world.users["physician"],
        patient=patient,
        decision="eligible",
        as_of=start - timedelta(days=1),
    )
    session = signed_session(
        world.users["physician"], patient, timezone.now() - timedelta(days=days_ago)
    )
    build_diary(patient, end=today, days=days_ago, seed=6, chronic=not improved)
    return session


def test_before_the_first_session_the_panel_shows_the_initiation_criteria(world, cm_patient):
    build_diary(cm_patient, end=actors.local_today(), days=130)
    add_failed_preventives(cm_patient)
    body = _panel(world, cm_patient)
    assert "Eligibility assessment" in body and "Monthly evidence" in body
    assert "Continuation" not in body


def test_a_treated_patient_whose_migraine_improved_sees_the_continuation_state(world, cm_patient):
    session = _eligible_then_treated(world, cm_patient)
    body = _panel(world, cm_patient)
    assert "Not eligible" not in body and "badge block" not in body
    assert "Eligibility assessment (as of" not in body and "Monthly evidence" not in body
    assert "Continuation" in body
    assert "Cycle 1" in body
    first = timezone.localtime(session.performed_at).date()
    assert f"First session {first:%Y-%m-%d}" in body
    due = first + timedelta(days=84)
    assert f"Next due {due:%Y-%m-%d}" in body
    assert "Next response review" in body
    assert "Response so far" in body
    # The initiation decision stays on file, as history.
    assert "Initiation decision" in body and "Eligible" in body
    # No new eligibility decision form once treatment has started.
    assert "Record decision" not in body


def test_after_two_cycles_the_response_so_far_is_shown_in_words(world, cm_patient):
    _eligible_then_treated(world, cm_patient, days_ago=120)
    signed_session(world.users["physician"], cm_patient, timezone.now() - timedelta(days=30))
    body = _panel(world, cm_patient)
    assert "Cycle 2" in body
    assert "headache days" in body and "vs baseline" in body
    assert "not_eligible" not in body and "too_early" not in body


def test_a_session_of_another_indication_does_not_start_the_migraine_continuation(world):
    patient = PatientFactory(clinic=world.clinic)
    Condition.objects.create(patient=patient, indication="blepharospasm", icd10_code="G24.5")
    signed_session(world.users["physician"], patient, timezone.now() - timedelta(days=20))
    Condition.objects.create(patient=patient, indication="chronic_migraine", icd10_code="G43.709")
    body = _panel(world, patient)
    assert "Eligibility assessment" in body and "Continuation" not in body


def test_the_treatment_panel_names_the_cycle_of_each_treated_indication(world):
    patient = PatientFactory(clinic=world.clinic)
    Condition.objects.create(patient=patient, indication="blepharospasm", icd10_code="G24.5")
    for days in (200, 100):
        signed_session(world.users["physician"], patient, timezone.now() - timedelta(days=days))
    body = world.client("nurse").get(f"/treatments/patients/{patient.pk}/panel/").content.decode()
    assert "<strong>Cycle 2</strong> of blepharospasm" in body
