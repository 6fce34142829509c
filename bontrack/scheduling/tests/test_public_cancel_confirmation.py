"""Cancelling by the e-mailed link asks first: GET shows what is cancelled, only the POST cancels."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from bontrack.audit.models import AuditEvent
from bontrack.core.models import OutboxMessage
from bontrack.scheduling import links
from bontrack.scheduling.models import Appointment, Status
from bontrack.scheduling.tests.conftest import NOW
from bontrack.scheduling.tests.test_online_booking import FORM, _url

pytestmark = pytest.mark.django_db


def _booked(sched, client) -> tuple[Appointment, str]:
    assert client.post(_url(sched), FORM).status_code == 302
    appointment = Appointment.objects.get()
    return appointment, links.manage_token(appointment.pk, appointment.sequence)


def _state():
    return (
        list(Appointment.objects.values_list("status", "sequence")),
        AuditEvent.objects.count(),
        OutboxMessage.objects.count(),
    )


@time_machine.travel(NOW, tick=False)
def test_the_manage_page_links_to_a_confirmation_that_changes_nothing(sched, client):
    appointment, token = _booked(sched, client)
    manage = client.get(f"/book/manage/{token}/").content.decode()
    assert f'href="/book/manage/{token}/cancel/"' in manage
    before = _state()
    page = client.get(f"/book/manage/{token}/cancel/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Cancel this appointment?" in html
    assert "Free video consultation" in html and "Tuesday 09 June 2026 at 10:00 (EDT)" in html
    assert "Yes, cancel" in html and "Keep my appointment" in html
    assert f'href="/book/manage/{token}/"' in html  # keep: back to the appointment
    assert _state() == before


@time_machine.travel(NOW, tick=False)
def test_the_old_one_click_post_only_leads_to_the_confirmation(sched, client):
    appointment, token = _booked(sched, client)
    before = _state()
    response = client.post(f"/book/manage/{token}/", {"action": "cancel"})
    assert response.status_code == 302 and response["Location"].endswith(f"/{token}/cancel/")
    assert _state() == before


@time_machine.travel(NOW, tick=False)
def test_yes_cancel_cancels_and_offers_to_book_again(sched, client):
    appointment, token = _booked(sched, client)
    response = client.post(f"/book/manage/{token}/cancel/")
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == Status.CANCELLED and appointment.cancel_reason == "patient_online"
    assert AuditEvent.objects.filter(
        object_type="scheduling.appointment", action="update", summary__startswith="Cancelled"
    ).exists()
    page = client.get(response["Location"]).content.decode()
    assert "Your appointment is cancelled." in page and "Book a new appointment" in page


@time_machine.travel(NOW, tick=False)
def test_a_used_link_says_it_was_used_and_cancels_nothing_twice(sched, client):
    appointment, token = _booked(sched, client)
    client.post(f"/book/manage/{token}/cancel/")
    before = _state()
    page = client.get(f"/book/manage/{token}/cancel/").content.decode()
    assert "Nothing to cancel" in page and "this link has been used" in page
    assert "Book a new appointment" in page
    again = client.post(f"/book/manage/{token}/cancel/")
    assert again.status_code == 409 and "cancelled" in again.content.decode()
    assert _state() == before


@time_machine.travel(NOW, tick=False)
def test_an_expired_link_says_so_in_words(sched, client, settings):
    appointment, token = _booked(sched, client)
    settings.BOOKING_LINK_MAX_AGE_SECONDS = 60
    before = _state()
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        for url in (f"/book/manage/{token}/cancel/", f"/book/manage/{token}/"):
            response = client.get(url)
            html = response.content.decode()
            assert response.status_code == 404 and "The link has expired" in html
            assert "Haddad" not in html
        assert client.post(f"/book/manage/{token}/cancel/").status_code == 404
    assert _state() == before
    assert Appointment.objects.get().status == Status.BOOKED


@time_machine.travel(NOW, tick=False)
def test_a_replaced_or_forged_link_says_so_in_words(sched, client):
    appointment, token = _booked(sched, client)
    assert client.post(f"/book/manage/{token}/", {"slot": "20260609T1500Z"}).status_code == 302
    moved = client.get(f"/book/manage/{token}/cancel/")
    assert moved.status_code == 404 and "This link was replaced" in moved.content.decode()
    forged = client.get(f"/book/manage/{token[:-2]}xx/cancel/")
    assert forged.status_code == 404 and "not valid" in forged.content.decode()
    assert Appointment.objects.get().status == Status.BOOKED


@time_machine.travel(NOW, tick=False)
def test_a_started_appointment_cannot_be_cancelled_online(sched, client):
    appointment, token = _booked(sched, client)
    with time_machine.travel(appointment.starts_at + timedelta(minutes=1), tick=False):
        page = client.get(f"/book/manage/{token}/cancel/").content.decode()
        assert "already started" in page and "Yes, cancel" not in page
        assert client.post(f"/book/manage/{token}/cancel/").status_code == 409
    assert Appointment.objects.get().status == Status.BOOKED
