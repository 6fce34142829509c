from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from bontrack.audit.models import AuditEvent
from bontrack.patients import services
from bontrack.patients.models import Patient

pytestmark = pytest.mark.django_db


def form(world, **overrides):
    data = {
        "clinic": world.clinic.pk,
        "first_name": "Lucia",
        "last_name": "Rossi",
        "date_of_birth": "1988-07-21",
        "sex": "female",
        "mrn": "",
        "preferred_contact": "sms",
        "preferred_language": "es",
        "status": "active",
        "email": "lucia@example.org",
        "phone": "+1-555-222-3333",
    }
    return {**data, **overrides}


def test_front_desk_registers_a_patient_and_the_chart_opens(world):
    client = world.client("front_desk")
    response = client.post("/patients/new/", form(world))
    patient = Patient.objects.get(last_name="Rossi")
    assert response.status_code == 302 and response["Location"] == f"/patients/{patient.pk}/"
    assert patient.mrn.startswith("M") and patient.practice_id == world.practice.pk
    event = AuditEvent.objects.get(action="create", patient_id=patient.pk)
    assert event.actor.username == "frontdesk" and event.role == "front_desk"
    assert event.changes["last_name"] == [None, "Rossi"]
    assert client.get(response["Location"]).status_code == 200


def test_the_form_shows_inline_errors_and_saves_nothing(world):
    response = world.client("front_desk").post(
        "/patients/new/", form(world, first_name="", date_of_birth="2099-01-01")
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "This field is required." in html and "cannot be in the future" in html
    assert not Patient.objects.filter(last_name="Rossi").exists()


def test_a_duplicate_mrn_is_shown_on_the_mrn_field(world):
    response = world.client("front_desk").post("/patients/new/", form(world, mrn="A1-0001"))
    assert response.status_code == 422
    assert "already used in this practice" in response.content.decode()


def test_the_same_mrn_may_exist_in_another_practice(world):
    patient = services.register_patient(
        actor=world.users["other_practice_staff"],
        clinic=world.other_practice_clinic,
        first_name="X",
        last_name="Y",
        date_of_birth=world.patient.date_of_birth,
        mrn="A1-0001",
    )
    assert patient.practice_id == world.other_practice.pk


def test_the_service_refuses_a_clinic_outside_the_actors_scope(world):
    with pytest.raises(PermissionDenied):
        services.register_patient(
            actor=world.users["front_desk"],
            clinic=world.other_clinic,
            first_name="A",
            last_name="B",
            date_of_birth=world.patient.date_of_birth,
        )
    assert not AuditEvent.objects.exists()


def test_an_update_records_before_and_after(world):
    services.update_patient(
        actor=world.users["nurse"],
        patient=world.patient,
        phone="+1-555-999-0000",
        preferred_language="fr",
    )
    event = AuditEvent.objects.get(action="update")
    assert event.changes == {"phone": ["", "+1-555-999-0000"], "preferred_language": ["en", "fr"]}


def test_an_update_that_changes_nothing_writes_no_audit_row(world):
    services.update_patient(actor=world.users["nurse"], patient=world.patient, last_name="Cohen")
    assert not AuditEvent.objects.filter(action="update").exists()
