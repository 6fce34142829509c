"""Real time zones: a user of two clinics in different zones (New York and Los Angeles) sees each
clinic's appointments in that clinic's local time, on both sides of a DST change.

The accounts middleware activates one zone per request only for a user of one zone; for a user
of both clinics the active zone is the project default (New York), and Django's `date` filter
converts every aware datetime to it unless the page renders in the clinic's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
import time_machine
from django.test import Client

from bontrack.accounts.models import Membership
from bontrack.accounts.roles import Role
from bontrack.factories import PatientFactory, booked_appointment, login
from bontrack.scheduling.defaults import ensure_clinic_defaults
from bontrack.scheduling.models import AppointmentType, Room, WorkingHours

pytestmark = pytest.mark.django_db

# US daylight saving time ends on Sunday 1 November 2026 (02:00 local).
BEFORE_DST_END = datetime(2026, 10, 30, 16, 0, tzinfo=UTC)  # Fri 09:00 PDT / 12:00 EDT
AFTER_DST_END = datetime(2026, 11, 2, 17, 0, tzinfo=UTC)  # Mon 09:00 PST / 12:00 EST
NOW = datetime(2026, 10, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def la(sched, settings):
    """Clinic A2 in Los Angeles, set up like A1; the front desk, physician and nurse work at both."""
    assert settings.TIME_ZONE == "America/New_York"
    world = sched.world
    clinic = world.other_clinic
    clinic.time_zone = "America/Los_Angeles"
    clinic.save()
    ensure_clinic_defaults(clinic)
    Room.objects.create(clinic=clinic, name="LA room")
    for persona, role in (
        ("physician", Role.PHYSICIAN),
        ("nurse", Role.NURSE),
        ("front_desk", Role.FRONT_DESK),
    ):
        user = world.users[persona]
        Membership.objects.create(user=user, practice=world.practice, clinic=clinic, role=role)
        if persona != "front_desk":
            for weekday in range(5):
                WorkingHours.objects.create(
                    clinic=clinic, clinician=user, weekday=weekday, start=time(8), end=time(17)
                )
    return clinic


def _book(sched, clinic, starts_at):
    patient = PatientFactory(clinic=clinic, last_name=f"Zone{clinic.slug}{starts_at:%d}")
    atype = AppointmentType.objects.get(clinic=clinic, code="consult")
    with time_machine.travel(NOW, tick=False):
        return booked_appointment(
            sched.world.users["front_desk"],
            patient,
            atype,
            starts_at,
            clinician=sched.world.users["physician"],
        )


def _desk(sched) -> Client:
    user = type(sched.world.users["front_desk"]).objects.get(pk=sched.world.users["front_desk"].pk)
    assert user.display_time_zone() is None  # two zones: the request keeps the default
    return login(Client(), user)


@pytest.mark.parametrize(
    "starts_at,la_time,ny_time",
    [(BEFORE_DST_END, "09:00", "12:00"), (AFTER_DST_END, "09:00", "12:00")],
)
def test_the_calendar_shows_each_clinics_appointments_in_its_local_time(
    sched, la, starts_at, la_time, ny_time
):
    _book(sched, la, starts_at)
    _book(sched, sched.clinic, starts_at.replace(hour=starts_at.hour - 3))  # 09:00 in New York
    client = _desk(sched)
    day = starts_at.date().isoformat()
    with time_machine.travel(NOW, tick=False):
        la_page = client.get(f"/schedule/?clinic={la.pk}&date={day}").content.decode()
        ny_page = client.get(f"/schedule/?clinic={sched.clinic.pk}&date={day}").content.decode()
    assert f"{la_time}–" in la_page and f"{ny_time}–" not in la_page
    assert "09:00–" in ny_page


def test_the_chart_panel_and_the_slot_finder_use_the_clinics_zone(sched, la):
    appointment = _book(sched, la, AFTER_DST_END)
    client = _desk(sched)
    with time_machine.travel(NOW, tick=False):
        panel = client.get(f"/schedule/patients/{appointment.patient_id}/panel/")
        assert panel.status_code == 200
        assert "2026-11-02 09:00" in panel.content.decode()
        finder = client.get(
            f"/schedule/new/?clinic={la.pk}&type={appointment.appointment_type_id}"
            f"&from={date(2026, 11, 2).isoformat()}&to={date(2026, 11, 2).isoformat()}"
        )
        assert finder.status_code == 200
        html = finder.content.decode()
        # LA opens at 08:00 local: the first offered time is 08:00, never 11:00 (New York).
        assert "08:00" in html and "11:00" not in html.split("08:00")[0]


def test_a_patients_appointments_at_two_zones_name_the_zone(sched, la):
    from bontrack.scheduling.actions import booking

    appointment = _book(sched, la, AFTER_DST_END)
    atype = AppointmentType.objects.get(clinic=sched.clinic, code="consult")
    with time_machine.travel(NOW, tick=False):
        booking.book_appointment(
            actor=sched.world.users["front_desk"],
            clinic=sched.clinic,
            patient=appointment.patient,
            appointment_type=atype,
            starts_at=BEFORE_DST_END.replace(hour=13),  # Fri 09:00 EDT
            clinician=sched.world.users["physician"],
        )
        html = (
            _desk(sched).get(f"/schedule/patients/{appointment.patient_id}/panel/").content.decode()
        )
    assert "2026-10-30 09:00 EDT (Clinic A1)" in html
    assert "2026-11-02 09:00 PST (Clinic A2)" in html
