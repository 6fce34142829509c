"""An anonymous online booking never attaches to an existing chart on its own.

A booking whose details match a patient waits as a pending match on a new chart; the front desk of
the clinic confirms (the appointment moves, the new chart is removed: no duplicate is left) or
rejects (the new chart stays). Public answers about unavailable times reveal nobody's schedule.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
import time_machine

from bontrack.accounts.roles import Perm
from bontrack.audit.models import AuditEvent
from bontrack.core.models import OutboxMessage
from bontrack.patients.models import Patient
from bontrack.scheduling.actions import booking
from bontrack.scheduling.models import Appointment, MatchStatus, PendingMatch, Room, WorkingHours
from bontrack.scheduling.tests.conftest import NOW
from conftest import permission_matrix

pytestmark = pytest.mark.django_db

SLOT = "20260609T1400Z"  # Tuesday 10:00 EDT
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


def _url(sched, slot=SLOT, code="free-video-consult"):
    return f"/book/{sched.clinic.practice.slug}/{sched.clinic.slug}/{code}/{slot}/"


def _as_rosa(sched, **overrides):
    rosa = sched.world.patient
    return {
        **FORM,
        "first_name": "rosa",
        "last_name": "COHEN",
        "date_of_birth": rosa.date_of_birth.isoformat(),
        "email": rosa.email.upper(),
        **overrides,
    }


def _book(sched, client, data, slot=SLOT):
    response = client.post(_url(sched, slot), data)
    assert response.status_code == 302, response.content.decode()[:500]
    return response


@time_machine.travel(NOW, tick=False)
def test_a_booking_with_an_existing_patients_details_does_not_attach_to_that_chart(sched, client):
    rosa = sched.world.patient
    rosa_appointments = list(Appointment.objects.filter(patient=rosa))
    response = _book(sched, client, _as_rosa(sched))
    appointment = Appointment.objects.get(source="online")
    assert appointment.patient_id != rosa.pk
    assert list(Appointment.objects.filter(patient=rosa)) == rosa_appointments
    assert appointment.patient.status == "prospective"
    match = PendingMatch.objects.get()
    assert match.status == MatchStatus.PENDING
    assert (match.matched_patient_id, match.booked_patient_id) == (rosa.pk, appointment.patient_id)
    assert match.matched_on == ["name_and_birth_date", "email"]
    assert AuditEvent.objects.filter(
        object_type="scheduling.pendingmatch", action="create"
    ).exists()
    # Nothing of the existing chart reaches the anonymous booker.
    page = client.get(response["Location"]).content.decode()
    assert rosa.mrn not in page and "Cohen" not in page


@time_machine.travel(NOW, tick=False)
def test_the_booker_cannot_tell_whether_a_match_exists(sched, client):
    rosa = sched.world.patient
    pages = [
        client.get(_book(sched, client, _as_rosa(sched))["Location"]),
        client.get(_book(sched, client, FORM, slot="20260609T1500Z")["Location"]),
    ]
    assert [p.status_code for p in pages] == [200, 200]
    mails = list(OutboxMessage.objects.filter(dedupe_key__startswith="confirm:").order_by("id"))
    assert [m.to for m in mails] == [rosa.email.upper(), "nadia@example.org"]
    assert mails[0].subject.replace("10:00", "11:00") == mails[1].subject
    for text in [m.body for m in mails] + [p.content.decode() for p in pages]:
        assert "match" not in text.lower() and "existing" not in text.lower()
        assert rosa.mrn not in text


@pytest.mark.parametrize(
    "overrides,matched_on",
    [
        ({"first_name": "Rosalind", "email": "x@example.org"}, None),
        ({"first_name": "Rosalind", "date_of_birth": "1990-01-01"}, ["email"]),
        (
            {"first_name": "R", "date_of_birth": "1990-01-01", "email": "x@example.org"},
            "phone",
        ),
    ],
)
@time_machine.travel(NOW, tick=False)
def test_a_match_is_on_name_and_birth_date_email_or_phone(sched, client, overrides, matched_on):
    rosa = sched.world.patient
    rosa.phone = "555-0100"
    rosa.save()
    data = _as_rosa(sched, **overrides)
    if matched_on == "phone":
        data["phone"] = "555-0100"
        matched_on = ["phone"]
    _book(sched, client, data)
    match = PendingMatch.objects.first()
    if matched_on is None:
        assert match is None
    else:
        assert match.matched_on == matched_on


@time_machine.travel(NOW, tick=False)
def test_front_desk_confirms_and_no_duplicate_chart_is_left(sched, client):
    rosa = sched.world.patient
    patients_before = Patient.objects.count()
    _book(sched, client, _as_rosa(sched))
    match = PendingMatch.objects.get()
    booked_id = match.booked_patient_id
    desk = sched.world.client("front_desk")
    page = desk.get(f"/schedule/matches/{match.pk}/")
    assert page.status_code == 200 and b"Is this the same person?" in page.content
    response = desk.post(f"/schedule/matches/{match.pk}/", {"decision": "confirm"}, follow=True)
    assert b"moved to the existing chart" in response.content
    appointment = Appointment.objects.get(source="online")
    assert appointment.patient_id == rosa.pk
    assert not Patient.objects.filter(pk=booked_id).exists()
    assert Patient.objects.count() == patients_before
    assert OutboxMessage.objects.filter(patient_id=booked_id).count() == 0
    match.refresh_from_db()
    assert (
        match.status == MatchStatus.CONFIRMED
        and match.decided_by == sched.world.users["front_desk"]
    )
    events = AuditEvent.objects.filter(actor=sched.world.users["front_desk"])
    assert events.filter(action="update", object_type="scheduling.appointment").exists()
    assert events.filter(action="delete", object_type="patients.patient").exists()
    assert events.filter(action="update", object_type="scheduling.pendingmatch").exists()
    assert events.filter(action="view", object_type="scheduling.pendingmatch").exists()
    # Deciding twice is refused with a plain message.
    again = desk.post(f"/schedule/matches/{match.pk}/", {"decision": "reject"})
    assert again.status_code == 409 and b"already decided" in again.content


@time_machine.travel(NOW, tick=False)
def test_front_desk_rejects_and_the_booking_keeps_its_new_chart(sched, client):
    _book(sched, client, _as_rosa(sched))
    match = PendingMatch.objects.get()
    desk = sched.world.client("front_desk")
    response = desk.post(f"/schedule/matches/{match.pk}/", {"decision": "reject"}, follow=True)
    assert b"keeps its new chart" in response.content
    match.refresh_from_db()
    assert match.status == MatchStatus.REJECTED
    assert Appointment.objects.get(source="online").patient_id == match.booked_patient_id
    assert Patient.objects.filter(pk=match.booked_patient_id, status="prospective").exists()


@time_machine.travel(NOW, tick=False)
def test_an_empty_decision_is_refused_in_plain_words(sched, client):
    _book(sched, client, _as_rosa(sched))
    match = PendingMatch.objects.get()
    response = sched.world.client("front_desk").post(f"/schedule/matches/{match.pk}/", {})
    assert (
        response.status_code == 422
        and b"Choose same person or different person" in response.content
    )
    match.refresh_from_db()
    assert match.status == MatchStatus.PENDING


@time_machine.travel(NOW, tick=False)
def test_the_list_is_scoped_to_the_viewers_clinics_with_counts_and_audited(sched, client):
    _book(sched, client, _as_rosa(sched))
    desk = sched.world.client("front_desk")
    response = desk.get("/schedule/matches/")
    assert response.status_code == 200
    assert b"1 booking to check." in response.content
    assert AuditEvent.objects.filter(
        action="view", object_type="scheduling.pendingmatch", actor=sched.world.users["front_desk"]
    ).exists()
    other = sched.world.client("other_clinic_staff").get("/schedule/matches/")
    assert other.status_code == 200
    assert b"0 bookings to check." in other.content and b"Cohen" not in other.content


DECIDE = permission_matrix(Perm.SCHEDULE_BOOK, ok=302)


@pytest.mark.parametrize("persona,expected", DECIDE.items())
@time_machine.travel(NOW, tick=False)
def test_who_may_confirm_a_match(sched, client, persona, expected):
    _book(sched, client, _as_rosa(sched))
    match = PendingMatch.objects.get()
    appointments = list(Appointment.objects.values_list("pk", "patient_id"))
    patients = Patient.objects.count()
    events = AuditEvent.objects.exclude(outcome="denied").count()
    response = sched.world.client(persona).post(
        f"/schedule/matches/{match.pk}/", {"decision": "confirm"}
    )
    assert response.status_code == expected
    match.refresh_from_db()
    if persona in ("front_desk", "physician", "nurse", "clinic_admin"):
        assert response["Location"].startswith("/schedule/matches/")
        assert match.status == MatchStatus.CONFIRMED
    else:
        if persona == "anonymous":
            assert "/login/" in response["Location"]
        assert match.status == MatchStatus.PENDING
        assert list(Appointment.objects.values_list("pk", "patient_id")) == appointments
        assert Patient.objects.count() == patients
        assert AuditEvent.objects.exclude(outcome="denied").count() == events


@pytest.mark.parametrize("persona,expected", DECIDE.items())
@time_machine.travel(NOW, tick=False)
def test_who_may_see_the_list_and_a_match(sched, client, persona, expected):
    _book(sched, client, _as_rosa(sched))
    match = PendingMatch.objects.get()
    read = {**DECIDE, **{p: 200 for p, s in DECIDE.items() if s == 302 and p != "anonymous"}}
    response = sched.world.client(persona).get(f"/schedule/matches/{match.pk}/")
    assert response.status_code == read[persona]
    listing = sched.world.client(persona).get("/schedule/matches/")
    if persona in ("other_clinic_staff", "other_practice_staff"):
        assert listing.status_code == 200 and b"Cohen" not in listing.content
    else:
        assert listing.status_code == read[persona]


# --- Neutral answers: nobody's schedule is revealed -----------------------------------------


@time_machine.travel(NOW, tick=False)
def test_a_public_booking_gets_the_same_answer_for_a_taken_slot_and_one_outside_hours(
    sched, client
):
    for persona in ("physician", "nurse"):
        WorkingHours.objects.filter(clinician=sched.world.users[persona]).exclude(
            weekday=1
        ).delete()
    _book(sched, client, FORM)  # takes one clinician at 10:00
    _book(sched, client, {**FORM, "email": "b@example.org", "first_name": "Bea"})  # the other
    taken = client.post(_url(sched), {**FORM, "email": "c@example.org", "first_name": "Cy"})
    outside = client.post(
        _url(sched, "20260609T0200Z"), {**FORM, "email": "d@example.org", "first_name": "Di"}
    )
    message = booking.UNAVAILABLE.encode()
    assert taken.status_code == outside.status_code == 409
    assert message in taken.content and message in outside.content
    for response in (taken, outside):
        assert b"clinician" not in response.content.lower()


@time_machine.travel(NOW, tick=False)
def test_booking_with_another_clinics_clinician_reveals_nothing_of_their_schedule(sched):
    world = sched.world
    other = world.users["other_clinic_staff"]
    other_clinic = world.other_clinic
    from bontrack.scheduling.defaults import ensure_clinic_defaults

    ensure_clinic_defaults(other_clinic)
    other_clinic.time_zone = "America/New_York"
    other_clinic.save()
    Room.objects.create(clinic=other_clinic, name="Room B")
    WorkingHours.objects.create(
        clinic=other_clinic, clinician=other, weekday=1, start=time(9), end=time(17)
    )
    other_patient = world.other_patient
    other_patient.clinic = other_clinic
    other_patient.save()
    from bontrack.scheduling.models import AppointmentType

    other_type = AppointmentType.objects.get(clinic=other_clinic, code="follow-up")
    booking.book_appointment(
        actor=world.users["clinic_admin"],
        clinic=other_clinic,
        patient=other_patient,
        appointment_type=other_type,
        starts_at=datetime(2026, 6, 9, 14, 0, tzinfo=UTC),
        clinician=other,
    )
    atype = sched.type("follow-up")
    busy, free = (
        world.client("front_desk").post(
            "/api/v1/scheduling/appointments",
            {
                "type_id": atype.pk,
                "patient_id": world.patient.pk,
                "starts_at": when,
                "clinician_id": other.pk,
            },
            content_type="application/json",
        )
        for when in ("2026-06-09T14:00:00Z", "2026-06-09T16:00:00Z")
    )
    assert busy.status_code == free.status_code == 409
    assert busy.json() == free.json()
    assert busy.json()["detail"] == booking.UNAVAILABLE


@time_machine.travel(NOW, tick=False)
def test_confirming_is_refused_when_the_existing_patient_is_already_booked_then(sched, client):
    rosa = sched.world.patient
    booking.book_appointment(
        actor=sched.world.users["front_desk"],
        clinic=sched.clinic,
        patient=rosa,
        appointment_type=sched.type("follow-up"),
        starts_at=datetime(2026, 6, 9, 14, 0, tzinfo=UTC),
        clinician=sched.world.users["physician"],
    )
    _book(sched, client, _as_rosa(sched))  # the nurse is still free at that time
    match = PendingMatch.objects.get()
    before = (
        list(Appointment.objects.order_by("pk").values_list("pk", "patient_id")),
        Patient.objects.count(),
        AuditEvent.objects.exclude(action="view").count(),
    )
    response = sched.world.client("front_desk").post(
        f"/schedule/matches/{match.pk}/", {"decision": "confirm"}
    )
    assert response.status_code == 409
    assert b"already has an appointment at that time" in response.content
    match.refresh_from_db()
    assert match.status == MatchStatus.PENDING
    assert (
        list(Appointment.objects.order_by("pk").values_list("pk", "patient_id")),
        Patient.objects.count(),
        AuditEvent.objects.exclude(action="view").count(),
    ) == before


@time_machine.travel(NOW, tick=False)
def test_a_booking_matches_with_accents_case_and_phone_punctuation_folded(sched, client):
    rosa = sched.world.patient
    rosa.phone = "(555) 010-2030"
    rosa.save()
    _book(
        sched,
        client,
        _as_rosa(sched, first_name="Rósa", last_name="CÓHEN", email="new@example.org"),
    )
    match = PendingMatch.objects.get()
    assert match.matched_patient == rosa and match.matched_on == ["name_and_birth_date"]
    PendingMatch.objects.all().delete()
    _book(
        sched,
        client,
        {**FORM, "email": "third@example.org", "phone": "+1 555 010 2030"},
        slot="20260609T1500Z",
    )
    assert PendingMatch.objects.get().matched_on == ["phone"]
