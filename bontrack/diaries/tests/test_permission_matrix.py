"""Who may read and write diaries, notes and eligibility decisions; a denial changes nothing."""

from __future__ import annotations

import json

import pytest

from bontrack.accounts.roles import Perm
from bontrack.audit.models import AuditEvent
from bontrack.diaries.models import (
    ConsultationNote,
    DiaryDay,
    EligibilityAssessment,
    QuestionnaireResponse,
)
from conftest import permission_matrix, portal_matrix

pytestmark = pytest.mark.django_db

STAFF_READ = permission_matrix(Perm.DIARY_VIEW)
TRANSCRIBE = permission_matrix(Perm.DIARY_EDIT, ok=302)
DECIDE = permission_matrix(Perm.ELIGIBILITY_DECIDE, ok=302)
CONSULT_WRITE = permission_matrix(Perm.CONSULTATION_EDIT, ok=302)
PORTAL = portal_matrix()
PORTAL_SAVE = portal_matrix(ok=302)
API_READ = permission_matrix(Perm.DIARY_VIEW, api=True)
API_UPSERT = permission_matrix(Perm.DIARY_EDIT, api=True)
API_DECIDE = permission_matrix(Perm.ELIGIBILITY_DECIDE, ok=201, api=True)
API_CONSULT = permission_matrix(Perm.CONSULTATION_EDIT, api=True)


def _counts():
    return (
        DiaryDay.objects.count(),
        EligibilityAssessment.objects.count(),
        ConsultationNote.objects.count(),
        QuestionnaireResponse.objects.count(),
        AuditEvent.objects.exclude(action="view").exclude(outcome="denied").count(),
    )


@pytest.mark.parametrize("persona,expected", STAFF_READ.items())
def test_reading_the_diary_page(world, cm_patient, persona, expected):
    response = world.client(persona).get(f"/diaries/patients/{cm_patient.pk}/")
    assert response.status_code == expected
    views = AuditEvent.objects.filter(patient_id=cm_patient.pk, action="view").count()
    assert views == (1 if expected == 200 else 0)


# Roles without diary access get an empty slot (the chart loads it for everyone).
PANEL = permission_matrix(Perm.PATIENT_VIEW)


@pytest.mark.parametrize("persona,expected", PANEL.items())
def test_reading_the_chart_panel(world, cm_patient, persona, expected):
    response = world.client(persona).get(f"/diaries/patients/{cm_patient.pk}/panel/")
    assert response.status_code == expected
    shown = b"Eligibility assessment" in response.content
    assert shown is (persona in {"physician", "nurse"})


@pytest.mark.parametrize("persona,expected", STAFF_READ.items())
def test_exporting_the_diary(world, cm_patient, persona, expected):
    response = world.client(persona).get(f"/diaries/patients/{cm_patient.pk}/export.csv")
    assert response.status_code == expected
    exported = AuditEvent.objects.filter(action="export", patient_id=cm_patient.pk).count()
    assert exported == (1 if expected == 200 else 0)


@pytest.mark.parametrize("persona,expected", TRANSCRIBE.items())
def test_transcribing_a_day(world, cm_patient, persona, expected):
    before = _counts()
    response = world.client(persona).post(
        f"/diaries/patients/{cm_patient.pk}/day/2026-01-05/", {"headache": "no"}
    )
    assert response.status_code == expected
    if expected == 302 and persona != "anonymous":
        day = DiaryDay.objects.get(patient=cm_patient)
        assert day.source == "transcribed"
    else:
        assert _counts() == before


@pytest.mark.parametrize("persona,expected", DECIDE.items())
def test_recording_the_eligibility_decision(world, cm_patient, persona, expected):
    before = _counts()
    response = world.client(persona).post(
        f"/diaries/patients/{cm_patient.pk}/eligibility/",
        {"decision": "defer", "note": "Keep the diary one more month."},
    )
    assert response.status_code == expected
    if expected == 302 and persona != "anonymous":
        row = EligibilityAssessment.objects.get(patient=cm_patient)
        assert row.decision == "defer" and row.rule_set
        assert AuditEvent.objects.filter(object_type="diaries.eligibilityassessment").count() == 1
    else:
        assert _counts() == before


