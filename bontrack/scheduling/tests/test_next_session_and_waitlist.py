"""At check-out the front desk books the next session from the 12-week target; staff manage the
waitlist (add, list, remove). Permission matrices over every persona."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from bontrack.accounts.roles import Perm
from bontrack.audit.models import AuditEvent
from bontrack.scheduling import facts
from bontrack.scheduling.actions import booking, changes, waitlist
from bontrack.scheduling.models import Appointment, WaitlistEntry
from bontrack.scheduling.tests.conftest import NOW
from conftest import permission_matrix

pytestmark = pytest.mark.django_db
TEN = datetime(2026, 6, 2, 14, 0, tzinfo=UTC)
NY = ZoneInfo("America/New_York")

NEXT = permission_matrix(Perm.SCHEDULE_BOOK)
WAITLIST_VIEW = permission_matrix(
    Perm.SCHEDULE_VIEW, other_clinic_staff=200, other_practice_staff=200
)
# Staff of other clinics land on their own clinic's list; clinic A1's type is not a choice there,
# so the form is refused (422) and nothing is written.
WAITLIST_ADD = permission_matrix(
    Perm.SCHEDULE_BOOK, ok=302, other_clinic_staff=422, other_practice_staff=422
)
WAITLIST_REMOVE = permission_matrix(Perm.SCHEDULE_BOOK, ok=302)


def _completed_treatment(sched):
    appointment = booking.book_appointment(
        actor=sched.world.users["physician"],
        clinic=sched.clinic,
        patient=sched.world.patient,
        appointment_type=sched.type("treatment"),
        starts_at=TEN,
        indication="chronic_migraine",
    )
    changes.set_status(
        actor=sched.world.users["physician"], appointment=appointment, status="completed"
    )
    return appointment


def _target():
    return date(2026, 6, 2) + timedelta(days=facts.interval_for("chronic_migraine").target_days)


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("persona,expected", NEXT.items())
def test_the_next_session_page_over_every_persona(sched, persona, expected):
    appointment = _completed_treatment(sched)
    response = sched.world.client(persona).get(f"/schedule/appointments/{appointment.pk}/next/")
    assert response.status_code == expected
    if expected == 200:
        assert b"Book this time" in response.content


@time_machine.travel(NOW, tick=False)
def test_proposals_start_at_the_twelve_week_target_and_the_chosen_one_is_booked(sched):
    # Given a completed treatment on 2 June
    appointment = _completed_treatment(sched)
    client = sched.world.client("front_desk")
    # When the front desk opens "book the next session"
    page = client.get(f"/schedule/appointments/{appointment.pk}/next/")
    # Then the first proposal is on the target date (a weekday in the fixture's hours)
    slots = page.context["proposals"]
    assert slots and slots[0]["local"].date() == _target()
    assert all(s["local"].date() >= _target() for s in slots)
    # And booking the first proposal creates the treatment appointment there, audited
    response = client.post(
        f"/schedule/appointments/{appointment.pk}/next/", {"slot": slots[0]["key"]}
    )
    assert response.status_code == 302
    booked = Appointment.objects.exclude(pk=appointment.pk).get()
    assert booked.starts_at.astimezone(NY).date() == _target()
    assert booked.appointment_type_id == appointment.appointment_type_id
    assert booked.indication == "chronic_migraine"
    assert AuditEvent.objects.filter(
        object_type="scheduling.appointment", object_id=str(booked.pk), action="create"
    ).exists()
    # And the page now says the next session is booked
    again = client.get(f"/schedule/appointments/{appointment.pk}/next/")
    assert b"Already booked" in again.content


@time_machine.travel(NOW, tick=False)
def test_a_taken_proposal_is_a_409_and_a_forged_one_a_422(sched):
    appointment = _completed_treatment(sched)
    client = sched.world.client("front_desk")
    key = client.get(f"/schedule/appointments/{appointment.pk}/next/").context["proposals"][0][
        "key"
    ]
    assert (
        client.post(f"/schedule/appointments/{appointment.pk}/next/", {"slot": key}).status_code
        == 302
    )
    n = Appointment.objects.count()
    assert (
        client.post(f"/schedule/appointments/{appointment.pk}/next/", {"slot": key}).status_code
        == 409
    )
    assert (
        client.post(f"/schedule/appointments/{appointment.pk}/next/", {"slot": "soon"}).status_code
        == 422
    )
    assert Appointment.objects.count() == n


@time_machine.travel(NOW, tick=False)
def test_only_completed_treatments_offer_the_next_session(sched):
    consult = booking.book_appointment(
        actor=sched.world.users["physician"],
        clinic=sched.clinic,
        patient=sched.world.patient,
        appointment_type=sched.type("consult"),
        starts_at=TEN,
    )
    client = sched.world.client("front_desk")
    assert client.get(f"/schedule/appointments/{consult.pk}/next/").status_code == 404


@time_machine.travel(NOW, tick=False)
def test_the_day_list_shows_the_button_for_a_completed_treatment(sched):
    appointment = _completed_treatment(sched)
    response = sched.world.client("front_desk").get(
        f"/schedule/?clinic={sched.clinic.pk}&date=2026-06-02"
    )
    assert f"/schedule/appointments/{appointment.pk}/next/".encode() in response.content


def _add(sched, client, **over):
    data = {
        "patient": sched.world.patient.pk,
        "appointment_type": sched.type("treatment").pk,
        "earliest": "2026-06-03",
        "latest": "2026-06-20",
    }
    data.update(over)
    return client.post(f"/schedule/waitlist/?clinic={sched.clinic.pk}", data)


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("persona,expected", WAITLIST_VIEW.items())
def test_reading_the_waitlist_over_every_persona(sched, persona, expected):
    waitlist.join_waitlist(
        actor=sched.world.users["front_desk"],
        patient=sched.world.patient,
        appointment_type=sched.type("treatment"),
        earliest=date(2026, 6, 3),
        latest=date(2026, 6, 20),
    )
    response = sched.world.client(persona).get(f"/schedule/waitlist/?clinic={sched.clinic.pk}")
    assert response.status_code == expected
    if expected == 200:
        in_scope = persona not in ("other_clinic_staff", "other_practice_staff")
        assert (b"Cohen" in response.content) is in_scope


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("persona,expected", WAITLIST_ADD.items())
def test_adding_to_the_waitlist_over_every_persona(sched, persona, expected):
    writes = AuditEvent.objects.exclude(action="view").exclude(outcome="denied").count()
    response = _add(sched, sched.world.client(persona))
    assert response.status_code == expected
    if expected == 302 and persona != "anonymous":
        entry = WaitlistEntry.objects.get()
        assert entry.patient == sched.world.patient and entry.latest == date(2026, 6, 20)
        assert AuditEvent.objects.filter(object_type="scheduling.waitlistentry").exists()
    else:
        assert not WaitlistEntry.objects.exists()
        assert AuditEvent.objects.exclude(action="view").exclude(outcome="denied").count() == writes


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("persona,expected", WAITLIST_REMOVE.items())
def test_removing_from_the_waitlist_over_every_persona(sched, persona, expected):
    entry = waitlist.join_waitlist(
        actor=sched.world.users["front_desk"],
        patient=sched.world.patient,
        appointment_type=sched.type("treatment"),
        earliest=date(2026, 6, 3),
        latest=date(2026, 6, 20),
    )
    writes = AuditEvent.objects.exclude(action="view").exclude(outcome="denied").count()
    response = sched.world.client(persona).post(f"/schedule/waitlist/{entry.pk}/remove/")
    assert response.status_code == expected
    entry.refresh_from_db()
    if expected == 302 and persona != "anonymous":
        assert entry.status == "cancelled"
        event = AuditEvent.objects.get(summary="Removed from the waitlist")
        assert event.changes["status"] == ["waiting", "cancelled"]
    else:
        assert entry.status == "waiting"
        assert AuditEvent.objects.exclude(action="view").exclude(outcome="denied").count() == writes


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    "over,message",
    [
        ({"patient": "999999"}, b"not in your clinics"),
        ({"patient": ""}, b"Find and choose the patient first"),
        ({"latest": "2026-06-01"}, b"on or after the first"),
        ({"appointment_type": "999999"}, b"Select a valid choice"),
    ],
)
def test_invalid_waitlist_entries_are_422_and_nothing_is_written(sched, over, message):
    response = _add(sched, sched.world.client("front_desk"), **over)
    assert response.status_code == 422 and message in response.content
    assert not WaitlistEntry.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_the_same_patient_cannot_wait_twice_for_overlapping_dates(sched):
    client = sched.world.client("front_desk")
    assert _add(sched, client).status_code == 302
    again = _add(sched, client, earliest="2026-06-10", latest="2026-06-30")
    assert again.status_code == 422 and b"already waiting" in again.content
    assert WaitlistEntry.objects.count() == 1
    assert _add(sched, client, earliest="2026-06-21", latest="2026-06-30").status_code == 302


@time_machine.travel(NOW, tick=False)
def test_a_patient_of_another_practice_cannot_be_added_by_id(sched):
    from bontrack.factories import PatientFactory

    foreign = PatientFactory(clinic=sched.world.other_practice_clinic, mrn="B1-0001")
    response = _add(sched, sched.world.client("front_desk"), patient=foreign.pk)
    assert response.status_code == 422 and not WaitlistEntry.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_the_waitlist_finds_the_patient_by_name_mrn_or_date_of_birth(sched):
    client = sched.world.client("front_desk")
    base = f"/schedule/waitlist/?clinic={sched.clinic.pk}"
    patient = sched.world.patient
    for q in ("cohen ros", patient.mrn, patient.date_of_birth.isoformat()):
        page = client.get(f"{base}&q={q}").content.decode()
        assert f"patient={patient.pk}" in page, q
    assert "No patient matches" in client.get(f"{base}&q=zzzz").content.decode()
    chosen = client.get(f"{base}&patient={patient.pk}").content.decode()
    assert f'value="{patient.pk}"' in chosen and "Add to the waitlist" in chosen
    assert (
        AuditEvent.objects.filter(summary__startswith="Patient search for the waitlist").count()
        == 4
    )


@time_machine.travel(NOW, tick=False)
def test_a_freed_slot_is_offered_through_the_outbox_on_the_preferred_channel(sched):
    from bontrack.core.models import OutboxMessage
    from bontrack.factories import PatientFactory, booked_appointment

    by_sms = PatientFactory(
        clinic=sched.clinic, mrn="A1-0300", phone="+15550100", preferred_contact="sms"
    )
    by_email = PatientFactory(
        clinic=sched.clinic, mrn="A1-0301", email="w@example.org", preferred_contact="email"
    )
    for p in (by_sms, by_email):
        waitlist.join_waitlist(
            actor=sched.world.users["front_desk"],
            patient=p,
            appointment_type=sched.type("consult"),
            earliest=date(2026, 6, 1),
            latest=date(2026, 6, 30),
        )
    appt = booked_appointment(
        sched.world.users["front_desk"],
        sched.world.patient,
        sched.type("consult"),
        datetime(2026, 6, 10, 14, tzinfo=UTC),
    )
    changes.cancel_appointment(
        actor=sched.world.users["front_desk"], appointment=appt, reason="patient_request"
    )
    offers = OutboxMessage.objects.filter(topic__startswith="waitlist-offer:")
    assert {(m.patient_id, m.channel) for m in offers} == {
        (by_sms.pk, "sms"),
        (by_email.pk, "email"),
    }
    page = sched.world.client("front_desk").get(f"/schedule/waitlist/?clinic={sched.clinic.pk}")
    html = page.content.decode()
    assert "Offers sent" in html and "Text message queued" in html and "E-mail queued" in html


def _waitlist_queries(sched, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(f"/schedule/waitlist/?clinic={sched.clinic.pk}").status_code == 200
    return len(ctx.captured_queries)


@time_machine.travel(NOW, tick=False)
def test_the_waitlist_with_offers_costs_the_same_queries_at_two_sizes(sched):
    from django.db import transaction

    from bontrack.factories import PatientFactory
    from bontrack.scheduling import notify
    from bontrack.scheduling.models import WaitlistOffer

    client = sched.world.client("front_desk")

    def add(n, start):
        for i in range(n):
            p = PatientFactory(
                clinic=sched.clinic, mrn=f"A1-9{start + i:03d}", email="x@example.org"
            )
            entry = waitlist.join_waitlist(
                actor=sched.world.users["front_desk"],
                patient=p,
                appointment_type=sched.type("consult"),
                earliest=date(2026, 6, 1),
                latest=date(2026, 6, 30),
            )
            with transaction.atomic():
                offer = WaitlistOffer.objects.create(
                    entry=entry,
                    clinician=sched.world.users["physician"],
                    starts_at=datetime(2026, 6, 10, 14, tzinfo=UTC),
                    expires_at=datetime(2026, 6, 9, 14, tzinfo=UTC),
                )
                notify.waitlist_offer(
                    patient=p, clinic=sched.clinic, when="soon", url="http://x/", offer_id=offer.pk
                )

    add(1, 0)
    client.get(f"/schedule/waitlist/?clinic={sched.clinic.pk}")  # warm the session
    small = _waitlist_queries(sched, client)
    add(5, 10)
    assert _waitlist_queries(sched, client) == small
