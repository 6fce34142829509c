"""A consultation note is signed only with what the eligibility decision needs and its visit date;
signed notes show their date. Refusals change nothing (no signature, no audit row)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError

from bontrack.audit.models import AuditEvent
from bontrack.diaries.actions import actors, consultation
from bontrack.diaries.models import ConsultationNote

pytestmark = pytest.mark.django_db

REQUIRED = ("visit_date", "history", "symptoms", "previous_treatments", "examination", "plan")


def complete(**overrides):
    fields = {
        "visit_date": actors.local_today() - timedelta(days=1),
        "history": "Daily headache for two years.",
        "symptoms": "Throbbing, photophobia, 20 headache days a month.",
        "previous_treatments": "Topiramate, propranolol, amitriptyline: ineffective.",
        "goals": "Work full days again.",
        "examination": "Normal neurological examination.",
        "plan": "Diary for 12 weeks, then the eligibility decision.",
    }
    fields.update(overrides)
    return fields


def _changes():
    return (
        ConsultationNote.objects.filter(signed_at__isnull=False).count(),
        AuditEvent.objects.exclude(action="view").exclude(outcome="denied").count(),
    )


@pytest.mark.parametrize("missing", REQUIRED)
def test_signing_without_a_needed_field_is_refused_by_the_service(world, cm_patient, missing):
    before = _changes()
    with pytest.raises(ValidationError) as exc:
        consultation.save_consultation(
            actor=world.users["physician"],
            patient=cm_patient,
            sign=True,
            **complete(**{missing: None if missing == "visit_date" else ""}),
        )
    assert list(exc.value.message_dict) == [missing]
    assert _changes() == before


def test_a_draft_may_stay_incomplete(world, cm_patient):
    note = consultation.save_consultation(
        actor=world.users["physician"], patient=cm_patient, history="First thoughts."
    )
    assert note.signed_at is None


def test_signing_with_a_future_visit_date_is_refused(world, cm_patient):
    before = _changes()
    with pytest.raises(ValidationError) as exc:
        consultation.save_consultation(
            actor=world.users["physician"],
            patient=cm_patient,
            sign=True,
            **complete(visit_date=actors.local_today() + timedelta(days=3)),
        )
    assert "visit_date" in exc.value.message_dict
    assert _changes() == before


def test_the_page_names_every_missing_field_and_signs_nothing(world, cm_patient):
    before = _changes()
    response = world.client("physician").post(
        f"/diaries/patients/{cm_patient.pk}/consultation/",
        {"history": "Daily headache.", "sign": "1"},
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "<!doctype html>" in body
    assert "Give the visit date before signing." in body
    assert body.count("Write this before signing the note.") == 4
    assert _changes() == before


def test_a_signed_note_shows_its_visit_date_and_when_it_was_signed(world, cm_patient):
    visit = date(2026, 11, 20)
    consultation.save_consultation(
        actor=world.users["physician"], patient=cm_patient, sign=True, **complete(visit_date=visit)
    )
    page = world.client("physician").get(f"/diaries/patients/{cm_patient.pk}/consultation/")
    body = page.content.decode()
    signed = ConsultationNote.objects.get(signed_at__isnull=False)
    assert "Visit 2026-11-20" in body
    assert f"signed {signed.signed_at:%Y-%m-%d}" in body
