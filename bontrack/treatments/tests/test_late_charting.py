"""A session charted late, or amended, is checked against doses already on file after its date."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bontrack.audit.models import AuditEvent
from bontrack.treatments.actions import amendments, charting, dose_guard, signing
from bontrack.treatments.actions import findings as findings_actions
from bontrack.treatments.actions import vials as vials_actions
from bontrack.treatments.models import Injection, TreatmentSession

from .conftest import acknowledge_all, chart, signed, stock

pytestmark = pytest.mark.django_db


def _now():
    return timezone.now().replace(microsecond=0)


def _set_units(actor, session: TreatmentSession, units: Decimal) -> Injection:
    site = session.injections.get(muscle="trapezius", side="right", position=30)
    return charting.update_injection(actor=actor, injection=site, units=units)


def test_a_late_charted_session_is_blocked_by_a_later_dose_on_file(world, nurse):
    # 155 U signed today; then a session from 30 days ago is charted: both share every 84-day
    # window that contains the late session, so 250 U there would make 405 U (over 400 U).
    signed(nurse, world.patient, performed_at=_now() - timedelta(hours=1))
    late = chart(nurse, world.patient, performed_at=_now() - timedelta(days=30))
    site = late.injections.get(muscle="trapezius", side="right", position=30)
    before = AuditEvent.objects.count()
    with pytest.raises(dose_guard.Blocked) as exc:
        charting.update_injection(actor=nurse, injection=site, units=Decimal(100))
    blocks = [f for f in exc.value.blocks if f["rule_id"] == "BTX-CUM-ADULT-400"]
    assert blocks and "405 U" in blocks[0]["message"]
    site.refresh_from_db()
    assert site.units == Decimal(5)
    assert AuditEvent.objects.count() == before
    # Exactly 400 U across the two sessions is within the limit and is saved.
    _set_units(nurse, late, Decimal(95))
    result = findings_actions.current_findings(late)
    assert not [f for f in result["findings"] if f["severity"] == "block"]
    assert result["totals"]["window_units"] == 400


def test_an_amendment_is_checked_against_the_doses_charted_after_it(world, nurse):
    performed = _now() - timedelta(days=30)
    old = chart(nurse, world.patient, performed_at=performed)
    _set_units(nurse, old, Decimal(95))  # 245 U
    extra = stock(world.patient.clinic, vials=1, lot_number="EXTRA1")[0]
    vials_actions.open_vial(
        actor=nurse,
        session=old,
        vial=extra,
        diluent_ml=Decimal("4"),
        reconstituted_at=performed - timedelta(minutes=20),
    )
    acknowledge_all(nurse, old)
    old = signing.sign_session(actor=nurse, session=old)
    later = signed(nurse, world.patient, performed_at=_now() - timedelta(hours=1))  # 155 U
    assert later.totals["window_units"] == 400
    amendment = amendments.amend_session(actor=nurse, session=old, reason="Correct a site")
    site = amendment.injections.get(muscle="trapezius", side="right", position=30)
    before = AuditEvent.objects.count()
    with pytest.raises(dose_guard.Blocked) as exc:
        charting.update_injection(actor=nurse, injection=site, units=Decimal(96))
    assert any(f["rule_id"] == "BTX-CUM-ADULT-400" for f in exc.value.blocks)
    site.refresh_from_db()
    assert site.units == Decimal(95)
    assert AuditEvent.objects.count() == before
    # The amendment does not count the session it corrects: unchanged, it is within the limit.
    result = findings_actions.current_findings(amendment)
    assert not [f for f in result["findings"] if f["severity"] == "block"]
    assert result["totals"]["window_units"] == 400
