"""Staff enter a MIDAS or HIT-6 on the patient's behalf; it is marked as entered by staff."""

from __future__ import annotations

from datetime import date

import pytest

from bontrack.accounts.roles import Perm
from bontrack.audit.models import AuditEvent
from bontrack.diaries.actions import questionnaires
from bontrack.diaries.models import QuestionnaireResponse
from bontrack.diaries.tests.test_questionnaires import HIT6, MIDAS
from conftest import permission_matrix

pytestmark = pytest.mark.django_db

DUE = date(2026, 4, 1)
ENTER_PAGE = permission_matrix(Perm.DIARY_EDIT)
ENTER_SAVE = permission_matrix(Perm.DIARY_EDIT, ok=302)


def _pending(patient, instrument: str) -> QuestionnaireResponse:
    questionnaires.assign_pre_treatment(patient, DUE)
    return QuestionnaireResponse.objects.get(patient=patient, instrument=instrument)


def _answered_state():
    return (
        QuestionnaireResponse.objects.filter(completed_at__isnull=False).count(),
        QuestionnaireResponse.objects.count(),
        AuditEvent.objects.exclude(action="view").exclude(outcome="denied").count(),
    )


@pytest.mark.parametrize("persona,expected", ENTER_PAGE.items())
def test_who_opens_the_staff_questionnaire_form(world, cm_patient, persona, expected):
    q = _pending(cm_patient, "hit6")
    response = world.client(persona).get(
        f"/diaries/patients/{cm_patient.pk}/questionnaires/{q.pk}/"
    )
    assert response.status_code == expected
    views = AuditEvent.objects.filter(patient_id=cm_patient.pk, action="view").count()
    assert views == (1 if expected == 200 else 0)


@pytest.mark.parametrize("persona,expected", ENTER_SAVE.items())
def test_who_enters_answers_for_the_patient(world, cm_patient, persona, expected):
    q = _pending(cm_patient, "midas")
    before = _answered_state()
    response = world.client(persona).post(
        f"/diaries/patients/{cm_patient.pk}/questionnaires/{q.pk}/", MIDAS
    )
    assert response.status_code == expected
    q.refresh_from_db()
    if expected == 302 and persona != "anonymous":
        assert q.completed_at is not None and q.entered_by_staff is True
        assert q.completed_by == world.users[persona]
    else:
        assert q.completed_at is None
        assert _answered_state() == before


@pytest.mark.parametrize("persona,expected", ENTER_SAVE.items())
def test_who_assigns_questionnaires_from_the_diary_page(world, cm_patient, persona, expected):
    before = _answered_state()
    response = world.client(persona).post(
        f"/diaries/patients/{cm_patient.pk}/questionnaires/assign/", {"due_date": "2026-04-01"}
    )
    assert response.status_code == expected
    made = QuestionnaireResponse.objects.filter(patient=cm_patient, due_date=DUE).count()
    if expected == 302 and persona != "anonymous":
        assert made == 2
    else:
        assert made == 0 and _answered_state() == before


def test_a_nurse_enters_a_paper_hit6_and_the_diary_page_marks_it(world, cm_patient):
    q = _pending(cm_patient, "hit6")
    client = world.client("nurse")
    page = client.get(f"/diaries/patients/{cm_patient.pk}/")
    assert b"Enter the answers for the patient" in page.content
    response = client.post(f"/diaries/patients/{cm_patient.pk}/questionnaires/{q.pk}/", HIT6)
    assert response.status_code == 302
    q.refresh_from_db()
    assert q.valid is True and q.score is not None and q.rule_set
    assert q.entered_by_staff is True
    event = AuditEvent.objects.get(action="update", object_id=str(q.pk))
    assert event.changes["entered_by_staff"] == [None, True]
    assert "entered by staff" in event.summary
    page = client.get(f"/diaries/patients/{cm_patient.pk}/")
    assert b"entered by staff" in page.content
    api = client.get(f"/api/v1/diaries/patients/{cm_patient.pk}/questionnaires").json()
    assert [r["entered_by_staff"] for r in api if r["id"] == q.pk] == [True]


def test_the_patients_own_answers_are_not_marked_as_staff(world, cm_patient):
    q = _pending(cm_patient, "midas")
    response = world.client("patient").post(f"/portal/diary/questionnaires/{q.pk}/", MIDAS)
    assert response.status_code == 302
    q.refresh_from_db()
    assert q.completed_at is not None and q.entered_by_staff is False


def test_incomplete_answers_are_refused_and_nothing_is_saved(world, cm_patient):
    q = _pending(cm_patient, "hit6")
    before = _answered_state()
    partial = dict(list(HIT6.items())[:3])
    response = world.client("nurse").post(
        f"/diaries/patients/{cm_patient.pk}/questionnaires/{q.pk}/", partial
    )
    assert response.status_code == 422
    q.refresh_from_db()
    assert q.completed_at is None
    assert _answered_state() == before


def test_an_answered_questionnaire_cannot_be_entered_again(world, cm_patient):
    q = _pending(cm_patient, "midas")
    client = world.client("physician")
    client.post(f"/diaries/patients/{cm_patient.pk}/questionnaires/{q.pk}/", MIDAS)
    q.refresh_from_db()
    first = (q.completed_at, q.score)
    again = dict.fromkeys(MIDAS, 0)
    response = client.post(f"/diaries/patients/{cm_patient.pk}/questionnaires/{q.pk}/", again)
    assert response.status_code == 302
    q.refresh_from_db()
    assert (q.completed_at, q.score) == first


def test_a_questionnaire_of_another_patient_is_not_found(world, cm_patient):
    q = _pending(world.other_patient, "midas")
    response = world.client("nurse").post(
        f"/diaries/patients/{cm_patient.pk}/questionnaires/{q.pk}/", MIDAS
    )
    assert response.status_code == 404
    q.refresh_from_db()
    assert q.completed_at is None
