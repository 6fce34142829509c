"""The eligibility assessment on the chart, the physician's decision, and the consultation note."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from bontrack.core.models import ProgramPolicy
from bontrack.diaries.actions import actors, consultation
from bontrack.diaries.models import ConsultationNote, EligibilityAssessment
from bontrack.diaries.tests.conftest import add_failed_preventives, build_diary
from clinic_rules.data import rule

pytestmark = pytest.mark.django_db


def test_a_chronic_diary_with_three_failed_classes_is_eligible(world, cm_patient):
    build_diary(cm_patient, end=actors.local_today(), days=130)
    add_failed_preventives(cm_patient)
    response = world.client("physician").get(f"/diaries/patients/{cm_patient.pk}/panel/")
    assert response.status_code == 200
    assert b"Eligible" in response.content and b"Monthly evidence" in response.content
    hours = rule("BTX-ELIG-HEADACHE-4H").int_("min_hours")
    assert f"headache days of {hours} h or more".encode() in response.content  # from the rule data


def test_the_practice_payer_rule_changes_the_assessment(world, cm_patient):
    build_diary(cm_patient, end=actors.local_today(), days=130)
    add_failed_preventives(cm_patient)
    ProgramPolicy.objects.create(practice=world.practice, failed_preventive_classes_required=4)
    row = consultation.record_eligibility_decision(
        actor=world.users["physician"], patient=cm_patient, decision="defer", note="Payer rule."
    )
    assert row.status == "not_yet"
    assert row.policy == {"failed_preventive_classes_required": 4}
    criterion = next(c for c in row.result["criteria"] if c["id"] == "preventive_classes_failed")
    assert criterion["met"] is False


def test_the_decision_stores_result_findings_and_rule_set(world, cm_patient):
    build_diary(cm_patient, end=actors.local_today(), days=130)
    add_failed_preventives(cm_patient)
    row = consultation.record_eligibility_decision(
        actor=world.users["physician"], patient=cm_patient, decision="eligible"
    )
    assert row.status == "eligible"
    assert row.rule_set.startswith("ichd3")
    assert {"criteria", "evidence", "findings"} <= set(row.result)


def test_an_eligible_decision_against_the_rules_needs_a_reason(world, cm_patient):
    build_diary(cm_patient, end=actors.local_today(), days=60, chronic=False)
    with pytest.raises(ValidationError) as exc:
        consultation.record_eligibility_decision(
            actor=world.users["physician"], patient=cm_patient, decision="eligible"
        )
    assert "note" in exc.value.message_dict
    assert not EligibilityAssessment.objects.exists()


def test_a_contraindication_flag_makes_the_patient_not_eligible(world, cm_patient):
    from datetime import date

    from bontrack.patients.models import PatientFlag

    build_diary(cm_patient, end=actors.local_today(), days=130)
    add_failed_preventives(cm_patient)
    PatientFlag.objects.create(
        patient=cm_patient, flag="botulinum_hypersensitivity", noted_on=date(2025, 1, 1)
    )
    row = consultation.record_eligibility_decision(
        actor=world.users["physician"], patient=cm_patient, decision="not_eligible", note="Allergy."
    )
    assert row.status == "not_eligible"


def test_the_patient_pre_visit_answers_show_in_the_staff_note(world, cm_patient):
    response = world.client("patient").post(
        "/portal/diary/before-your-visit/",
        {"patient_history": "Since I was 15.", "patient_goals": "Work again."},
    )
    assert response.status_code == 200
    page = world.client("physician").get(f"/diaries/patients/{cm_patient.pk}/consultation/")
    assert b"Since I was 15." in page.content and b"Work again." in page.content


def test_a_signed_note_is_final_and_a_new_one_starts(world, cm_patient):
    physician = world.users["physician"]
    from .test_consultation_signing import complete

    note = consultation.save_consultation(
        actor=physician,
        patient=cm_patient,
        sign=True,
        **complete(history="Daily headache.", plan="Diary."),
    )
    assert note.signed_at is not None
    fresh = consultation.save_consultation(
        actor=physician, patient=cm_patient, history="Follow-up."
    )
    assert fresh.pk != note.pk
    assert ConsultationNote.objects.get(pk=note.pk).history == "Daily headache."
