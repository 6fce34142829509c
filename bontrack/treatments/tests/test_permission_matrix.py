"""Who may read and change sessions, reviews and check-ins, over every persona; a denial changes nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from bontrack.accounts.roles import Perm
from bontrack.audit.models import AuditEvent
from bontrack.patients.models import PatientFlag
from bontrack.treatments.actions import findings as findings_actions
from bontrack.treatments.models import (
    AdverseEffect,
    FindingDecision,
    Injection,
    ResponseReview,
    TreatmentSession,
)
from conftest import permission_matrix, portal_matrix

from .conftest import chart, signed

pytestmark = pytest.mark.django_db

READ = permission_matrix(Perm.SESSION_VIEW)
CHART = permission_matrix(Perm.SESSION_CHART)
OVERRIDE = permission_matrix(Perm.SESSION_OVERRIDE_BLOCK)
SIGN = permission_matrix(Perm.SESSION_SIGN, ok=302)
REVIEW = permission_matrix(Perm.RESPONSE_REVIEW, ok=302)
API_READ = permission_matrix(Perm.SESSION_VIEW, api=True)
API_SIGN = permission_matrix(Perm.SESSION_SIGN, api=True)
API_REVIEW = permission_matrix(Perm.RESPONSE_REVIEW, ok=201, api=True)
PORTAL = portal_matrix() | {"other_patient": 404}  # another patient's session is not found


def _changes() -> tuple[int, ...]:
    return (
        AuditEvent.objects.exclude(action="view").exclude(outcome="denied").count(),
        FindingDecision.objects.count(),
        TreatmentSession.objects.current().count(),
        ResponseReview.objects.count(),
        AdverseEffect.objects.count(),
    )


def _ready_draft(world):
    session = chart(world.users["nurse"], world.patient)
    for f in findings_actions.current_findings(session)["findings"]:
        if f["severity"] == "warn":
            findings_actions.decide_finding(
                actor=world.users["nurse"], session=session, rule_id=f["rule_id"]
            )
    return session


def _assert_denial_changed_nothing(expected: int, before: tuple[int, ...]) -> None:
    if expected in (302, 403, 404, 401) and expected != 302:
        assert _changes() == before


@pytest.mark.parametrize("persona,expected", READ.items())
def test_reading_the_session_screen(world, persona, expected):
    session = chart(world.users["nurse"], world.patient)
    response = world.client(persona).get(f"/treatments/sessions/{session.pk}/")
    assert response.status_code == expected
    viewed = AuditEvent.objects.filter(action="view", summary=f"Viewed session {session.pk}")
    assert viewed.exists() == (expected == 200)


@pytest.mark.parametrize("persona,expected", READ.items())
def test_downloading_the_procedure_note_pdf(world, persona, expected):
    session = signed(world.users["nurse"], world.patient)
    response = world.client(persona).get(f"/treatments/sessions/{session.pk}/note.pdf")
    assert response.status_code == expected
    if expected == 200:
        assert response.content.startswith(b"%PDF")


@pytest.mark.parametrize("persona,expected", CHART.items())
def test_editing_a_site(world, persona, expected):
    session = chart(world.users["nurse"], world.patient)
    site = session.injections.get(muscle="procerus")
    before = _changes()
    response = world.client(persona).post(
        f"/treatments/sessions/{session.pk}/sites/{site.pk}/save/",
        {"units": "5", "status": "skipped"},
    )
    assert response.status_code == expected
    skipped = Injection.objects.get(pk=site.pk).status == "skipped"
    assert skipped == (expected == 200)
    if expected != 200:
        assert _changes() == before


@pytest.mark.parametrize("persona,expected", OVERRIDE.items())
def test_overriding_a_block(world, persona, expected):
    session = chart(world.users["nurse"], world.patient)
    PatientFlag.objects.create(
        patient=world.patient, flag="botulinum_hypersensitivity", noted_on=timezone.localdate()
    )
    before = _changes()
    response = world.client(persona).post(
        f"/treatments/sessions/{session.pk}/decisions/",
        {
            "rule_id": "BTX-CONTRA-HYPERSENSITIVITY",
            "reason": "Reaction was to another product",
            "confirm": "1",
        },
    )
    assert response.status_code == expected
    made = FindingDecision.objects.filter(rule_id="BTX-CONTRA-HYPERSENSITIVITY").exists()
    assert made == (expected == 200)
    if expected != 200:
        assert _changes() == before


@pytest.mark.parametrize("persona,expected", SIGN.items())
def test_signing(world, persona, expected):
    session = _ready_draft(world)
    before = _changes()
    response = world.client(persona).post(
        f"/treatments/sessions/{session.pk}/sign/", {"confirm": "yes"}
    )
    assert response.status_code == expected
    session.refresh_from_db()
    given = session.status in ("signed", "awaiting")
    assert given == (expected == 302 and persona in ("physician", "nurse"))
    if not given:
        assert _changes() == before


@pytest.mark.parametrize("persona,expected", REVIEW.items())
def test_recording_a_response_review(world, persona, expected):
    nurse = world.users["nurse"]
    signed(nurse, world.patient, performed_at=timezone.now() - timedelta(days=120))
    signed(nurse, world.patient, performed_at=timezone.now() - timedelta(days=30))
    before = _changes()
    response = world.client(persona).post(
        f"/treatments/patients/{world.patient.pk}/review/",
        {"decision": "continue", "reason": ""},
    )
    assert response.status_code == expected
    assert ResponseReview.objects.exists() == (expected == 302 and persona == "physician")
    if not ResponseReview.objects.exists():
        assert _changes() == before


@pytest.mark.parametrize("persona,expected", API_READ.items())
def test_api_reading_a_session(world, persona, expected):
    session = chart(world.users["nurse"], world.patient)
    response = world.client(persona).get(f"/api/v1/treatments/sessions/{session.pk}")
    assert response.status_code == expected
    if expected == 200:
        assert len(response.json()["injections"]) == 31


@pytest.mark.parametrize("persona,expected", API_SIGN.items())
def test_api_signing(world, persona, expected):
    session = _ready_draft(world)
    before = _changes()
    response = world.client(persona).post(f"/api/v1/treatments/sessions/{session.pk}/sign")
    assert response.status_code == expected
    if expected == 200:
        # A physician's own signature is final; a nurse's, without an order, awaits a physician.
        assert response.json()["status"] == ("signed" if persona == "physician" else "awaiting")
    else:
        assert _changes() == before


@pytest.mark.parametrize("persona,expected", API_REVIEW.items())
def test_api_response_review(world, persona, expected):
    nurse = world.users["nurse"]
    signed(nurse, world.patient, performed_at=timezone.now() - timedelta(days=120))
    signed(nurse, world.patient, performed_at=timezone.now() - timedelta(days=30))
    before = _changes()
    response = world.client(persona).post(
        f"/api/v1/treatments/patients/{world.patient.pk}/response-reviews",
        data=json.dumps({"decision": "stop", "reason": "No meaningful change"}),
        content_type="application/json",
    )
    assert response.status_code == expected
    if expected != 201:
        assert _changes() == before


@pytest.mark.parametrize("persona,expected", PORTAL.items())
def test_the_portal_check_in(world, persona, expected):
    session = signed(
        world.users["nurse"], world.patient, performed_at=timezone.now() - timedelta(days=20)
    )
    before = _changes()
    response = world.client(persona).post(
        f"/portal/checkins/{session.pk}/", {"kinds": ["ptosis"], "comment": ""}
    )
    expected_post = 302 if expected == 200 else expected
    assert response.status_code == expected_post
    made = AdverseEffect.objects.filter(session=session, kind="ptosis", reported_by="patient")
    assert made.exists() == (persona == "patient")
    if persona != "patient":
        assert _changes() == before
