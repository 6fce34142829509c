"""Booking an appointment costs the same number of queries on an empty or a busy calendar."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bontrack.factories import PatientFactory, booked_appointment
from bontrack.scheduling.models import Appointment
from bontrack.scheduling.tests.conftest import NOW

pytestmark = pytest.mark.django_db

TUESDAY_9AM = datetime(2026, 6, 2, 13, 0, tzinfo=UTC)  # 09:00 in New York


def _book(sched, client, patient, starts_at: datetime) -> int:
    body = {
        "patient_id": patient.pk,
        "type_id": sched.type("consult").pk,
        "starts_at": starts_at.isoformat(),
        "clinician_id": sched.world.users["physician"].pk,
    }
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(
            "/api/v1/scheduling/appointments", json.dumps(body), content_type="application/json"
        )
    assert response.status_code == 201, response.content
    return len(ctx.captured_queries)


@time_machine.travel(NOW, tick=False)
def test_booking_costs_the_same_on_an_empty_or_a_busy_calendar(sched):
    client = sched.world.client("front_desk")
    _book(sched, client, sched.world.patient, TUESDAY_9AM)  # warm-up
    small = _book(sched, client, sched.world.other_patient, TUESDAY_9AM + timedelta(hours=1))
    # A busy calendar: thirty bookings through the booking service on the next five weekdays.
    desk = sched.world.users["front_desk"]
    for i in range(30):
        day, slot = divmod(i, 6)
        booked_appointment(
            desk,
            PatientFactory(clinic=sched.clinic),
            sched.type("consult"),
            TUESDAY_9AM + timedelta(days=(1, 2, 3, 6, 7)[day], hours=slot),
            clinician=sched.world.users["physician"],
        )
    third = PatientFactory(clinic=sched.clinic)
    large = _book(sched, client, third, TUESDAY_9AM + timedelta(hours=2))
    assert large == small
    assert Appointment.objects.count() == 33
