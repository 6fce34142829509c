"""The day at the desk: confirmation with a reason before cancel and no-show, a success message
after each action, a compact and printable day list, clinicians' names in pickers, and "outside
opening hours" told apart from "taken"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from bontrack.audit.models import AuditEvent
from bontrack.patients.services import Conflict
from bontrack.scheduling.actions import booking
from bontrack.scheduling.models import Appointment
from bontrack.scheduling.tests.conftest import NOW

pytestmark = pytest.mark.django_db
TEN = datetime(2026, 6, 2, 14, 0, tzinfo=UTC)  # Tuesday 10:00 in New York


def _book(sched, when=TEN, patient=None):
    return booking.book_appointment(
        actor=sched.world.users["front_desk"],
        clinic=sched.clinic,
        patient=patient or sched.world.patient,
        appointment_type=sched.type("consult"),
        starts_at=when,
    )


def _changes():
    return AuditEvent.objects.exclude(outcome="denied").exclude(action="view").count()


@time_machine.travel(NOW, tick=False)
def test_cancel_asks_for_a_reason_on_a_confirmation_page_then_says_it_is_done(sched):
    a = _book(sched)
    client = sched.world.client("front_desk")
    url = f"/schedule/appointments/{a.pk}/cancel/"
    page = client.get(url)
    assert page.status_code == 200
    assert "Yes, cancel the appointment" in page.content.decode()
    assert "Patient request" in page.content.decode()
    before = _changes()
    refused = client.post(url, {"reason": ""})
    assert refused.status_code == 422 and "Choose a cancellation reason" in refused.content.decode()
    a.refresh_from_db()
    assert a.status == "booked" and _changes() == before
    done = client.post(url, {"reason": "patient_request", "note": "Called"}, follow=True)
    assert "Cancelled: In-person consultation" in done.content.decode()
    a.refresh_from_db()
    assert a.status == "cancelled" and a.cancel_reason == "patient_request"


@time_machine.travel(NOW, tick=False)
def test_no_show_is_confirmed_with_its_reason(sched):
    a = _book(sched)
    client = sched.world.client("front_desk")
    url = f"/schedule/appointments/{a.pk}/no_show/"
    assert "Yes, record the no-show" in client.get(url).content.decode()
    with time_machine.travel(TEN + timedelta(minutes=20), tick=False):
        client = sched.world.client("front_desk")
        refused = client.post(url, {"reason": ""})
        assert refused.status_code == 422
        done = client.post(url, {"reason": "forgot"}, follow=True)
    assert "No-show recorded" in done.content.decode()
    a.refresh_from_db()
    assert a.status == "no_show" and a.no_show_reason == "forgot"


@time_machine.travel(NOW, tick=False)
def test_the_day_list_is_compact_printable_and_names_clinicians(sched):
    a = _book(sched)
    page = sched.world.client("front_desk").get(
        f"/schedule/?clinic={sched.clinic.pk}&date=2026-06-02"
    )
    html = page.content.decode()
    assert 'name="reason"' not in html  # reasons live on the confirmation page, not per row
    assert f"/schedule/appointments/{a.pk}/cancel/" in html
    assert "desk.css" in html and "data-print" in html
    # The day's check-in waits for the day: tomorrow's row offers readiness, not check-in
    assert "Check in…" not in html and "Readiness" in html
    physician = sched.world.users["physician"]
    move = sched.world.client("front_desk").get(f"/schedule/appointments/{a.pk}/move/")
    assert f">{physician.get_full_name()}</option>" in move.content.decode()
    assert f">{physician.username}</option>" not in move.content.decode()


@time_machine.travel(NOW, tick=False)
def test_staff_are_told_outside_opening_hours_apart_from_taken(sched):
    _book(sched)
    other = sched.world.other_patient
    before = Appointment.objects.count()
    with pytest.raises(Conflict, match="outside the clinic's opening hours"):
        _book(sched, when=datetime(2026, 6, 2, 23, 0, tzinfo=UTC), patient=other)  # 19:00
    with pytest.raises(Conflict, match="taken|already booked"):
        _book(sched, when=TEN, patient=other)
    assert Appointment.objects.count() == before
    # Moving to the evening from the day list says the same in plain words
    a = Appointment.objects.get()
    client = sched.world.client("front_desk")
    response = client.post(
        f"/schedule/appointments/{a.pk}/move/",
        {"date": "2026-06-03", "time": "19:00", "clinician": ""},
    )
    assert response.status_code == 422
    assert "outside the clinic&#x27;s opening hours" in response.content.decode()


@time_machine.travel(NOW, tick=False)
def test_a_move_says_it_is_done(sched):
    a = _book(sched)
    client = sched.world.client("front_desk")
    done = client.post(
        f"/schedule/appointments/{a.pk}/move/",
        {"date": "2026-06-03", "time": "11:00", "clinician": ""},
        follow=True,
    )
    assert "Moved: In-person consultation" in done.content.decode()
