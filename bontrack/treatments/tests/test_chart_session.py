"""Charting a PREEMPT session: the template, live dose findings, blocks and overrides."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from bontrack.audit.models import AuditEvent
from bontrack.core.errors import Conflict
from bontrack.treatments.actions import charting, dose_guard
from bontrack.treatments.actions import findings as findings_actions
from bontrack.treatments.models import FindingDecision, Injection, TreatmentSession

from .conftest import chart

pytestmark = pytest.mark.django_db


def test_a_new_session_starts_from_the_preempt_template(world, nurse):
    session = charting.create_session(actor=nurse, patient=world.patient)
    rows = list(session.injections.all())
    assert len(rows) == 31
    assert sum(r.units for r in rows) == Decimal(155)
    assert AuditEvent.objects.filter(
        action="create", object_type="treatments.treatmentsession", object_id=str(session.pk)
    ).exists()


def test_the_untouched_template_has_no_blocking_finding(world, nurse):
    session = chart(nurse, world.patient)
    result = findings_actions.current_findings(session)
    assert [f for f in result["findings"] if f["severity"] == "block"] == []
    assert result["totals"]["session_units"] == 155


def test_an_edit_that_creates_a_block_is_not_saved(world, nurse):
    session = chart(nurse, world.patient)
    site = session.injections.get(muscle="trapezius", side="right", position=30)
    before = AuditEvent.objects.count()
    with pytest.raises(dose_guard.Blocked) as exc:
        charting.update_injection(actor=nurse, injection=site, units=Decimal(300))
    assert any(f["rule_id"] == "BTX-CUM-ADULT-400" for f in exc.value.blocks)
    site.refresh_from_db()
    assert site.units == Decimal(5)
    assert AuditEvent.objects.count() == before


def test_a_nurse_cannot_override_a_block(world, nurse):
    session = chart(nurse, world.patient)
    site = session.injections.get(position=30)
    with pytest.raises(PermissionDenied):
        charting.update_injection(
            actor=nurse, injection=site, units=Decimal(300), override_reason="I insist"
        )
    assert not FindingDecision.objects.exists()


def test_a_physician_override_with_a_reason_saves_the_edit_and_is_audited(world, nurse, physician):
    session = chart(nurse, world.patient)
    site = session.injections.get(position=30)
    charting.update_injection(
        actor=physician, injection=site, units=Decimal(300), override_reason="Documented need"
    )
    site.refresh_from_db()
    assert site.units == Decimal(300)
    decision = FindingDecision.objects.get(session=session, rule_id="BTX-CUM-ADULT-400")
    assert decision.reason == "Documented need" and decision.decided_by == physician
    assert AuditEvent.objects.filter(
        object_type="treatments.findingdecision", object_id=str(decision.pk), action="create"
    ).exists()
    assert AuditEvent.objects.filter(
        object_type="treatments.injection", object_id=str(site.pk), action="update"
    ).exists()


def test_a_follow_the_pain_addition_is_reported_by_the_rules(world, nurse):
    session = chart(nurse, world.patient)
    charting.add_injection(actor=nurse, session=session, muscle="temporalis", side="left")
    result = findings_actions.current_findings(session)
    assert any(f["rule_id"] == "BTX-CM-FTP-USED" for f in result["findings"])
    assert Injection.objects.filter(session=session).count() == 32
    assert AuditEvent.objects.filter(object_type="treatments.injection", action="create").exists()


def test_a_skipped_site_is_a_protocol_deviation_warning(world, nurse):
    session = chart(nurse, world.patient)
    site = session.injections.get(muscle="procerus")
    charting.update_injection(actor=nurse, injection=site, status="skipped")
    result = findings_actions.current_findings(session)
    warns = [f for f in result["findings"] if f["severity"] == "warn"]
    assert any(f["rule_id"] == "BTX-CM-PREEMPT-SITES" for f in warns)


def test_only_one_draft_session_per_patient(world, nurse):
    charting.create_session(actor=nurse, patient=world.patient)
    with pytest.raises(Conflict):
        charting.create_session(actor=nurse, patient=world.patient)
    assert TreatmentSession.objects.count() == 1
