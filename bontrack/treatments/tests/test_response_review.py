"""The response review after cycle two: stored with its rule-set version; the next plan follows."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from bontrack.audit.models import AuditEvent
from bontrack.treatments.actions import charting, response_review
from bontrack.treatments.models import ResponseReview, TreatmentPlan

from .conftest import signed

pytestmark = pytest.mark.django_db


def _two_cycles(world):
    nurse = world.users["nurse"]
    signed(nurse, world.patient, performed_at=timezone.now() - timedelta(days=120))
    signed(nurse, world.patient, performed_at=timezone.now() - timedelta(days=30))


def test_the_review_waits_for_the_second_cycle(world, nurse, physician):
    signed(nurse, world.patient, performed_at=timezone.now() - timedelta(days=30))
    with pytest.raises(ValidationError) as exc:
        response_review.record_response_review(
            actor=physician, patient=world.patient, decision="continue"
        )
    assert "decision" in exc.value.message_dict
    assert not ResponseReview.objects.exists()


def test_continue_stores_the_response_result_and_rule_set(world, physician):
    _two_cycles(world)
    review = response_review.record_response_review(
        actor=physician, patient=world.patient, decision="continue"
    )
    assert review.cycles == 2 and review.response_rule_set == "ahs"
    assert review.rule_set.startswith("response@")
    assert len(review.result["cycles"]) == 2
    assert AuditEvent.objects.filter(
        object_type="treatments.responsereview", object_id=str(review.pk), action="create"
    ).exists()


def test_adjust_needs_what_and_why_and_the_next_plan_applies_it(world, physician):
    _two_cycles(world)
    with pytest.raises(ValidationError):
        response_review.record_response_review(
            actor=physician, patient=world.patient, decision="adjust"
        )
    review = response_review.record_response_review(
        actor=physician,
        patient=world.patient,
        decision="adjust",
        reason="Persistent occipital pain: add follow-the-pain sites",
        adjustments=[{"muscle": "occipitalis", "side": "left", "sites": 4, "units": 20}],
    )
    plan = TreatmentPlan.objects.get(active=True)
    assert plan.review == review
    line = plan.lines.get(muscle="occipitalis", side="left")
    assert (line.sites, line.units, line.follow_the_pain) == (4, Decimal(20), True)
    assert sum(ln.units for ln in plan.lines.all()) == Decimal(160)
    nxt = charting.create_session(actor=world.users["nurse"], patient=world.patient)
    assert nxt.plan == plan and nxt.injections.count() == 32


def test_stop_closes_the_plan(world, physician):
    _two_cycles(world)
    response_review.record_response_review(
        actor=physician, patient=world.patient, decision="stop", reason="Under 30% reduction"
    )
    assert not TreatmentPlan.objects.filter(active=True).exists()
