"""Drag-to-reschedule on the week view: rows that can move are draggable, days are drop zones,
and dropping opens the ordinary move form for that day (the server still validates and audits)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from bontrack.browser import chromium_page
from bontrack.factories import TEST_PASSWORD
from bontrack.scheduling.actions import booking
from bontrack.scheduling.tests.conftest import NOW

TEN = datetime(2026, 6, 2, 14, 0, tzinfo=UTC)  # Tuesday 10:00 New York


def _book(sched):
    return booking.book_appointment(
        actor=sched.world.users["front_desk"],
        clinic=sched.clinic,
        patient=sched.world.patient,
        appointment_type=sched.type("consult"),
        starts_at=TEN,
    )


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_the_week_view_marks_movable_rows_and_drop_days_for_bookers_only(sched):
    appointment = _book(sched)
    url = f"/schedule/?clinic={sched.clinic.pk}&date=2026-06-02&view=week"
    page = sched.world.client("front_desk").get(url).content.decode()
    assert f'data-move-url="/schedule/appointments/{appointment.pk}/move/"' in page
    assert 'data-time="10:00"' in page and 'data-date="2026-06-04"' in page
    assert "week_drag.js" in page
    billing = sched.world.client("billing").get(url).content.decode()
    assert "data-move-url" not in billing and "data-date=" not in billing


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_the_move_form_opens_with_the_dropped_day_and_ignores_nonsense(sched):
    appointment = _book(sched)
    client = sched.world.client("front_desk")
    form = client.get(f"/schedule/appointments/{appointment.pk}/move/?date=2026-06-04&time=10:00")
    assert form.status_code == 200 and 'value="2026-06-04"' in form.content.decode()
    bad = client.get(f"/schedule/appointments/{appointment.pk}/move/?date=junk&time=25:99")
    assert bad.status_code == 200 and 'value="2026-06-02"' in bad.content.decode()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_dragging_an_appointment_to_thursday_moves_it_after_confirming(sched, live_server):
    # Given a consultation next Tuesday (real time: the live server does not travel)

    tz = ZoneInfo(sched.clinic.time_zone)
    today = datetime.now(tz).date()
    monday = today + timedelta(days=7 - today.weekday())
    tuesday, thursday = monday + timedelta(days=1), monday + timedelta(days=3)
    appointment = booking.book_appointment(
        actor=sched.world.users["front_desk"],
        clinic=sched.clinic,
        patient=sched.world.patient,
        appointment_type=sched.type("consult"),
        starts_at=datetime.combine(tuesday, time(10), tzinfo=tz),
    )
    week = f"{live_server.url}/schedule/?clinic={sched.clinic.pk}&date={tuesday}&view=week"
    with chromium_page(viewport={"width": 1280, "height": 3000}) as page:
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill("frontdesk")
        page.get_by_label("Password").fill(TEST_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/patients/")
        page.goto(week)
        # When the row is dragged onto Thursday and the move form is confirmed
        row = page.locator(f'tr[data-move-url$="/{appointment.pk}/move/"]')
        row.locator("td").first.drag_to(page.locator(f'section[data-date="{thursday}"] h2'))
        page.wait_for_url(f"**/appointments/{appointment.pk}/move/?date={thursday}*")
        assert page.get_by_label("Date").input_value() == str(thursday)
        page.get_by_role("button", name="Move").click()
        page.wait_for_url("**/schedule/?clinic=*")
    # Then it is on Thursday at the same time
    appointment.refresh_from_db()
    assert appointment.starts_at.astimezone(tz).date() == thursday
    assert appointment.starts_at.astimezone(tz).time() == time(10)
