"""Staff pages over every persona; the calendar and recall list cost the same for small and large days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bontrack.accounts.roles import Perm
from bontrack.audit.models import AuditEvent
from bontrack.factories import PatientFactory
from bontrack.scheduling.actions import booking, feeds
from bontrack.scheduling.models import Appointment
from bontrack.scheduling.tests.conftest import NOW
from conftest import permission_matrix

pytestmark = pytest.mark.django_db
TEN = datetime(2026, 6, 2, 14, 0, tzinfo=UTC)

CALENDAR = permission_matrix(Perm.SCHEDULE_VIEW, other_clinic_staff=200, other_practice_staff=200)
RECALL = permission_matrix(Perm.RECALL_VIEW, other_clinic_staff=200, other_practice_staff=200)
TYPES = permission_matrix(Perm.SCHEDULE_CONFIGURE)
CANCEL = permission_matrix(Perm.SCHEDULE_BOOK, ok=302)


def _book(sched, patient=None, start=TEN):
    return booking.book_appointment(
        actor=sched.world.users["front_desk"],
        clinic=sched.clinic,
        patient=patient or sched.world.patient,
        appointment_type=sched.type("consult"),
        starts_at=start,
    )


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("persona,expected", CALENDAR.items())
def test_the_calendar_shows_only_the_clinics_in_scope(sched, persona, expected):
    _book(sched)
    response = sched.world.client(persona).get(
        f"/schedule/?clinic={sched.clinic.pk}&date=2026-06-02"
    )
    assert response.status_code == expected
    if expected == 200:
        in_scope = persona not in ("other_clinic_staff", "other_practice_staff")
        assert (b"Cohen" in response.content) is in_scope


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("persona,expected", RECALL.items())
def test_reading_the_recall_list(sched, persona, expected):
    assert sched.world.client(persona).get("/schedule/recall/").status_code == expected


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("persona,expected", TYPES.items())
def test_only_clinic_admins_configure_types(sched, persona, expected):
    assert sched.world.client(persona).get("/schedule/types/").status_code == expected


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("persona,expected", CANCEL.items())
def test_cancelling_from_the_calendar(sched, persona, expected):
    appointment = _book(sched)
    before = AuditEvent.objects.exclude(action="view").exclude(outcome="denied").count()
    response = sched.world.client(persona).post(
        f"/schedule/appointments/{appointment.pk}/cancel/", {"reason": "illness"}
    )
    assert response.status_code == expected
    appointment.refresh_from_db()
    if expected == 302 and persona != "anonymous":
        assert appointment.status == "cancelled" and appointment.cancel_reason == "illness"
    else:
        assert appointment.status == "booked"
        assert AuditEvent.objects.exclude(action="view").exclude(outcome="denied").count() == before


@time_machine.travel(NOW, tick=False)
def test_the_calendar_costs_the_same_for_a_quiet_and_a_busy_week(sched):
    client = sched.world.client("front_desk")
    url = f"/schedule/?clinic={sched.clinic.pk}&date=2026-06-02&view=week"
    _book(sched)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    for i in range(1, 7):
        _book(sched, PatientFactory(clinic=sched.clinic), TEN + timedelta(hours=i))
    for day in range(1, 4):
        _book(sched, PatientFactory(clinic=sched.clinic), TEN + timedelta(days=day))
    with CaptureQueriesContext(connection) as big:
        assert client.get(url).status_code == 200
    assert Appointment.objects.count() == 10
    assert len(big.captured_queries) == len(small.captured_queries)


@time_machine.travel(NOW, tick=False)
def test_a_calendar_feed_is_readable_by_token_until_revoked(sched):
    import icalendar
    import vobject

    _book(sched)
    physician = sched.world.users["physician"]
    token = feeds.create_feed(actor=physician)
    client = sched.world.client("anonymous")
    body = client.get(f"/schedule/feeds/{token}.ics").content
    events = icalendar.Calendar.from_ical(body).walk("VEVENT")
    assert len(events) == 1 and "Cohen" not in body.decode()
    assert vobject.readOne(body.decode()).vevent.summary.value.startswith("In-person consultation")
    from bontrack.scheduling.models import CalendarFeed

    feeds.revoke_feed(actor=physician, feed=CalendarFeed.objects.get())
    assert client.get(f"/schedule/feeds/{token}.ics").status_code == 404
