"""The front desk in a real browser: a consultation booked from a free time on the calendar, and
the next two treatment cycles booked from the chart. Screenshots of the desk pages at desktop,
tablet and phone widths go to /work/shots/desk/ when that folder exists."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bontrack.browser import chromium_page
from bontrack.factories import TEST_PASSWORD
from bontrack.patients.models import Condition
from bontrack.scheduling import facts
from bontrack.scheduling.models import Appointment, Kind

SHOTS = Path("/work/shots/desk")
WIDTHS = {"desktop": 1280, "tablet": 820, "phone": 390}


def _sign_in(page, base):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill("frontdesk")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/patients/")


def _next_monday(tz):
    today = datetime.now(tz).date()
    return today + timedelta(days=7 - today.weekday())


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_front_desk_books_a_consultation_from_a_free_calendar_time(sched, live_server):
    tz = ZoneInfo(sched.clinic.time_zone)
    monday = _next_monday(tz)
    patient = sched.world.patient
    with chromium_page(viewport={"width": 1280, "height": 1400}) as page:
        _sign_in(page, live_server.url)
        page.goto(f"{live_server.url}/schedule/?clinic={sched.clinic.pk}&date={monday}")
        # When the front desk clicks the 09:00 free time of the day
        page.get_by_role("link", name="09:00 free").click()
        page.wait_for_url("**/schedule/new/?*")
        # finds the patient and books the first time offered (09:00)
        page.get_by_label("Find a patient").fill(patient.last_name)
        page.get_by_role("button", name="Find patient").click()
        page.get_by_role("link", name="Choose").first.click()
        page.get_by_role("button", name="Book").first.click()
        page.wait_for_url("**/schedule/?clinic=*")
        assert "Booked" in page.locator("[role=status]").first.inner_text()
    # Then the consultation is booked at 09:00 that Monday
    booked = Appointment.objects.get(patient=patient)
    assert booked.appointment_type.kind == Kind.CONSULTATION
    assert booked.starts_at.astimezone(tz).date() == monday
    assert booked.starts_at.astimezone(tz).time() == time(9)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_front_desk_books_the_next_two_treatment_cycles_from_the_chart(sched, live_server):
    tz = ZoneInfo(sched.clinic.time_zone)
    patient = sched.world.patient
    Condition.objects.get_or_create(
        patient=patient, indication="chronic_migraine", defaults={"icd10_code": "G43.709"}
    )
    with chromium_page(viewport={"width": 1280, "height": 1400}) as page:
        _sign_in(page, live_server.url)
        page.goto(f"{live_server.url}/patients/{patient.pk}/")
        page.get_by_role("link", name="Book an appointment").click()
        page.wait_for_url("**/schedule/new/?*")
        page.get_by_label("Appointment type").select_option(label="Treatment session")
        page.get_by_role("button", name="Find times").click()
        page.get_by_label("Cycles to book").select_option(label="The next 2 cycles, 12 weeks apart")
        page.get_by_role("button", name="Book").first.click()
        page.wait_for_url("**/schedule/?clinic=*")
        assert "Booked treatment session" in page.locator("[role=status]").first.inner_text()
    rows = list(Appointment.objects.filter(patient=patient).order_by("starts_at"))
    assert len(rows) == 2
    step = facts.interval_for("chronic_migraine").target_days
    first, second = (a.starts_at.astimezone(tz) for a in rows)
    assert (second.date() - first.date()).days == step and first.time() == second.time()
