"""Warnings must be acknowledged on the server: the sign button and the form's checkbox are not enough."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError

from bontrack.audit.models import AuditEvent
from bontrack.treatments.actions import charting, signing
from bontrack.treatments.actions import findings as findings_actions
from bontrack.treatments.models import FindingDecision, TreatmentSession

from .conftest import acknowledge_all, chart

pytestmark = pytest.mark.django_db

RULE = "BTX-CM-PREEMPT-SITES"


def _with_a_warning(world, nurse) -> TreatmentSession:
    session = chart(nurse, world.patient)
    charting.update_injection(
        actor=nurse, injection=session.injections.get(muscle="procerus"), status="skipped"
    )
    assert any(f["rule_id"] == RULE for f in findings_actions.current_findings(session)["findings"])
    return session


def test_signing_is_refused_while_a_warning_is_unacknowledged(world, nurse):
    session = _with_a_warning(world, nurse)
    with pytest.raises(ValidationError) as exc:
        signing.sign_session(actor=nurse, session=session)
    assert any(m.startswith("Acknowledge this warning") for m in exc.value.message_dict["findings"])
    session.refresh_from_db()
    assert session.status == "draft"


def test_posting_the_sign_form_with_an_unacknowledged_warning_is_a_422(world, nurse):
    session = _with_a_warning(world, nurse)
    before = AuditEvent.objects.exclude(action="view").count()
    response = world.client("nurse").post(
        f"/treatments/sessions/{session.pk}/sign/", {"confirm": "yes"}
    )
    assert response.status_code == 422
    assert "Acknowledge this warning before signing: " in response.content.decode()
    assert TreatmentSession.objects.get(pk=session.pk).status == "draft"
    assert AuditEvent.objects.exclude(action="view").count() == before


def test_the_api_refuses_to_sign_with_an_unacknowledged_warning(world, nurse):
    session = _with_a_warning(world, nurse)
    response = world.client("nurse").post(f"/api/v1/treatments/sessions/{session.pk}/sign")
    assert response.status_code == 422
    assert "findings" in response.json()["errors"]


def test_the_acknowledge_form_without_the_ticked_box_acknowledges_nothing(world, nurse):
    session = _with_a_warning(world, nurse)
    response = world.client("nurse").post(
        f"/treatments/sessions/{session.pk}/decisions/", {"rule_id": RULE}
    )
    assert response.status_code == 422
    assert not FindingDecision.objects.exists()
    ticked = world.client("nurse").post(
        f"/treatments/sessions/{session.pk}/decisions/", {"rule_id": RULE, "ack": "1"}
    )
    assert ticked.status_code == 200
    decision = FindingDecision.objects.get(session=session, rule_id=RULE)
    assert decision.kind == "acknowledge" and decision.decided_by == nurse


def test_a_warning_that_changes_after_its_acknowledgement_must_be_acknowledged_again(world, nurse):
    session = _with_a_warning(world, nurse)
    acknowledge_all(nurse, session)
    # Another PREEMPT site skipped: the same rule now warns about two muscles.
    charting.update_injection(
        actor=nurse,
        injection=session.injections.filter(muscle="frontalis").first(),
        status="skipped",
    )
    with pytest.raises(ValidationError) as exc:
        signing.sign_session(actor=nurse, session=session)
    assert any(m.startswith("Acknowledge this warning") for m in exc.value.message_dict["findings"])
    page = world.client("nurse").get(f"/treatments/sessions/{session.pk}/").content.decode()
    assert "acknowledge it again" in page
    findings_actions.decide_finding(actor=nurse, session=session, rule_id=RULE)
    assert FindingDecision.objects.filter(session=session, rule_id=RULE).count() == 1
    assert AuditEvent.objects.filter(summary__startswith=f"Acknowledged {RULE} again").exists()
    signing.sign_session(actor=nurse, session=session)
    assert TreatmentSession.objects.get(pk=session.pk).status == "awaiting"  # nurse, no order


def test_an_unchanged_acknowledged_warning_cannot_be_acknowledged_twice(world, nurse):
    session = _with_a_warning(world, nurse)
    acknowledge_all(nurse, session)
    response = world.client("nurse").post(
        f"/api/v1/treatments/sessions/{session.pk}/decisions",
        data=json.dumps({"rule_id": RULE}),
        content_type="application/json",
    )
    assert response.status_code == 409
