"""Consultation per indication (issue 10 item 2): history, symptoms, prior toxins in their own
product's units (never converted), goals, baseline scales, the decision to treat with its
reasons, and the cervical dystonia posture at each visit. Refusals change nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bontrack.audit.models import AuditEvent
from bontrack.diaries.actions import actors, consultation
from bontrack.diaries.models import (
    ConsultationNote,
    PostureAssessment,
    PostureFinding,
    PriorToxinTreatment,
)
from bontrack.patients.models import Condition

pytestmark = pytest.mark.django_db

CD = "cervical_dystonia"


@pytest.fixture
def cd_patient(world):
    Condition.objects.create(patient=world.patient, indication=CD, icd10_code="G24.3")
    return world.patient


def _changes():
    return (
        ConsultationNote.objects.count(),
        PriorToxinTreatment.objects.count(),
        PostureAssessment.objects.count(),
        AuditEvent.objects.exclude(action="view").exclude(outcome="denied").count(),
    )


def test_a_cervical_dystonia_note_keeps_its_own_indication_and_decision(world, cd_patient):
    doctor = world.users["physician"]
    consultation.save_consultation(
        actor=doctor, patient=cd_patient, indication="chronic_migraine", history="Headaches."
    )
    note = consultation.save_consultation(
        actor=doctor,
        patient=cd_patient,
        indication=CD,
        history="Neck turning to the left for three years.",
        goals="Drive without my head pulling.",
        decision="treat",
        decision_reasons="Painful rotational torticollis, no response to oral drugs.",
    )
    assert note.indication == CD and note.decision == "treat"
    assert ConsultationNote.objects.filter(patient=cd_patient, signed_at__isnull=True).count() == 2
    event = AuditEvent.objects.filter(object_id=str(note.pk), action="create").get()
    assert event.changes["decision"] == ["", "treat"]
    assert "Cervical dystonia" in event.summary


def test_a_decision_without_its_reasons_is_refused_and_nothing_is_written(world, cd_patient):
    before = _changes()
    with pytest.raises(ValidationError) as exc:
        consultation.save_consultation(
            actor=world.users["physician"], patient=cd_patient, indication=CD, decision="treat"
        )
    assert "decision_reasons" in exc.value.message_dict
    assert _changes() == before


def test_an_unknown_indication_is_refused(world, cd_patient):
    before = _changes()
    with pytest.raises(ValidationError):
        consultation.save_consultation(
            actor=world.users["physician"], patient=cd_patient, indication="hiccups"
        )
    assert _changes() == before


def test_prior_toxins_are_stored_in_their_own_units_and_never_converted(world, cd_patient):
    doctor = world.users["physician"]
    dysport = consultation.add_prior_toxin(
        actor=doctor,
        patient=cd_patient,
        indication=CD,
        product="abobotulinumtoxinA",
        units=Decimal("500"),
        last_given_on=actors.local_today() - timedelta(days=200),
        muscles="Left SCM, right splenius",
        response="Good for 10 weeks, mild dysphagia",
    )
    consultation.add_prior_toxin(
        actor=doctor,
        patient=cd_patient,
        indication=CD,
        product="rimabotulinumtoxinB",
        units=Decimal("5000"),
    )
    assert dysport.units == Decimal("500") and dysport.product == "abobotulinumtoxinA"
    page = (
        world.client("physician")
        .get(f"/diaries/patients/{cd_patient.pk}/consultation/{CD}/")
        .content.decode()
    )
    assert "500 units of abobotulinumtoxinA (Dysport)" in page
    assert "5000 units of rimabotulinumtoxinB (Myobloc)" in page
    assert "never converted" in page
    # No BOTOX-unit figure is derived from them anywhere on the page.
    assert "BOTOX equivalent" not in page and "5500" not in page
    assert AuditEvent.objects.filter(object_type__icontains="priortoxin").count() == 2


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"product": "botulinum_snake_oil", "units": Decimal(100)}, "product"),
        ({"product": "incobotulinumtoxinA", "units": Decimal(0)}, "units"),
        ({"product": "incobotulinumtoxinA", "units": None}, "units"),
    ],
)
def test_a_bad_prior_toxin_is_refused_and_nothing_is_written(world, cd_patient, fields, field):
    before = _changes()
    with pytest.raises(ValidationError) as exc:
        consultation.add_prior_toxin(
            actor=world.users["physician"], patient=cd_patient, indication=CD, **fields
        )
    assert field in exc.value.message_dict
    assert _changes() == before


def test_a_nurse_may_not_write_the_consultation_or_its_prior_toxins(world, cd_patient):
    before = _changes()
    with pytest.raises(PermissionDenied):
        consultation.add_prior_toxin(
            actor=world.users["nurse"],
            patient=cd_patient,
            indication=CD,
            product="incobotulinumtoxinA",
            units=Decimal(100),
        )
    response = world.client("nurse").post(
        f"/diaries/patients/{cd_patient.pk}/consultation/{CD}/",
        {"action": "toxin", "product": "incobotulinumtoxinA", "units": "100"},
    )
    assert response.status_code == 403
    assert _changes() == before


def test_the_posture_is_recorded_at_each_visit_with_its_directions(world, cd_patient):
    nurse = world.client("nurse")
    today = actors.local_today()
    response = nurse.post(
        f"/diaries/patients/{cd_patient.pk}/consultation/{CD}/",
        {
            "action": "posture",
            "visit_date": today.isoformat(),
            "p_rotation_left": "on",
            "p_laterocollis_right": "on",
            "p_shoulder_elevation_left": "on",
            "p_tremor_forward": "on",
            "note": "Sensory trick: hand on chin",
        },
    )
    assert response.status_code == 302
    assessment = PostureAssessment.objects.get(patient=cd_patient)
    assert sorted(assessment.findings.values_list("component", "direction")) == [
        ("laterocollis", "right"),
        ("rotation", "left"),
        ("shoulder_elevation", "left"),
        ("tremor", "forward"),
    ]
    page = nurse.get(f"/diaries/patients/{cd_patient.pk}/consultation/{CD}/").content.decode()
    assert "Rotation (torticollis) to the left" in page
    assert "Head tilt (laterocollis) to the right" in page
    assert AuditEvent.objects.filter(summary="Cervical dystonia posture recorded").count() == 1


@pytest.mark.parametrize(
    "findings",
    [[], [("anterocollis", "left")], [("retrocollis", "forward")], [("nodding", "left")]],
)
def test_a_posture_without_a_valid_direction_is_refused(world, cd_patient, findings):
    before = _changes()
    with pytest.raises(ValidationError):
        consultation.record_posture(
            actor=world.users["physician"],
            patient=cd_patient,
            visit_date=actors.local_today(),
            findings=findings,
        )
    assert _changes() == before
    assert PostureFinding.objects.count() == 0


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("physician", 200),
        ("nurse", 200),
        ("front_desk", 403),
        ("billing", 403),
        ("clinic_admin", 403),
        ("other_clinic_staff", 404),
        ("other_practice_staff", 404),
        ("patient", 403),
        ("anonymous", 302),
    ],
)
def test_who_reads_the_consultation_of_an_indication(world, cd_patient, persona, expected):
    response = world.client(persona).get(f"/diaries/patients/{cd_patient.pk}/consultation/{CD}/")
    assert response.status_code == expected


def test_an_unknown_indication_page_is_a_404(world, cd_patient):
    response = world.client("physician").get(
        f"/diaries/patients/{cd_patient.pk}/consultation/hiccups/"
    )
    assert response.status_code == 404


def test_the_chart_panel_lists_the_consultation_of_each_indication(world, cd_patient):
    consultation.save_consultation(
        actor=world.users["physician"], patient=cd_patient, indication=CD, history="Neck."
    )
    panel = world.client("physician").get(f"/diaries/patients/{cd_patient.pk}/panel/")
    html = panel.content.decode()
    assert f"/diaries/patients/{cd_patient.pk}/consultation/{CD}/" in html
    assert "Draft in progress" in html


def _page_queries(client, patient) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(f"/diaries/patients/{patient.pk}/consultation/{CD}/").status_code == 200
    return len(ctx.captured_queries)


def test_the_consultation_page_query_count_does_not_grow_with_its_rows(world, cd_patient):
    doctor = world.users["physician"]
    client = world.client("physician")
    consultation.add_prior_toxin(
        actor=doctor, patient=cd_patient, indication=CD, product="incobotulinumtoxinA", units=100
    )
    consultation.record_posture(
        actor=doctor,
        patient=cd_patient,
        visit_date=actors.local_today(),
        findings=[("rotation", "left")],
    )
    small = _page_queries(client, cd_patient)
    for n in range(8):
        consultation.add_prior_toxin(
            actor=doctor,
            patient=cd_patient,
            indication=CD,
            product="abobotulinumtoxinA",
            units=100 + n,
        )
        consultation.record_posture(
            actor=doctor,
            patient=cd_patient,
            visit_date=actors.local_today() - timedelta(days=n),
            findings=[("rotation", "right"), ("tremor", "back")],
        )
    assert _page_queries(client, cd_patient) == small
