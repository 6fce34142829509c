"""Staff book any appointment type for any patient: the slot finder (earliest fitting slots across
clinicians, opening hours, time of day, the re-treatment interval and the 12-week rhythm), a series
of treatment cycles in one all-or-nothing action, and no second future treatment of an indication."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bontrack.accounts.roles import Perm
from bontrack.audit.models import AuditEvent
from bontrack.factories import PatientFactory, booked_appointment, signed_session
from bontrack.patients.models import Condition
from bontrack.patients.services import Conflict
from bontrack.scheduling import facts
from bontrack.scheduling.actions import staff_booking
from bontrack.scheduling.models import Appointment, AvailabilityException, ExceptionKind
from bontrack.scheduling.tests.conftest import NOW
from conftest import permission_matrix

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")
# Staff of other clinics land on their own clinic's finder (clinic A1 is not theirs to pick).
FINDER = permission_matrix(Perm.SCHEDULE_BOOK, other_clinic_staff=200, other_practice_staff=200)
STEP = facts.interval_for("chronic_migraine").target_days


def _url(sched, **params):
    query = "&".join(f"{k}={v}" for k, v in {"clinic": sched.clinic.pk, **params}.items())
    return f"/schedule/new/?{query}"


def _changes():
    return AuditEvent.objects.exclude(outcome="denied").exclude(action="view").count()


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("persona,expected", FINDER.items())
def test_the_slot_finder_over_every_persona(sched, persona, expected):
    response = sched.world.client(persona).get(
        _url(sched, type=sched.type("consult").pk, patient=sched.world.patient.pk)
    )
    assert response.status_code == expected
    if persona in ("other_clinic_staff", "other_practice_staff"):
        assert response.context["clinic"] != sched.clinic
        assert response.context["patient"] is None


@time_machine.travel(NOW, tick=False)
def test_the_finder_shows_the_earliest_slots_across_clinicians_within_opening_hours(sched):
    client = sched.world.client("front_desk")
    page = client.get(
        _url(sched, type=sched.type("free-video-consult").pk, patient=sched.world.patient.pk)
    )
    slots = page.context["finding"].slots
    assert slots, "free times are offered"
    assert [s.starts_at for s in slots] == sorted(s.starts_at for s in slots)
    # Both clinicians (physician and nurse work 9 to 17) are offered at the earliest time
    first = [s for s in slots if s.starts_at == slots[0].starts_at]
    names = {s.clinician for s in first}
    assert len(names) == 2
    assert all(time(9) <= s.local.time() < time(17) for s in slots)
    # The names shown are clinicians' names, never user names
    assert all(
        s.clinician == sched.world.users["physician"].get_full_name()
        or s.clinician == sched.world.users["nurse"].get_full_name()
        for s in slots
    )
    # Time of day: afternoon only
    page = client.get(
        _url(
            sched,
            type=sched.type("free-video-consult").pk,
            time="afternoon",
            clinician=sched.world.users["nurse"].pk,
        )
    )
    slots = page.context["finding"].slots
    assert slots and all(12 <= s.local.hour < 17 for s in slots)
    assert {s.clinician_id for s in slots} == {sched.world.users["nurse"].pk}


@time_machine.travel(NOW, tick=False)
def test_front_desk_books_a_consultation_from_the_finder_audited_with_a_success_message(sched):
    client = sched.world.client("front_desk")
    patient = sched.world.patient
    page = client.get(_url(sched, type=sched.type("consult").pk, patient=patient.pk))
    slot = page.context["finding"].slots[0]
    response = client.post(
        _url(sched, type=sched.type("consult").pk, patient=patient.pk),
        {"patient": patient.pk, "type": sched.type("consult").pk, "slot": slot.key},
        follow=True,
    )
    assert response.status_code == 200
    booked = Appointment.objects.get(patient=patient)
    assert booked.starts_at == slot.starts_at and booked.clinician_id == slot.clinician_id
    assert AuditEvent.objects.filter(action="create", object_id=str(booked.pk)).exists()
    assert "Booked in-person consultation" in response.content.decode()


@time_machine.travel(NOW, tick=False)
def test_a_treatment_search_starts_at_the_12_week_date_and_early_needs_the_physician(sched):
    patient = sched.world.patient
    last = datetime(2026, 4, 1, 15, tzinfo=UTC)
    signed_session(sched.world.users["physician"], patient, last)
    earliest, target, _ = facts.due_dates(last, facts.interval_for("chronic_migraine"), NY)
    treatment = sched.type("treatment").pk
    desk = sched.world.client("front_desk")
    page = desk.get(_url(sched, type=treatment, patient=patient.pk))
    finding = page.context["finding"]
    assert finding.target == target
    assert finding.slots and finding.slots[0].local.date() >= target
    # Asking for an earlier start still never goes before the earliest allowed date
    page = desk.get(_url(sched, type=treatment, patient=patient.pk, **{"from": "2026-06-02"}))
    assert page.context["finding"].slots[0].local.date() >= earliest
    # The front desk cannot ask for an early treatment; a physician can (and must give a reason)
    page = desk.get(
        _url(sched, type=treatment, patient=patient.pk, early=1, **{"from": "2026-06-02"})
    )
    assert page.context["finding"].slots[0].local.date() >= earliest
    doctor = sched.world.client("physician")
    page = doctor.get(
        _url(sched, type=treatment, patient=patient.pk, early=1, **{"from": "2026-06-02"})
    )
    slot = page.context["finding"].slots[0]
    assert slot.local.date() < earliest
    before = _changes()
    refused = doctor.post(
        _url(sched, type=treatment, patient=patient.pk, early=1),
        {"patient": patient.pk, "type": treatment, "slot": slot.key},
    )
    assert refused.status_code == 422 and "override" in refused.content.decode()
    assert _changes() == before and not Appointment.objects.filter(patient=patient).exists()
    ok = doctor.post(
        _url(sched, type=treatment, patient=patient.pk, early=1),
        {
            "patient": patient.pk,
            "type": treatment,
            "slot": slot.key,
            "override_reason": "Severe relapse",
        },
    )
    assert ok.status_code == 302
    assert Appointment.objects.get(patient=patient).interval_override_reason == "Severe relapse"


@time_machine.travel(NOW, tick=False)
def test_a_series_books_each_cycle_twelve_weeks_apart_in_one_action(sched):
    patient = sched.world.patient
    client = sched.world.client("front_desk")
    treatment = sched.type("treatment").pk
    page = client.get(_url(sched, type=treatment, patient=patient.pk))
    slot = page.context["finding"].slots[0]
    response = client.post(
        _url(sched, type=treatment, patient=patient.pk),
        {"patient": patient.pk, "type": treatment, "slot": slot.key, "cycles": "4"},
    )
    assert response.status_code == 302
    rows = list(Appointment.objects.filter(patient=patient).order_by("starts_at"))
    assert len(rows) == 4
    local = [a.starts_at.astimezone(NY) for a in rows]
    assert all((b.date() - a.date()).days == STEP for a, b in zip(local, local[1:], strict=False))
    assert {t.time() for t in local} == {slot.local.time()}


@time_machine.travel(NOW, tick=False)
def test_a_series_with_a_cycle_that_does_not_fit_books_nothing_and_names_the_cycle(sched):
    patient = sched.world.patient
    client = sched.world.client("front_desk")
    treatment = sched.type("treatment").pk
    page = client.get(
        _url(sched, type=treatment, patient=patient.pk, clinician=sched.world.users["physician"].pk)
    )
    slot = page.context["finding"].slots[0]
    second = slot.starts_at.astimezone(NY) + timedelta(days=STEP)
    AvailabilityException.objects.create(
        clinic=sched.clinic,
        clinician=sched.world.users["physician"],
        kind=ExceptionKind.LEAVE,
        starts_at=second - timedelta(hours=1),
        ends_at=second + timedelta(hours=3),
    )
    before = _changes()
    response = client.post(
        _url(sched, type=treatment, patient=patient.pk),
        {"patient": patient.pk, "type": treatment, "slot": slot.key, "cycles": "2"},
    )
    assert response.status_code == 409
    assert "Cycle 2 of 2" in response.content.decode()
    assert not Appointment.objects.filter(patient=patient).exists()
    assert _changes() == before


@time_machine.travel(NOW, tick=False)
def test_a_second_future_treatment_of_the_same_indication_is_refused(sched):
    patient = sched.world.patient
    Condition.objects.create(patient=patient, indication="chronic_migraine", icd10_code="G43.709")
    first = booked_appointment(
        sched.world.users["front_desk"],
        patient,
        sched.type("treatment"),
        datetime(2026, 6, 10, 14, tzinfo=UTC),
        indication="chronic_migraine",
    )
    before = _changes()
    with pytest.raises(Conflict, match="already has a treatment booked"):
        staff_booking.book_series(
            actor=sched.world.users["front_desk"],
            clinic=sched.clinic,
            patient=patient,
            appointment_type=sched.type("treatment"),
            starts_at=datetime(2026, 9, 9, 14, tzinfo=UTC),
            indication="chronic_migraine",
        )
    assert list(Appointment.objects.filter(patient=patient)) == [first]
    assert _changes() == before
    # The finder says so and offers no "Book" button
    page = sched.world.client("front_desk").get(
        _url(sched, type=sched.type("treatment").pk, patient=patient.pk)
    )
    assert page.context["existing"] == first
    assert b'name="slot"' not in page.content


@time_machine.travel(NOW, tick=False)
def test_book_appointment_refuses_a_second_future_treatment_of_the_same_indication(sched):
    """The single-booking service (UI, API, factories) has the same guard as the series."""
    from bontrack.scheduling.actions import booking

    patient = sched.world.patient
    Condition.objects.create(patient=patient, indication="chronic_migraine", icd10_code="G43.709")
    first = booked_appointment(
        sched.world.users["front_desk"],
        patient,
        sched.type("treatment"),
        datetime(2026, 6, 10, 14, tzinfo=UTC),
        indication="chronic_migraine",
    )
    before = _changes()
    with pytest.raises(Conflict, match="already has a treatment booked for chronic migraine"):
        booking.book_appointment(
            actor=sched.world.users["front_desk"],
            clinic=sched.clinic,
            patient=patient,
            appointment_type=sched.type("treatment"),
            starts_at=datetime(2026, 9, 9, 14, tzinfo=UTC),
        )
    assert list(Appointment.objects.filter(patient=patient)) == [first]
    assert _changes() == before
    # Once the first is cancelled, the next one can be booked.
    from bontrack.scheduling.actions import changes

    changes.cancel_appointment(
        actor=sched.world.users["front_desk"], appointment=first, reason="patient_request"
    )
    second = booking.book_appointment(
        actor=sched.world.users["front_desk"],
        clinic=sched.clinic,
        patient=patient,
        appointment_type=sched.type("treatment"),
        starts_at=datetime(2026, 9, 9, 14, tzinfo=UTC),
    )
    assert second.indication == "chronic_migraine"


def _finder_queries(sched, client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@time_machine.travel(NOW, tick=False)
def test_the_slot_finder_costs_the_same_number_of_queries_at_two_data_sizes(sched):
    client = sched.world.client("front_desk")
    url = _url(sched, type=sched.type("treatment").pk, patient=sched.world.patient.pk)
    client.get(url)  # warm the session and caches
    desk = sched.world.users["front_desk"]

    def book(n, day0):
        for i in range(n):
            p = PatientFactory(clinic=sched.clinic)
            booked_appointment(
                desk,
                p,
                sched.type("free-video-consult"),
                datetime.combine(day0 + timedelta(days=i // 10), time(9), tzinfo=NY)
                + timedelta(minutes=30 * (i % 10)),
                clinician=sched.world.users["nurse"],
            )

    book(3, date(2026, 6, 2))
    small = _finder_queries(sched, client, url)
    book(40, date(2026, 6, 8))
    large = _finder_queries(sched, client, url)
    assert small == large
    assert large <= 30


@time_machine.travel(NOW, tick=False)
def test_the_finder_searches_the_first_week_then_the_rest_with_the_same_answer(sched, monkeypatch):
    """Two searches (first week, then the rest) give what one search over the range gives."""
    from bontrack.scheduling import slot_finder

    for persona in ("physician", "nurse"):
        AvailabilityException.objects.create(
            clinic=sched.clinic,
            clinician=sched.world.users[persona],
            kind=ExceptionKind.LEAVE,
            starts_at=datetime(2026, 6, 1, 4, tzinfo=UTC),
            ends_at=datetime(2026, 6, 10, 4, tzinfo=UTC),
        )

    def run():
        return slot_finder.find(
            clinic=sched.clinic,
            appointment_type=sched.type("consult"),
            patient=None,
            indication="",
            start=None,
            end=None,
        ).slots

    split = run()
    monkeypatch.setattr(slot_finder, "FIRST_CHUNK_DAYS", slot_finder.MAX_RANGE_DAYS)
    whole = run()
    assert split and [s.key for s in split] == [s.key for s in whole]
    assert split[0].local.date() == date(2026, 6, 10)
