"""Recall that leads to a booking: plain labels, the patient's phone and preferred channel, a
"book" action into the slot finder, a contact log shown on the row, a flag for a booking before
the earliest allowed date, and a page that costs the same queries at two sizes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bontrack.accounts.roles import Perm
from bontrack.audit.models import AuditEvent
from bontrack.factories import PatientFactory, signed_session
from bontrack.scheduling import facts
from bontrack.scheduling.actions import booking
from bontrack.scheduling.models import RecallContact
from bontrack.scheduling.tests.conftest import NOW
from conftest import permission_matrix

pytestmark = pytest.mark.django_db
CONTACT = permission_matrix(Perm.SCHEDULE_BOOK, ok=302)
LAST = datetime(2026, 3, 10, 16, tzinfo=UTC)  # 12-week date early June: due


def _due_patient(sched, **fields):
    patient = PatientFactory(clinic=sched.clinic, **fields)
    signed_session(sched.world.users["physician"], patient, LAST)
    return patient


def _page(sched, persona="front_desk"):
    return sched.world.client(persona).get(f"/schedule/recall/?clinic={sched.clinic.pk}")


@time_machine.travel(NOW, tick=False)
def test_rows_show_labels_phone_channel_and_a_book_action(sched):
    patient = _due_patient(sched, phone="+1 212 555 0101", preferred_contact="sms")
    html = _page(sched).content.decode()
    label = facts.indication_label("chronic_migraine")
    assert f">{label}</td>" in html
    assert ">Due</span>" in html and ">due</span>" not in html
    assert "+1 212 555 0101" in html, html[html.find('data-label="Contact"') :][:200]
    assert "Prefers text message" in html
    assert (
        f"/schedule/new/?clinic={sched.clinic.pk}&patient={patient.pk}&type="
        f"{sched.type('treatment').pk}&indication=chronic_migraine"
    ) in html


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("persona,expected", CONTACT.items())
def test_logging_a_contact_over_every_persona(sched, persona, expected):
    patient = _due_patient(sched)
    before = AuditEvent.objects.exclude(outcome="denied").exclude(action="view").count()
    response = sched.world.client(persona).post(
        "/schedule/recall/contact/",
        {
            "clinic": sched.clinic.pk,
            "patient": patient.pk,
            "indication": "chronic_migraine",
            "outcome": "left_message",
        },
    )
    assert response.status_code == expected
    after = AuditEvent.objects.exclude(outcome="denied").exclude(action="view").count()
    if expected == 302 and persona != "anonymous":
        contact = RecallContact.objects.get()
        assert contact.outcome == "left_message" and contact.patient == patient
        assert AuditEvent.objects.filter(
            object_type="scheduling.recallcontact", object_id=str(contact.pk), action="create"
        ).exists()
        assert after == before + 1
    else:
        assert not RecallContact.objects.exists() and after == before


@time_machine.travel(NOW, tick=False)
def test_the_last_contact_shows_on_the_row_and_bad_outcomes_are_refused(sched):
    patient = _due_patient(sched)
    client = sched.world.client("front_desk")
    data = {"clinic": sched.clinic.pk, "patient": patient.pk, "indication": "chronic_migraine"}
    bad = client.post("/schedule/recall/contact/", {**data, "outcome": "shouted"})
    assert bad.status_code == 422 and "Choose what happened" in bad.content.decode()
    assert not RecallContact.objects.exists()
    done = client.post("/schedule/recall/contact/", {**data, "outcome": "called"}, follow=True)
    html = done.content.decode()
    assert "Logged for" in html
    name = sched.world.users["front_desk"].get_full_name()
    assert "Called: spoke with the patient" in html and name in html


@time_machine.travel(NOW, tick=False)
def test_a_booking_before_the_earliest_date_is_flagged(sched):
    patient = _due_patient(sched)
    tz = ZoneInfo(sched.clinic.time_zone)
    earliest, _, _ = facts.due_dates(LAST, facts.interval_for("chronic_migraine"), tz)
    assert earliest == date(2026, 6, 2)
    assert "Booked before the earliest date" not in _page(sched).content.decode()
    # A physician books one day early (override with a reason)
    booking.book_appointment(
        actor=sched.world.users["physician"],
        clinic=sched.clinic,
        patient=patient,
        appointment_type=sched.type("treatment"),
        starts_at=datetime(2026, 6, 1, 14, tzinfo=UTC),
        indication="chronic_migraine",
        override_reason="Severe relapse",
    )
    assert "Booked before the earliest date (2 Jun 2026)" in _page(sched).content.decode()


def _queries(sched, client):
    url = f"/schedule/recall/?clinic={sched.clinic.pk}"
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@time_machine.travel(NOW, tick=False)
def test_the_recall_page_costs_the_same_queries_at_two_sizes(sched):
    client = sched.world.client("front_desk")
    for _ in range(2):
        p = _due_patient(sched)
        RecallContact.objects.create(
            clinic=sched.clinic, patient=p, indication="chronic_migraine", outcome="called"
        )
    client.get(f"/schedule/recall/?clinic={sched.clinic.pk}")
    small = _queries(sched, client)
    for _ in range(8):
        p = _due_patient(sched)
        RecallContact.objects.create(
            clinic=sched.clinic,
            patient=p,
            indication="chronic_migraine",
            outcome="left_message",
            contacted_by=sched.world.users["front_desk"],
        )
    large = _queries(sched, client)
    assert small == large
