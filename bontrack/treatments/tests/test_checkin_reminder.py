"""Signing queues the portal check-in email for the morning the check-in window opens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from bontrack.scheduling.models import OutboxMessage
from bontrack.treatments import facts
from bontrack.treatments.actions import amendments, charting, follow_up, signing

from .conftest import acknowledge_all, chart, signed

pytestmark = pytest.mark.django_db


def test_signing_queues_the_check_in_email_at_the_start_of_the_window(world, nurse):
    world.patient.email = "pat@example.org"
    world.patient.save(update_fields=["email"])
    session = signed(nurse, world.patient)
    message = OutboxMessage.objects.get(dedupe_key=f"checkin:{session.pk}")
    opens, closes = follow_up.checkin_window(session)
    local = timezone.localtime(message.send_after, facts._zone(session.clinic.time_zone))
    assert local.date() == opens
    assert local.hour == follow_up.CHECKIN_REMINDER_HOUR
    assert (message.channel, message.to, message.patient_id) == (
        "email",
        "pat@example.org",
        world.patient.pk,
    )
    assert f"/portal/checkins/{session.pk}/" in message.body
    assert opens == timezone.localtime(session.performed_at).date() + timedelta(
        days=follow_up.CHECKIN_OPENS_DAYS
    )


def test_a_failed_signature_queues_nothing(world, nurse):
    world.patient.email = "pat@example.org"
    world.patient.save(update_fields=["email"])
    session = chart(nurse, world.patient)
    charting.update_session(actor=nurse, session=session, consent_obtained=False)
    acknowledge_all(nurse, session)
    with pytest.raises(ValidationError):
        signing.sign_session(actor=nurse, session=session)
    assert not OutboxMessage.objects.exists()


def test_no_email_without_an_address_or_after_the_window_closed(world, nurse):
    world.patient.email = ""
    world.patient.save(update_fields=["email"])
    signed(nurse, world.patient)
    world.patient.email = "pat@example.org"
    world.patient.save(update_fields=["email"])
    late = timezone.now() - timedelta(days=follow_up.CHECKIN_CLOSES_DAYS + 2)
    signed(nurse, world.patient, performed_at=late)
    assert not OutboxMessage.objects.exists()


def test_a_session_charted_inside_the_window_sends_at_once(world, nurse):
    world.patient.email = "pat@example.org"
    world.patient.save(update_fields=["email"])
    session = signed(nurse, world.patient, performed_at=timezone.now() - timedelta(days=20))
    message = OutboxMessage.objects.get(dedupe_key=f"checkin:{session.pk}")
    assert message.send_after <= timezone.now()


def test_signing_an_amendment_queues_no_second_email(world, nurse):
    world.patient.email = "pat@example.org"
    world.patient.save(update_fields=["email"])
    original = signed(nurse, world.patient)
    amendment = amendments.amend_session(actor=nurse, session=original, reason="Typo in the note")
    signing.sign_session(actor=nurse, session=amendment)
    assert OutboxMessage.objects.count() == 1
