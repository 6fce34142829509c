"""Signing: warnings acknowledged, consent and vials required, then immutable; amendments."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from bontrack.audit.models import AuditEvent
from bontrack.core.errors import Conflict
from bontrack.treatments.actions import amendments as amendments_actions
from bontrack.treatments.actions import charting, follow_up, signing
from bontrack.treatments.actions import findings as findings_actions
from bontrack.treatments.models import Injection, TreatmentSession, VialUse

from .conftest import chart, signed

pytestmark = pytest.mark.django_db


def test_signing_stores_findings_rule_set_and_settles_the_vial(world, nurse):
    session = signed(nurse, world.patient)
    session.refresh_from_db()
    # The patient has no signed plan (no order): the nurse's signature awaits a physician.
    assert session.status == "awaiting" and session.signed_by == nurse
    assert session.rule_set.startswith("botox-us@")
    assert session.totals["session_units"] == 155
    use = VialUse.objects.select_related("vial").get(session=session)
    assert (use.vial.status, use.units_used, use.units_wasted) == (
        "used",
        Decimal(155),
        Decimal(45),
    )
    assert AuditEvent.objects.filter(
        object_type="treatments.treatmentsession",
        object_id=str(session.pk),
        action="update",
        summary__startswith="Signed",
    ).exists()


def test_signing_needs_consent_and_acknowledged_warnings(world, nurse):
    session = charting.create_session(actor=nurse, patient=world.patient)
    site = session.injections.get(muscle="procerus")
    charting.update_injection(actor=nurse, injection=site, status="skipped")
    with pytest.raises(ValidationError) as exc:
        signing.sign_session(actor=nurse, session=session)
    errors = exc.value.message_dict
    assert "consent_obtained" in errors and "vials" in errors
    assert (
        "Acknowledge this warning before signing: Procerus (midline): 0 of the 1 PREEMPT sites charted."
        in errors["findings"]
    )
    session.refresh_from_db()
    assert session.status == "draft"


def test_a_signed_session_refuses_changes_in_the_service(world, nurse):
    session = signed(nurse, world.patient)
    site = session.injections.first()
    with pytest.raises(Conflict):
        charting.update_injection(actor=nurse, injection=site, units=Decimal(10))
    with pytest.raises(Conflict):
        charting.update_session(actor=nurse, session=session, note="changed")


def test_the_database_refuses_changes_to_a_signed_session(world, nurse):
    session = signed(nurse, world.patient)
    with pytest.raises(DatabaseError), transaction.atomic():
        TreatmentSession.objects.filter(pk=session.pk).update(note="tampered")
    with pytest.raises(DatabaseError), transaction.atomic():
        Injection.objects.filter(session=session).update(units=Decimal(1))
    with pytest.raises(DatabaseError), transaction.atomic():
        Injection.objects.create(session=session, muscle="frontalis", side="left", units=5)


def test_an_amendment_copies_the_session_and_supersedes_it_when_signed(world, nurse):
    original = signed(nurse, world.patient)
    amendment = amendments_actions.amend_session(
        actor=nurse, session=original, reason="Wrong site recorded"
    )
    assert amendment.amends == original and amendment.status == "draft"
    assert amendment.injections.count() == 31
    site = amendment.injections.get(muscle="procerus")
    charting.update_injection(actor=nurse, injection=site, status="skipped")
    for f in findings_actions.current_findings(amendment)["findings"]:
        if (
            f["severity"] == "warn"
            and not amendment.decisions.filter(rule_id=f["rule_id"]).exists()
        ):
            findings_actions.decide_finding(actor=nurse, session=amendment, rule_id=f["rule_id"])
    signing.sign_session(actor=nurse, session=amendment)
    original.refresh_from_db()
    assert original.status == "amended"
    assert list(TreatmentSession.objects.current()) == [amendment]
    assert AuditEvent.objects.filter(summary__startswith="Amendment of session").exists()


def test_a_retreatment_before_twelve_weeks_is_flagged(world, nurse):
    signed(nurse, world.patient, performed_at=timezone.now() - timedelta(days=40))
    session = chart(nurse, world.patient)
    rules = {f["rule_id"] for f in findings_actions.current_findings(session)["findings"]}
    assert "BTX-CM-RETREAT-84" in rules


def test_next_due_is_twelve_weeks_from_the_rules(world, nurse):
    session = signed(nurse, world.patient)
    local = timezone.localtime(session.performed_at).date()
    assert follow_up.next_due(session) == local + timedelta(days=84)
