"""A member of the public books online, gets an email with an .ics and manages it by link."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
import time_machine
import vobject
from django.utils import timezone

from bontrack.audit.models import AuditEvent
from bontrack.core.messaging import deliver
from bontrack.core.messaging.outbox import decode_attachments
from bontrack.core.models import OutboxMessage, OutboxStatus
from bontrack.patients.models import Patient
from bontrack.scheduling import links
from bontrack.scheduling.models import Appointment, Status
from bontrack.scheduling.tests.conftest import NOW

pytestmark = pytest.mark.django_db

SLOT = "20260609T1400Z"  # Tuesday 10:00 EDT, 8 days after NOW


def _url(sched, code="free-video-consult", slot=SLOT):
    p, c = sched.clinic.practice.slug, sched.clinic.slug
    return f"/book/{p}/{c}/{code}/{slot}/"


FORM = {
    "first_name": "Nadia",
    "last_name": "Haddad",
    "date_of_birth": "1985-04-02",
    "email": "nadia@example.org",
    "phone": "",
    "reason": "Daily headaches",
    "consent": "on",
    "website": "",
}


@time_machine.travel(NOW, tick=False)
def test_a_new_person_books_a_free_video_call_and_becomes_a_prospective_patient(sched, client):
    response = client.post(_url(sched), FORM)
    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.source == "online" and appointment.video_token
    assert appointment.patient.status == "prospective"
    assert appointment.starts_at == datetime(2026, 6, 9, 14, 0, tzinfo=UTC)
    assert AuditEvent.objects.filter(object_type="patients.patient", action="create").count() == 1
    confirm = OutboxMessage.objects.get(dedupe_key__startswith="confirm:")
    assert confirm.to == "nadia@example.org"
    # The room's raw address is never sent: the patient joins through the waiting room.
    assert links.video_room_url(appointment.video_token) not in confirm.body
    assert f"/visit/{appointment.video_token}/" in confirm.body
    assert "/book/manage/" in confirm.body
    reminders = OutboxMessage.objects.filter(dedupe_key__startswith="reminder:")
    assert sorted(m.send_after for m in reminders) == [
        appointment.starts_at - timedelta(days=3),
        appointment.starts_at - timedelta(hours=2),
    ]


@time_machine.travel(NOW, tick=False)
def test_the_confirmation_ics_parses_with_icalendar_and_vobject(sched, client):
    client.post(_url(sched), FORM)
    appointment = Appointment.objects.get()
    message = OutboxMessage.objects.get(dedupe_key__startswith="confirm:")
    [(name, content, mimetype)] = decode_attachments(message)
    assert name == "appointment.ics" and mimetype == "text/calendar"
    event = icalendar.Calendar.from_ical(content).walk("VEVENT")[0]
    assert event.decoded("dtstart") == appointment.starts_at
    assert event.decoded("dtend") == appointment.ends_at
    assert str(event["uid"]) == f"appointment-{appointment.pk}@bontrack"
    parsed = vobject.readOne(content.decode())
    assert parsed.vevent.dtstart.value == appointment.starts_at
    assert "meet.jit.si" not in content.decode()
    assert "waiting room" in parsed.vevent.location.value


@time_machine.travel(NOW, tick=False)
def test_the_honeypot_pretends_success_and_writes_nothing(sched, client):
    response = client.post(_url(sched), {**FORM, "website": "http://spam.example"})
    assert response.status_code == 200
    assert (
        not Appointment.objects.exists() and not Patient.objects.filter(first_name="Nadia").exists()
    )


@time_machine.travel(NOW, tick=False)
def test_public_bookings_are_rate_limited_per_ip(sched, client):
    for _ in range(10):
        client.post(_url(sched), {**FORM, "consent": ""})
    response = client.post(_url(sched), FORM)
    assert response.status_code == 429
    assert not Appointment.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_missing_consent_is_a_422_and_nothing_is_written(sched, client):
    response = client.post(_url(sched), {**FORM, "consent": ""})
    assert response.status_code == 422
    assert not Appointment.objects.exists() and not OutboxMessage.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_staff_only_types_cannot_be_booked_online(sched, client):
    assert client.post(_url(sched, code="treatment"), FORM).status_code == 404


@time_machine.travel(NOW, tick=False)
def test_the_manage_link_cancels_and_cancels_the_pending_reminders(sched, client):
    client.post(_url(sched), FORM)
    appointment = Appointment.objects.get()
    token = links.manage_token(appointment.pk, appointment.sequence)
    page = client.get(f"/book/manage/{token}/")
    assert page.status_code == 200 and b"Free video consultation" in page.content
    response = client.post(f"/book/manage/{token}/cancel/")
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == Status.CANCELLED and appointment.cancel_reason == "patient_online"
    reminders = OutboxMessage.objects.filter(dedupe_key__startswith="reminder:")
    assert {m.status for m in reminders} == {OutboxStatus.CANCELLED}
    assert OutboxMessage.objects.filter(dedupe_key__startswith="cancel:").exists()


@time_machine.travel(NOW, tick=False)
def test_a_forged_or_expired_link_reveals_nothing(sched, client, settings):
    client.post(_url(sched), FORM)
    appointment = Appointment.objects.get()
    token = links.manage_token(appointment.pk, appointment.sequence)
    assert client.get(f"/book/manage/{token[:-2]}xx/").status_code == 404
    settings.BOOKING_LINK_MAX_AGE_SECONDS = 60
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        response = client.get(f"/book/manage/{token}/")
    assert response.status_code == 404 and b"Haddad" not in response.content


@time_machine.travel(NOW, tick=False)
def test_moving_by_link_replaces_the_reminders_and_the_old_link(sched, client):
    client.post(_url(sched), FORM)
    appointment = Appointment.objects.get()
    token = links.manage_token(appointment.pk, 0)
    response = client.post(f"/book/manage/{token}/", {"slot": "20260609T1500Z"})
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.sequence == 1 and appointment.starts_at.hour == 15
    old = OutboxMessage.objects.filter(dedupe_key__startswith=f"reminder:{appointment.pk}:0:")
    new = OutboxMessage.objects.filter(dedupe_key__startswith=f"reminder:{appointment.pk}:1:")
    assert {m.status for m in old} == {OutboxStatus.CANCELLED}
    assert new.count() == 2 and {m.status for m in new} == {OutboxStatus.PENDING}
    assert client.get(f"/book/manage/{token}/").status_code == 404


@time_machine.travel(NOW, tick=False)
def test_reminders_for_a_cancelled_appointment_are_never_sent(sched, client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from django.core import mail

    client.post(_url(sched), FORM)
    appointment = Appointment.objects.get()
    client.post(f"/book/manage/{links.manage_token(appointment.pk, 0)}/cancel/")
    with time_machine.travel(appointment.starts_at - timedelta(minutes=30), tick=False):
        deliver.drain()
    subjects = [m.subject for m in mail.outbox if m.subject != "Set up your patient portal"]
    assert len(subjects) == 2
    assert not any(s.startswith("Reminder") for s in subjects)
    assert timezone.now() == NOW


@time_machine.travel(NOW, tick=False)
def test_the_waiting_room_opens_ten_minutes_before_the_start(sched, client):
    client.post(_url(sched), FORM)
    appointment = Appointment.objects.get()
    url = f"/visit/{appointment.video_token}/"
    with time_machine.travel(appointment.starts_at - timedelta(minutes=11), tick=False):
        closed = client.get(url)
    with time_machine.travel(appointment.starts_at - timedelta(minutes=10), tick=False):
        opened = client.get(url)
    room = links.video_room_url(appointment.video_token).encode()
    assert room not in closed.content and b"opens at" in closed.content
    assert room in opened.content
    assert client.get("/visit/not-a-token/").status_code == 404


@time_machine.travel(NOW, tick=False)
def test_program_pages_offer_a_free_video_call(sched, client):
    p, c = sched.clinic.practice.slug, sched.clinic.slug
    response = client.get(f"/programs/{p}/{c}/chronic_migraine/")
    assert response.status_code == 200
    assert b"Book a free video call" in response.content
    assert b"12 weeks" in response.content
    assert client.get(f"/book/{p}/{c}/").status_code == 200


@time_machine.travel(NOW, tick=False)
def test_program_page_headings_stay_headings_and_their_text_is_a_paragraph(sched, client):
    p, c = sched.clinic.practice.slug, sched.clinic.slug
    html = client.get(f"/programs/{p}/{c}/chronic_migraine/").content.decode()
    assert "<h2>What the treatment is</h2>" in html
    assert "<h2>The four steps</h2>" in html
    assert "<ol><li>A free video call." in html
    # The text under a heading is never inside the heading.
    assert not re.search(r"<h2>[^<]*\n", html)


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    "persona,expected",
    [("patient", 200), ("other_patient", 200), ("physician", 403), ("anonymous", 302)],
)
def test_the_portal_card_shows_only_the_patients_own_video_link(sched, persona, expected):
    from bontrack.scheduling.actions import booking

    appointment = booking.book_appointment(
        actor=sched.world.users["front_desk"],
        clinic=sched.clinic,
        patient=sched.world.patient,
        appointment_type=sched.type("free-video-consult"),
        starts_at=datetime(2026, 6, 9, 14, tzinfo=UTC),
    )
    response = sched.world.client(persona).get("/portal/appointments/")
    assert response.status_code == expected
    if expected == 200:
        mine = persona == "patient"
        assert (appointment.video_token.encode() in response.content) is mine
        # Opened on its own it is a portal page with the way back; loaded into the home, the card.
        assert b"Back to My care" in response.content
        card = sched.world.client(persona).get(
            "/portal/appointments/", headers={"HX-Request": "true"}
        )
        assert (
            card.content.lstrip().startswith(b"<section") and b"Back to My care" not in card.content
        )
