"""Adverse effects: patients report side effects from the portal at any time; the symptoms the label
warns about (distant spread: trouble swallowing, speaking or breathing, generalized weakness;
clinic_rules BTX-SPREAD-URGENT-SYMPTOMS) show urgent advice and the clinic's phone at once, are
flagged for a same-day physician review (list and badge), audited, and notify the clinic."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bontrack.accounts.roles import Perm
from bontrack.audit.models import AuditEvent
from bontrack.core.models import OutboxMessage
from bontrack.factories import PatientFactory, signed_session
from bontrack.treatments.choices import AdverseEffectKind
from bontrack.treatments.models import AdverseEffect
from clinic_rules.data import rule
from conftest import permission_matrix, portal_matrix

from .conftest import signed

pytestmark = pytest.mark.django_db

PHONE = "+1-555-010-2000"
URGENT = list(rule("BTX-SPREAD-URGENT-SYMPTOMS").strs("symptoms"))
REPORT_PAGE = portal_matrix()
URGENT_LIST = permission_matrix(
    Perm.ADVERSE_EFFECT_REVIEW, other_clinic_staff=200, other_practice_staff=200
)
URGENT_REVIEW = permission_matrix(Perm.ADVERSE_EFFECT_REVIEW, ok=302)


@pytest.fixture
def clinic_contact(world):
    world.clinic.phone = PHONE
    world.clinic.contact_email = "team@a1.example.org"
    world.clinic.save()
    return world.clinic


def _changes() -> tuple[int, ...]:
    return (
        AuditEvent.objects.exclude(action="view").exclude(outcome="denied").count(),
        AdverseEffect.objects.count(),
        AdverseEffect.objects.filter(urgent_reviewed_at__isnull=False).count(),
        OutboxMessage.objects.count(),
    )


def test_the_urgent_symptoms_come_from_clinic_rules_with_their_source():
    r = rule("BTX-SPREAD-URGENT-SYMPTOMS")
    assert r.confirmed and "S27b" in r.source
    assert set(URGENT) == {
        "dysphagia",
        "speech_difficulty",
        "breathing_difficulty",
        "generalized_weakness",
    }


# ---- staff ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", URGENT)
def test_staff_recording_an_urgent_symptom_see_the_advice_at_once_and_it_is_flagged(
    world, nurse, clinic_contact, kind
):
    session = signed(nurse, world.patient)
    client = world.client("nurse")
    response = client.post(f"/treatments/sessions/{session.pk}/adverse-effects/", {"kind": kind})
    assert response.status_code == 302  # then a page of its own (a reload records nothing twice)
    body = client.get(response["Location"]).content.decode()
    assert "Urgent: a physician must review this today" in body and PHONE in body
    assert "<!doctype html>" in body
    effect = AdverseEffect.objects.get(session=session)
    assert effect.urgent and effect.urgent_reviewed_at is None
    event = AuditEvent.objects.get(object_type="treatments.adverseeffect", action="create")
    assert event.changes["urgent"] == [None, True] and "urgent" in event.summary
    message = OutboxMessage.objects.get(dedupe_key=f"urgent-effect:{effect.pk}")
    assert message.to == "team@a1.example.org"
    assert world.patient.last_name not in message.body  # no patient detail in the email


def test_a_drooping_eyelid_is_recorded_without_the_urgent_flag(world, nurse, clinic_contact):
    session = signed(nurse, world.patient)
    response = world.client("nurse").post(
        f"/treatments/sessions/{session.pk}/adverse-effects/", {"kind": "ptosis"}
    )
    assert response.status_code == 302
    assert not AdverseEffect.objects.get(session=session).urgent
    assert not OutboxMessage.objects.filter(dedupe_key__startswith="urgent-effect:").exists()


def test_without_a_clinic_contact_address_no_notification_is_queued(world, nurse):
    session = signed(nurse, world.patient)
    world.client("nurse").post(
        f"/treatments/sessions/{session.pk}/adverse-effects/", {"kind": "dysphagia"}
    )
    assert AdverseEffect.objects.get(session=session).urgent
    assert not OutboxMessage.objects.filter(dedupe_key__startswith="urgent-effect:").exists()


def test_the_chart_panel_shows_the_urgent_badge(world, nurse, clinic_contact):
    session = signed(nurse, world.patient)
    world.client("nurse").post(
        f"/treatments/sessions/{session.pk}/adverse-effects/", {"kind": "breathing_difficulty"}
    )
    panel = world.client("nurse").get(f"/treatments/patients/{world.patient.pk}/panel/")
    assert "Urgent: physician review today" in panel.content.decode()


# ---- the portal -------------------------------------------------------------------------------


@pytest.mark.parametrize("persona,expected", REPORT_PAGE.items())
def test_the_report_page_over_every_persona(world, persona, expected):
    signed_session(world.users["nurse"], world.patient, timezone.now() - timedelta(days=70))
    response = world.client(persona).get("/portal/side-effects/")
    assert response.status_code == expected
    if expected == 200:
        assert "Report a side effect" in response.content.decode()


def test_a_patient_reports_a_side_effect_long_after_the_check_in_window(world, clinic_contact):
    session = signed_session(
        world.users["nurse"], world.patient, timezone.now() - timedelta(days=70)
    )
    client = world.client("patient")
    assert client.get("/portal/checkins/").status_code == 200  # the check-in window has closed
    response = client.post(
        "/portal/side-effects/", {"kinds": ["neck_pain"], "comment": "Since Monday"}
    )
    assert response.status_code == 302
    effect = AdverseEffect.objects.get(patient=world.patient)
    assert (effect.session_id, effect.kind, effect.reported_by) == (
        session.pk,
        "neck_pain",
        "patient",
    )
    assert effect.detail == "Since Monday" and not effect.urgent
    assert AuditEvent.objects.filter(
        object_type="treatments.adverseeffect", action="create", actor=world.users["patient"]
    ).exists()
    thanks = client.get(response["Location"]).content.decode()
    assert "Thank you" in thanks and "Get help now" not in thanks
    assert not OutboxMessage.objects.filter(dedupe_key__startswith="urgent-effect:").exists()


@pytest.mark.parametrize("urgent_kind", URGENT)
def test_a_patient_reporting_an_urgent_symptom_gets_urgent_advice_and_the_clinic_phone(
    world, clinic_contact, urgent_kind
):
    signed_session(world.users["nurse"], world.patient, timezone.now() - timedelta(days=5))
    client = world.client("patient")
    response = client.post("/portal/side-effects/", {"kinds": ["ptosis", urgent_kind]})
    assert response.status_code == 302
    thanks = client.get(response["Location"]).content.decode()
    assert "Get help now" in thanks and "call 911" in thanks and PHONE in thanks
    label = str(dict(AdverseEffectKind.choices)[urgent_kind]).lower()
    assert label in thanks
    rows = {e.kind: e.urgent for e in AdverseEffect.objects.filter(patient=world.patient)}
    assert rows == {urgent_kind: True, "ptosis": False}
    assert OutboxMessage.objects.filter(dedupe_key__startswith="urgent-effect:").count() == 1


@pytest.mark.parametrize(
    "data,error",
    [
        ({}, "Tick what you have noticed."),
        ({"kinds": ["other"]}, "Tell us what you noticed."),
        ({"kinds": ["nausea_made_up"]}, "Select a valid choice"),
    ],
)
def test_an_invalid_report_is_a_form_error_and_changes_nothing(world, data, error):
    signed_session(world.users["nurse"], world.patient, timezone.now() - timedelta(days=5))
    before = _changes()
    response = world.client("patient").post("/portal/side-effects/", data)
    assert response.status_code == 422
    assert error in response.content.decode()
    assert "<!doctype html>" in response.content.decode()
    assert _changes() == before


def test_a_patient_without_a_treatment_is_told_to_call_and_nothing_is_recorded(
    world, clinic_contact
):
    before = _changes()
    client = world.client("patient")
    page = client.get("/portal/side-effects/").content.decode()
    assert "no treatment on file" in page and PHONE in page
    response = client.post("/portal/side-effects/", {"kinds": ["dysphagia"]})
    assert response.status_code == 422
    assert _changes() == before


def test_a_patient_cannot_open_another_patients_report(world):
    signed_session(world.users["nurse"], world.other_patient, timezone.now() - timedelta(days=5))
    world.client("other_patient").post("/portal/side-effects/", {"kinds": ["dysphagia"]})
    effect = AdverseEffect.objects.get()
    assert (
        world.client("patient").get(f"/portal/side-effects/{effect.pk}/reported/").status_code
        == 404
    )


def test_the_check_in_with_trouble_swallowing_shows_urgent_advice(world, nurse, clinic_contact):
    session = signed(nurse, world.patient, performed_at=timezone.now() - timedelta(days=15))
    client = world.client("patient")
    response = client.post(f"/portal/checkins/{session.pk}/", {"kinds": ["dysphagia"]})
    assert response.status_code == 302
    done = client.get(response["Location"]).content.decode()
    assert "Get help now" in done and PHONE in done
    assert AdverseEffect.objects.get(session=session).urgent
    assert OutboxMessage.objects.filter(dedupe_key__startswith="urgent-effect:").count() == 1


# ---- the physician's same-day review ----------------------------------------------------------


def _urgent(world, patient=None, actor="nurse"):
    from bontrack.treatments.actions import follow_up

    patient = patient or world.patient
    user = world.users[actor]
    session = signed_session(user, patient, timezone.now() - timedelta(days=10))
    return follow_up.record_adverse_effect(actor=user, session=session, kind="generalized_weakness")


@pytest.mark.parametrize("persona,expected", URGENT_LIST.items())
def test_the_urgent_list_over_every_persona(world, persona, expected):
    _urgent(world)
    response = world.client(persona).get("/treatments/adverse-effects/urgent/")
    assert response.status_code == expected
    if expected == 200:
        body = response.content.decode()
        mine = persona == "physician"
        assert (world.patient.last_name in body) is mine
        assert ("1 to review today" in body) is mine


def test_the_list_shows_only_the_physicians_scope_and_the_nav_links_it(world):
    _urgent(world)
    elsewhere = PatientFactory(clinic=world.other_clinic, last_name="Elsewhere")
    from bontrack.patients.models import Condition

    Condition.objects.create(patient=elsewhere, indication="chronic_migraine", icd10_code="G43.709")
    _urgent(world, elsewhere, actor="other_clinic_staff")
    body = world.client("physician").get("/treatments/adverse-effects/urgent/").content.decode()
    assert "Elsewhere" not in body and world.patient.last_name in body
    assert 'href="/treatments/adverse-effects/urgent/"' in body  # the physician's nav
    nurse_page = world.client("nurse").get("/patients/").content.decode()
    assert 'href="/treatments/adverse-effects/urgent/"' not in nurse_page


@pytest.mark.parametrize("persona,expected", URGENT_REVIEW.items())
def test_the_review_over_every_persona(world, persona, expected):
    effect = _urgent(world)
    before = _changes()
    response = world.client(persona).post(
        f"/treatments/adverse-effects/{effect.pk}/urgent-review/", {"note": "Called: fine now"}
    )
    assert response.status_code == expected
    effect.refresh_from_db()
    if expected == 302 and persona != "anonymous":
        assert effect.urgent_reviewed_by == world.users["physician"]
        assert effect.urgent_review_note == "Called: fine now"
        assert AuditEvent.objects.filter(
            object_type="treatments.adverseeffect", action="update", actor=effect.urgent_reviewed_by
        ).exists()
    else:
        assert effect.urgent_reviewed_at is None and _changes() == before


def test_a_second_review_is_refused_and_changes_nothing(world):
    effect = _urgent(world)
    client = world.client("physician")
    url = f"/treatments/adverse-effects/{effect.pk}/urgent-review/"
    assert client.post(url, {"note": ""}).status_code == 302
    before = _changes()
    again = client.post(url, {"note": "again"})
    assert again.status_code == 422 and "already been reviewed" in again.content.decode()
    assert _changes() == before
    body = client.get("/treatments/adverse-effects/urgent/").content.decode()
    assert "0 to review today" in body and "Recently reviewed" in body


RECORDED = permission_matrix(Perm.SESSION_VIEW)


@pytest.mark.parametrize("persona,expected", RECORDED.items())
def test_the_urgent_advice_page_over_every_persona(world, persona, expected):
    effect = _urgent(world)
    response = world.client(persona).get(f"/treatments/adverse-effects/{effect.pk}/")
    assert response.status_code == expected
    if expected == 200:
        assert "Urgent: a physician must review this today" in response.content.decode()
