"""MIDAS and HIT-6: assigned at baseline and before treatment, scored by clinic_rules."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.core.exceptions import ValidationError

from bontrack.audit.models import AuditEvent
from bontrack.diaries import facts
from bontrack.diaries.actions import questionnaires
from bontrack.diaries.models import QuestionnaireResponse
from bontrack.patients.services import Conflict

pytestmark = pytest.mark.django_db

MIDAS = {"q1": 5, "q2": 6, "q3": 4, "q4": 3, "q5": 4}
HIT6 = {
    "pain_severity": "always",
    "limits_daily_activities": "very_often",
    "wish_to_lie_down": "always",
    "too_tired": "sometimes",
    "fed_up_or_irritated": "very_often",
    "limits_concentration": "sometimes",
}


def test_the_portal_assigns_the_baseline_once_when_the_program_starts(world, cm_patient):
    client = world.client("patient")
    client.get("/portal/diary/")
    client.get("/portal/diary/")
    rows = QuestionnaireResponse.objects.filter(patient=cm_patient, assigned_for="baseline")
    assert sorted(rows.values_list("instrument", flat=True)) == ["hit6", "midas"]


def test_no_baseline_without_a_chronic_migraine_condition(world):
    world.client("other_patient").get("/portal/diary/")
    assert not QuestionnaireResponse.objects.exists()


def test_pre_treatment_assignment_is_idempotent_and_audited(world, cm_patient):
    questionnaires.assign_pre_treatment(cm_patient, date(2026, 4, 1))
    questionnaires.assign_pre_treatment(cm_patient, date(2026, 4, 1))
    assert QuestionnaireResponse.objects.filter(assigned_for="pre_treatment").count() == 2
    assert AuditEvent.objects.filter(object_type="diaries.questionnaireresponse").count() == 2


def test_the_patient_answers_midas_in_the_portal_and_it_is_scored(world, cm_patient):
    q = questionnaires.assign_pre_treatment(cm_patient, date(2026, 4, 1))[0]
    assert q.instrument == "midas"
    response = world.client("patient").post(f"/portal/diary/questionnaires/{q.pk}/", MIDAS)
    assert response.status_code == 302
    q.refresh_from_db()
    assert q.score == 22 and q.valid is True and q.rule_set.startswith("scores")
    assert q.band
    assert facts.score_series(cm_patient)[0]["score"] == 22.0
    assert AuditEvent.objects.filter(action="update", object_id=str(q.pk)).exists()


def test_another_patient_cannot_open_the_questionnaire(world, cm_patient):
    q = questionnaires.assign_pre_treatment(cm_patient, date(2026, 4, 1))[0]
    assert (
        world.client("other_patient").get(f"/portal/diary/questionnaires/{q.pk}/").status_code
        == 404
    )


def test_hit6_is_scored_and_a_second_submission_conflicts(world, cm_patient):
    q = questionnaires.assign_pre_treatment(cm_patient, date(2026, 4, 1))[1]
    done = questionnaires.submit_questionnaire(
        actor=world.users["patient"], response=q, answers=HIT6
    )
    assert done.instrument == "hit6" and done.valid and 36 <= done.score <= 78
    with pytest.raises(Conflict):
        questionnaires.submit_questionnaire(actor=world.users["patient"], response=q, answers=HIT6)


def test_out_of_range_answers_are_a_validation_error(world, cm_patient):
    q = questionnaires.assign_pre_treatment(cm_patient, date(2026, 4, 1))[0]
    with pytest.raises(ValidationError) as exc:
        questionnaires.submit_questionnaire(
            actor=world.users["patient"], response=q, answers={**MIDAS, "q1": 200}
        )
    assert "q1" in exc.value.message_dict
    q.refresh_from_db()
    assert q.completed_at is None


def test_staff_enter_answers_through_the_api(world, cm_patient):
    q = questionnaires.assign_pre_treatment(cm_patient, date(2026, 4, 1))[0]
    response = world.client("nurse").post(
        f"/api/v1/diaries/questionnaires/{q.pk}/answers",
        json.dumps({"answers": MIDAS}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["score"] == "22.0" or float(response.json()["score"]) == 22