@pytest.mark.parametrize("persona,expected", CONSULT_WRITE.items())
def test_writing_the_consultation_note(world, cm_patient, persona, expected):
    before = _counts()
    response = world.client(persona).post(
        f"/diaries/patients/{cm_patient.pk}/consultation/",
        {"history": "Daily headaches for two years.", "plan": "Keep a diary."},
    )
    assert response.status_code == expected
    if expected == 302 and persona != "anonymous":
        assert ConsultationNote.objects.get(patient=cm_patient).history.startswith("Daily")
    else:
        assert _counts() == before


@pytest.mark.parametrize("persona,expected", PORTAL.items())
def test_the_portal_diary_is_for_patients(world, cm_patient, persona, expected):
    response = world.client(persona).get("/portal/diary/")
    assert response.status_code == expected


@pytest.mark.parametrize("persona,expected", PORTAL_SAVE.items())
def test_a_portal_day_is_saved_on_the_own_record_only(world, cm_patient, persona, expected):
    from bontrack.diaries.actions import actors

    today = actors.local_today().isoformat()
    before = _counts()
    response = world.client(persona).post(f"/portal/diary/day/{today}/", {"headache": "no"})
    assert response.status_code == expected
    if expected == 302 and persona != "anonymous":
        owner = world.patient if persona == "patient" else world.other_patient
        assert DiaryDay.objects.get().patient == owner
    else:
        assert _counts() == before


@pytest.mark.parametrize("persona,expected", API_READ.items())
def test_api_list_days(world, cm_patient, persona, expected):
    response = world.client(persona).get(f"/api/v1/diaries/patients/{cm_patient.pk}/days")
    assert response.status_code == expected


@pytest.mark.parametrize("persona,expected", API_READ.items())
def test_api_eligibility(world, cm_patient, persona, expected):
    response = world.client(persona).get(f"/api/v1/diaries/patients/{cm_patient.pk}/eligibility")
    assert response.status_code == expected
    if expected == 200:
        assert response.json()["assessment"]["status"] in {"eligible", "not_yet", "not_eligible"}


@pytest.mark.parametrize("persona,expected", API_UPSERT.items())
def test_api_upsert_days(world, cm_patient, persona, expected):
    before = _counts()
    body = {"days": [{"date": "2026-01-05", "headache": False}]}
    response = world.client(persona).put(
        f"/api/v1/diaries/patients/{cm_patient.pk}/days",
        json.dumps(body),
        content_type="application/json",
    )
    assert response.status_code == expected, response.content
    if expected == 200:
        assert response.json() == {"created": 1, "updated": 0, "unchanged": 0}
    else:
        assert _counts() == before


@pytest.mark.parametrize("persona,expected", API_DECIDE.items())
def test_api_record_decision(world, cm_patient, persona, expected):
    before = _counts()
    response = world.client(persona).post(
        f"/api/v1/diaries/patients/{cm_patient.pk}/eligibility/decisions",
        json.dumps({"decision": "not_eligible", "note": "Episodic pattern."}),
        content_type="application/json",
    )
    assert response.status_code == expected, response.content
    if expected != 201:
        assert _counts() == before


@pytest.mark.parametrize("persona,expected", API_CONSULT.items())
def test_api_save_consultation(world, cm_patient, persona, expected):
    before = _counts()
    response = world.client(persona).put(
        f"/api/v1/diaries/patients/{cm_patient.pk}/consultation",
        json.dumps({"history": "Two years of daily headache."}),
        content_type="application/json",
    )
    assert response.status_code == expected, response.content
    if expected != 200:
        assert _counts() == before
