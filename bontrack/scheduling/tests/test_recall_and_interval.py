"""Recall list from the last signed session; treatments before the minimum interval need a physician."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from bontrack.audit.models import AuditEvent
from bontrack.factories import PatientFactory, signed_session
from bontrack.scheduling import facts, recall
from bontrack.scheduling.actions import booking, changes, waitlist, waitlist_offer
from bontrack.scheduling.models import Appointment
from bontrack.scheduling.tests.conftest import NOW
from clinic_rules.data import rule

pytestmark = pytest.mark.django_db

CM_DAYS = rule("BTX-CM-RETREAT-84").int_("min_days")


def _signed(patient, when, signer):
    """A signed chronic migraine session, charted and signed through the services."""
    return signed_session(signer, patient, when)


def test_the_interval_comes_from_clinic_rules():
    interval = facts.interval_for("chronic_migraine")
    assert interval.min_days == CM_DAYS and interval.target_days == CM_DAYS
    assert interval.confirmed
    assert not facts.interval_for("cervical_dystonia").confirmed  # informs, never refuses


@time_machine.travel(NOW, tick=False)
def test_the_recall_list_sorts_patients_into_due_overdue_booked_and_not_yet_due(sched):
    signer = sched.world.users["physician"]
    today = date(2026, 6, 1)
    overdue = PatientFactory(clinic=sched.clinic, last_name="Overdue")
    due = PatientFactory(clinic=sched.clinic, last_name="Due")
    later = PatientFactory(clinic=sched.clinic, last_name="Later")
    booked = PatientFactory(clinic=sched.clinic, last_name="Booked")
    noon = datetime(2026, 1, 1, 16, tzinfo=UTC)
    _signed(overdue, noon.replace(month=1), signer)  # target in late March
    _signed(due, datetime(2026, 3, 10, 16, tzinfo=UTC), signer)  # target 2026-06-02
    _signed(later, datetime(2026, 5, 20, 16, tzinfo=UTC), signer)
    _signed(booked, datetime(2026, 3, 10, 16, tzinfo=UTC), signer)
    booking.book_appointment(
        actor=sched.world.users["physician"],
        clinic=sched.clinic,
        patient=booked,
        appointment_type=sched.type("treatment"),
        starts_at=datetime(2026, 6, 3, 14, tzinfo=UTC),
        indication="chronic_migraine",
    )
    rows = {r.name.split(",")[0]: r for r in recall.recall_rows(clinic=sched.clinic, today=today)}
    assert rows["Overdue"].status == "overdue"
    assert rows["Due"].status == "due"
    assert rows["Due"].target == date(2026, 3, 10) + timedelta(days=CM_DAYS)
    assert rows["Later"].status == "not_yet_due"
    assert rows["Booked"].status == "booked"


@time_machine.travel(NOW, tick=False)
def test_a_treatment_before_the_minimum_interval_is_refused(sched):
    _signed(
        sched.world.patient, datetime(2026, 4, 1, 15, tzinfo=UTC), sched.world.users["physician"]
    )
    with pytest.raises(ValidationError) as exc:
        booking.book_appointment(
            actor=sched.world.users["nurse"],
            clinic=sched.clinic,
            patient=sched.world.patient,
            appointment_type=sched.type("treatment"),
            starts_at=datetime(2026, 6, 2, 14, tzinfo=UTC),
            indication="chronic_migraine",
        )
    assert "chronic migraine may be re-treated from" in str(exc.value)
    assert "BTX-" not in str(exc.value)  # no rule ID in the message (issue 14 item 7)
    assert not Appointment.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_only_a_physician_may_override_the_interval_and_it_is_audited(sched):
    _signed(
        sched.world.patient, datetime(2026, 4, 1, 15, tzinfo=UTC), sched.world.users["physician"]
    )
    kwargs = {
        "clinic": sched.clinic,
        "patient": sched.world.patient,
        "appointment_type": sched.type("treatment"),
        "starts_at": datetime(2026, 6, 2, 14, tzinfo=UTC),
        "indication": "chronic_migraine",
        "override_reason": "Travelling abroad for three months",
    }
    with pytest.raises(PermissionDenied):
        booking.book_appointment(actor=sched.world.users["nurse"], **kwargs)
    appointment = booking.book_appointment(actor=sched.world.users["physician"], **kwargs)
    assert appointment.interval_override_reason.startswith("Travelling")
    event = AuditEvent.objects.get(object_type="scheduling.appointment", action="create")
    assert event.changes["interval_override"][1]["rule_id"] == "BTX-CM-RETREAT-84"


@time_machine.travel(NOW, tick=False)
def test_a_freed_slot_is_offered_to_the_waitlist_and_the_first_to_confirm_wins(sched):
    from bontrack.scheduling.models import WaitlistOffer

    start = datetime(2026, 6, 2, 14, tzinfo=UTC)
    taken = booking.book_appointment(
        actor=sched.world.users["front_desk"],
        clinic=sched.clinic,
        patient=sched.world.patient,
        appointment_type=sched.type("consult"),
        starts_at=start,
    )
    waiting = [PatientFactory(clinic=sched.clinic) for _ in range(2)]
    for p in waiting:
        waitlist.join_waitlist(
            actor=sched.world.users["front_desk"],
            patient=p,
            appointment_type=sched.type("consult"),
            earliest=date(2026, 6, 1),
            latest=date(2026, 6, 30),
        )
    changes.cancel_appointment(
        actor=sched.world.users["front_desk"], appointment=taken, reason="illness"
    )
    first, second = WaitlistOffer.objects.order_by("id")
    won = waitlist_offer.accept_offer(offer=second, base_url="http://test")
    assert won.patient_id == waiting[1].pk and won.starts_at == start
    from bontrack.patients.services import Conflict

    with pytest.raises(Conflict):
        waitlist_offer.accept_offer(offer=first, base_url="http://test")


@time_machine.travel(NOW, tick=False)
def test_the_offer_link_books_the_first_and_refuses_the_second(sched, client):
    from bontrack.scheduling import links
    from bontrack.scheduling.models import WaitlistOffer

    start = datetime(2026, 6, 2, 14, tzinfo=UTC)
    taken = booking.book_appointment(
        actor=sched.world.users["front_desk"],
        clinic=sched.clinic,
        patient=sched.world.patient,
        appointment_type=sched.type("consult"),
        starts_at=start,
    )
    for p in [PatientFactory(clinic=sched.clinic) for _ in range(2)]:
        waitlist.join_waitlist(
            actor=sched.world.users["front_desk"],
            patient=p,
            appointment_type=sched.type("consult"),
            earliest=date(2026, 6, 1),
            latest=date(2026, 6, 30),
        )
    changes.cancel_appointment(
        actor=sched.world.users["front_desk"], appointment=taken, reason="illness"
    )
    first, second = WaitlistOffer.objects.order_by("id")
    assert client.post(f"/book/offer/{links.offer_token(first.pk)}/").status_code == 302
    assert client.post(f"/book/offer/{links.offer_token(second.pk)}/").status_code == 409
    assert client.get("/book/offer/forged/").status_code == 404
