"""Cycles and follow-up: the portal check-in window, adverse effects, the alert at the next session."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from bontrack.audit.models import AuditEvent
from bontrack.core.errors import Conflict
from bontrack.treatments.actions import follow_up
from bontrack.treatments.models import AdverseEffect, CheckIn

from .conftest import chart, signed

pytestmark = pytest.mark.django_db


def test_the_check_in_opens_two_weeks_after_the_session(world, nurse):
    early = signed(nurse, world.patient, performed_at=timezone.now() - timedelta(days=5))
    assert follow_up.open_checkins(world.patient, timezone.localdate()) == []
    with pytest.raises(ValidationError):
        follow_up.submit_checkin(
            actor=world.users["patient"], patient=world.patient, session=early, kinds=[]
        )


def test_a_patient_reports_trouble_swallowing_and_it_is_linked_to_the_session(world, nurse):
    session = signed(nurse, world.patient, performed_at=timezone.now() - timedelta(days=20))
    assert follow_up.open_checkins(world.patient, timezone.localdate()) == [session]
    follow_up.submit_checkin(
        actor=world.users["patient"],
        patient=world.patient,
        session=session,
        kinds=["dysphagia", "other"],
        other_detail="Headache on the left",
    )
    effects = AdverseEffect.objects.filter(session=session).order_by("kind")
    assert [(e.kind, e.reported_by, e.status) for e in effects] == [
        ("dysphagia", "patient", "open"),
        ("other", "patient", "open"),
    ]
    assert AuditEvent.objects.filter(object_type="treatments.checkin", action="create").exists()
    assert follow_up.open_checkins(world.patient, timezone.localdate()) == []


def test_a_check_in_with_nothing_to_report_is_recorded(world, nurse):
    session = signed(nurse, world.patient, performed_at=timezone.now() - timedelta(days=15))
    follow_up.submit_checkin(
        actor=world.users["patient"], patient=world.patient, session=session, kinds=[]
    )
    assert CheckIn.objects.get(session=session).none_reported
    assert not AdverseEffect.objects.exists()


def test_an_open_adverse_effect_shows_on_the_next_session_screen(world, nurse):
    earlier = signed(nurse, world.patient, performed_at=timezone.now() - timedelta(days=90))
    follow_up.record_adverse_effect(actor=nurse, session=earlier, kind="ptosis", detail="Left lid")
    assert AuditEvent.objects.filter(
        object_type="treatments.adverseeffect", action="create"
    ).exists()
    draft = chart(nurse, world.patient)
    response = world.client("nurse").get(f"/treatments/sessions/{draft.pk}/")
    assert b"Open adverse effect" in response.content and b"Left lid" in response.content


def test_resolving_an_adverse_effect_is_audited(world, nurse):
    session = signed(nurse, world.patient, performed_at=timezone.now() - timedelta(days=20))
    effect = follow_up.record_adverse_effect(actor=nurse, session=session, kind="neck_pain")
    follow_up.resolve_adverse_effect(actor=nurse, effect=effect, resolution="Settled in a week")
    effect.refresh_from_db()
    assert effect.status == "resolved" and effect.resolved_at is not None
    assert AuditEvent.objects.filter(
        object_type="treatments.adverseeffect", object_id=str(effect.pk), action="update"
    ).exists()
    with pytest.raises(Conflict):
        follow_up.resolve_adverse_effect(actor=nurse, effect=effect)
