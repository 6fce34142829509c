"""Playwright, issue 11: the front desk merges a duplicate chart; a new patient books a free video
call online, receives the e-mails through a real SMTP server (aiosmtpd), sets a portal password
from the invitation and starts the headache diary. Screenshots of each page at desktop, tablet and
phone widths go to /work/shots/access/ when that folder exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.db import connections

from bontrack.browser import chromium_page
from bontrack.core.messaging import deliver
from bontrack.core.tests.smtp import smtp_server  # noqa: F401 - the aiosmtpd fixture
from bontrack.diaries.models import DiaryDay
from bontrack.factories import TEST_PASSWORD, PatientFactory
from bontrack.patients.choices import MergeStatus, PatientStatus
from bontrack.patients.models import Patient, PatientMerge
from bontrack.scheduling.models import Appointment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path("/work/shots/access")
WIDTHS = {"desktop": 1280, "tablet": 820, "phone": 390}


def _shots(page, name):
    if not SHOTS.is_dir():
        return
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_front_desk_merges_a_duplicate_chart(world, live_server):
    keep = world.patient
    dup = PatientFactory(
        clinic=world.clinic,
        first_name="Rósa",
        last_name="COHEN",
        mrn="A1-0777",
        date_of_birth=keep.date_of_birth,
        status=PatientStatus.PROSPECTIVE,
    )
    # Both charts have a signed treatment session: the duplicate's moves with the merge.
    from bontrack.factories import signed_session
    from bontrack.patients.models import Condition

    for chart, code in ((keep, "G43.719"), (dup, "G43.709")):
        Condition.objects.create(patient=chart, indication="chronic_migraine", icd10_code=code)
    signed_session(world.users["physician"], keep)
    dup_session = signed_session(world.users["physician"], dup)
    assert dup_session.status == "signed"
    with chromium_page() as page:
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill("frontdesk")
        page.get_by_label("Password").fill(TEST_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/patients/")
        page.goto(f"{live_server.url}/patients/{keep.pk}/")
        page.get_by_role("link", name="Merge a duplicate chart").click()
        page.wait_for_url(f"**/patients/{keep.pk}/merge/")
        assert "Same name and date of birth." in page.content()
        _shots(page, "merge-find")
        page.get_by_role("link", name="Compare").first.click()
        assert "Compare the two charts" in page.content()
        assert "Signed treatment sessions of chart A1-0777" in page.content()
        _shots(page, "merge-compare")
        page.get_by_role("button", name="Merge chart A1-0777 into this chart").click()
        page.wait_for_url("**/patients/merges/*/")
        assert "was merged into this chart" in page.content()
        assert "Treatment sessions moved as they were signed" in page.content()
        assert "could not move" not in page.content()
        _shots(page, "merge-pending")
        page.get_by_role("button", name="Confirm the merge").click()
        page.wait_for_url(f"**/patients/{keep.pk}/")
        assert "one patient, one chart" in page.content()
    merge = PatientMerge.objects.get(duplicate=dup)
    assert merge.status == MergeStatus.CONFIRMED and merge.survivor == keep
    assert Patient.objects.get(pk=dup.pk).status == PatientStatus.MERGED
    dup_session.refresh_from_db()
    assert dup_session.patient_id == keep.pk and dup_session.status == "signed"


def test_a_new_patient_books_online_gets_the_mail_sets_a_password_and_starts_the_diary(
    sched,
    live_server,
    settings,
    smtp_server,  # noqa: F811
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = smtp_server.host
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    practice, clinic = sched.clinic.practice.slug, sched.clinic.slug
    with chromium_page(viewport={"width": 390, "height": 844}) as page:
        page.goto(f"{live_server.url}/programs/{practice}/{clinic}/chronic_migraine/")
        page.get_by_role("link", name="Book a free video call").first.click()
        page.get_by_role("group").first.get_by_role("link").first.click()
        page.get_by_label("First name").fill("Lina")
        page.get_by_label("Last name").fill("Novak")
        page.get_by_label("Date of birth").fill("1990-02-03")
        page.get_by_role("textbox", name="Email").fill("lina@example.org")
        page.get_by_label("I agree that the clinic contacts me").check()
        page.get_by_role("button", name="Confirm booking").click()
        page.wait_for_url("**/book/manage/*/confirmed/")
        assert "Your booking is confirmed" in page.content()
        assert "Start your headache diary today" in page.content()
        _shots(page, "booking-confirmed")
        appointment = Appointment.objects.get()
        page.goto(f"{live_server.url}/visit/{appointment.video_token}/check/")
        assert "Check your camera and microphone" in page.content()
        _shots(page, "device-check")
        try:
            assert deliver.drain().sent >= 2
        finally:
            connections.close_all()
        subjects = smtp_server.by_header("Subject")
        assert any(s.startswith("Your appointment is booked") for s in subjects)
        invite = next(
            m for m in smtp_server.messages if m["Subject"] == "Set up your patient portal"
        )
        assert invite["To"] == "lina@example.org"
        body = (
            invite.get_payload(decode=True).decode()
            if not invite.is_multipart()
            else next(
                p.get_payload(decode=True).decode()
                for p in invite.walk()
                if p.get_content_type() == "text/plain"
            )
        )
        link = re.search(r"https?://\S+/portal/invite/\S+/", body).group(0)
        page.goto(link)
        _shots(page, "portal-invite")
        page.locator("#id_new_password1").fill("Migraine-diary-2026")
        page.locator("#id_new_password2").fill("Migraine-diary-2026")
        page.get_by_role("button", name="Set my password").click()
        page.wait_for_url("**/portal/")
        assert "Your password is set" in page.content()
        page.goto(f"{live_server.url}/portal/diary/")
        page.get_by_role("link", name=re.compile(r": missing$")).last.click()
        page.get_by_role("button", name="No headache").click()
        page.wait_for_url("**/portal/diary/?saved=*")
        assert "Today is filled in" in page.content()
    patient = Appointment.objects.get().patient
    assert DiaryDay.objects.filter(patient=patient, source="patient").count() == 1
