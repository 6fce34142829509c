"""Playwright: a new patient books a free video call on the public page and cancels it by email link."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.db import connections

from bontrack.browser import chromium_page
from bontrack.core.messaging import deliver
from bontrack.scheduling.models import Appointment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_new_patient_books_a_free_video_call_and_cancels_it_from_the_email(
    sched, live_server, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    practice, clinic = sched.clinic.practice.slug, sched.clinic.slug
    with chromium_page(viewport={"width": 390, "height": 844}) as page:
        page.goto(f"{live_server.url}/programs/{practice}/{clinic}/chronic_migraine/")
        page.get_by_role("link", name="Book a free video call").first.click()
        page.get_by_role("group").first.get_by_role("link").first.click()
        page.get_by_label("First name").fill("Lina")
        page.get_by_label("Last name").fill("Novak")
        page.get_by_label("Date of birth").fill("1990-02-03")
        page.get_by_role("textbox", name="Email").fill("lina@example.org")
        page.get_by_label("What would you like to talk about?").fill("Headaches on most days")
        page.get_by_label("I agree that the clinic contacts me").check()
        page.get_by_role("button", name="Confirm booking").click()
        page.wait_for_url("**/book/manage/*/confirmed/")
        assert "Your booking is confirmed" in page.content()

        # Inside Playwright's sync API the code runs in a greenlet with its own context
        # variables, so the ORM opens a second connection here (Django's connections are
        # context-local); close it, or it outlives the test and PostgreSQL refuses to drop
        # the test database ("is being accessed by other users").
        try:
            assert deliver.drain().sent >= 1
        finally:
            connections.close_all()
        confirmation = next(m for m in mail.outbox if "booked" in m.subject)
        link = re.search(r"https?://\S+/book/manage/\S+/", confirmation.body).group(0)
        page.goto(link)
        page.get_by_role("link", name="Cancel this appointment").click()
        assert "Cancel this appointment?" in page.locator("h1").inner_text()
        page.get_by_role("button", name="Yes, cancel").click()
        assert page.locator("#status").inner_text() == "Cancelled"
    appointment = Appointment.objects.get()
    assert appointment.status == "cancelled" and appointment.patient.status == "prospective"
