"""A clinician, a room and a patient never hold two overlapping appointments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import IntegrityError, transaction

from bontrack.audit.models import AuditEvent
from bontrack.factories import PatientFactory
from bontrack.patients.services import Conflict
from bontrack.scheduling.actions import booking, changes
from bontrack.scheduling.models import Appointment, Status
from bontrack.scheduling.tests.conftest import NOW

pytestmark = pytest.mark.django_db

# Tuesday 2026-06-02 10:00 in New York (EDT, UTC-4).
TEN = datetime(2026, 6, 2, 14, 0, tzinfo=UTC)


def _book(sched, patient, start, clinician="physician", code="consult"):
    return booking.book_appointment(
        actor=sched.world.users["front_desk"],
        clinic=sched.clinic,
        patient=patient,
        appointment_type=sched.type(code),
        starts_at=start,
        clinician=sched.world.users[clinician],
    )


@time_machine.travel(NOW, tick=False)
def test_it_books_a_free_slot_and_audits_it(sched):
    appointment = _book(sched, sched.world.patient, TEN)
    assert appointment.status == Status.BOOKED
    assert appointment.room_id == sched.room.pk
    assert appointment.block_end == appointment.ends_at + timedelta(minutes=5)
    event = AuditEvent.objects.get(action="create", object_type="scheduling.appointment")
    assert event.patient_id == sched.world.patient.pk
    assert event.actor_label == "frontdesk"


@time_machine.travel(NOW, tick=False)
def test_it_refuses_a_second_booking_of_the_same_clinician_slot(sched):
    _book(sched, sched.world.patient, TEN)
    with pytest.raises(Conflict):
        _book(sched, sched.world.other_patient, TEN)
    assert Appointment.objects.count() == 1
    assert AuditEvent.objects.filter(object_type="scheduling.appointment").count() == 1


@time_machine.travel(NOW, tick=False)
def test_it_refuses_an_overlap_within_the_buffer(sched):
    _book(sched, sched.world.patient, TEN)  # 10:00-10:30 + 5 min after
    with pytest.raises(Conflict):
        _book(sched, sched.world.other_patient, TEN + timedelta(minutes=30))


@time_machine.travel(NOW, tick=False)
def test_the_same_patient_cannot_be_in_two_places(sched):
    _book(sched, sched.world.patient, TEN, clinician="physician", code="follow-up-video")
    with pytest.raises(Conflict) as exc:
        _book(sched, sched.world.patient, TEN, clinician="nurse", code="follow-up-video")
    assert exc.value.field == "patient_id"


@time_machine.travel(NOW, tick=False)
def test_one_room_cannot_hold_two_visits(sched):
    # Only one room: the nurse is free but the room is taken.
    _book(sched, sched.world.patient, TEN, clinician="physician", code="follow-up")
    with pytest.raises(Conflict):
        _book(sched, sched.world.other_patient, TEN, clinician="nurse", code="follow-up")


@time_machine.travel(NOW, tick=False)
def test_a_cancelled_appointment_frees_the_slot(sched):
    first = _book(sched, sched.world.patient, TEN)
    changes.cancel_appointment(
        actor=sched.world.users["front_desk"], appointment=first, reason="patient_request"
    )
    second = _book(sched, sched.world.other_patient, TEN)
    assert second.status == Status.BOOKED


@time_machine.travel(NOW, tick=False)
def test_the_database_itself_refuses_an_overlapping_row(sched):
    first = _book(sched, sched.world.patient, TEN)
    other = PatientFactory(clinic=sched.clinic)
    clone = Appointment(
        practice_id=first.practice_id,
        clinic=first.clinic,
        patient=other,
        clinician_id=first.clinician_id,
        appointment_type=first.appointment_type,
        starts_at=first.starts_at + timedelta(minutes=10),
        ends_at=first.ends_at + timedelta(minutes=10),
        block_start=first.starts_at + timedelta(minutes=10),
        block_end=first.ends_at + timedelta(minutes=10),
    )
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        clone.save()
    assert "appt_no_overlap_clinician" in str(exc.value)


@time_machine.travel(NOW, tick=False)
def test_the_database_refuses_moving_a_row_onto_another(sched):
    first = _book(sched, sched.world.patient, TEN)
    second = _book(sched, sched.world.other_patient, TEN + timedelta(hours=1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.filter(pk=second.pk).update(
            starts_at=first.starts_at,
            ends_at=first.ends_at,
            block_start=first.block_start,
            block_end=first.block_end,
        )


@time_machine.travel(NOW, tick=False)
def test_rescheduling_onto_a_taken_slot_is_a_conflict(sched):
    _book(sched, sched.world.patient, TEN)
    second = _book(sched, sched.world.other_patient, TEN + timedelta(hours=1))
    with pytest.raises(Conflict):
        changes.reschedule_appointment(
            actor=sched.world.users["front_desk"],
            appointment=second,
            starts_at=TEN,
            clinician=sched.world.users["physician"],
        )
    second.refresh_from_db()
    assert second.starts_at == TEN + timedelta(hours=1)
