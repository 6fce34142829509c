"""Check-in shows every pre-treatment readiness criterion; each one is tested met and not met."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bontrack.accounts.roles import Perm
from bontrack.factories import PatientFactory
from bontrack.patients.models import WeightMeasurement
from bontrack.scheduling.actions import booking
from bontrack.scheduling.readiness import readiness
from bontrack.scheduling.tests.conftest import NOW
from bontrack.scheduling.tests.test_recall_and_interval import _signed
from conftest import permission_matrix

pytestmark = pytest.mark.django_db
TEN = datetime(2026, 6, 2, 14, 0, tzinfo=UTC)  # Tuesday 2 June, 10:00 New York
DAY = date(2026, 6, 2)
LONG_AGO = datetime(2026, 1, 10, 15, tzinfo=UTC)

PAGE = permission_matrix(Perm.SCHEDULE_VIEW)


def _treatment(sched, patient=None, override="", start=TEN):
    return booking.book_appointment(
        actor=sched.world.users["physician"],
        clinic=sched.clinic,
        patient=patient or sched.world.patient,
        appointment_type=sched.type("treatment"),
        starts_at=start,
        indication="chronic_migraine",
        override_reason=override,
    )


def _checks(appointment):
    appointment.refresh_from_db()
    return {c.label: c for c in readiness([appointment])[appointment.pk]}


def _lot(sched, expiry, product="onabotulinumtoxinA", vials=1, clinic=None):
    from bontrack.inventory.models import Lot, Vial

    lot = Lot.objects.create(
        practice=sched.clinic.practice,
        product=product,
        ndc="0023-1145-01",
        lot_number=f"L{expiry:%Y%m%d}{product[:3]}",
        expiry=expiry,
        size_units=100,
    )
    Vial.objects.bulk_create([Vial(lot=lot, clinic=clinic or sched.clinic) for _ in range(vials)])
    return lot


def _diary(patient, days):
    from bontrack.diaries.models import DiaryDay

    for d in days:
        DiaryDay.objects.create(patient=patient, date=d, headache=False, source="patient")


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("persona,expected", PAGE.items())
def test_the_check_in_page_over_every_persona(sched, persona, expected):
    appointment = _treatment(sched)
    with time_machine.travel(appointment.starts_at - timedelta(hours=1), tick=False):
        response = sched.world.client(persona).get(
            f"/schedule/appointments/{appointment.pk}/check-in/"
        )
    assert response.status_code == expected
    if expected == 200:
        assert b"Pre-treatment readiness" in response.content
        assert (b">Check in</button>" in response.content) is (persona != "billing")


@time_machine.travel(NOW, tick=False)
def test_interval_met_after_the_minimum_and_not_met_before(sched):
    _signed(sched.world.patient, LONG_AGO, sched.world.users["physician"])
    assert _checks(_treatment(sched))["Interval met"].ok is True
    other = PatientFactory(clinic=sched.clinic)
    _signed(other, datetime(2026, 5, 1, 15, tzinfo=UTC), sched.world.users["physician"])
    early = _treatment(sched, other, override="Severe relapse", start=TEN + timedelta(hours=2))
    assert _checks(early)["Interval met"].ok is False


@time_machine.travel(NOW, tick=False)
def test_an_open_adverse_effect_fails_and_a_resolved_one_passes(sched):
    from bontrack.treatments.models import AdverseEffect

    session = _signed(sched.world.patient, LONG_AGO, sched.world.users["physician"])
    appointment = _treatment(sched)
    assert _checks(appointment)["No open adverse effect"].ok is True
    effect = AdverseEffect.objects.create(
        patient=sched.world.patient,
        session=session,
        kind="ptosis",
        reported_at=LONG_AGO + timedelta(days=5),
        reported_by="staff",
    )
    assert _checks(appointment)["No open adverse effect"].ok is False
    effect.status, effect.resolved_at = "resolved", LONG_AGO + timedelta(days=20)
    effect.save()
    assert _checks(appointment)["No open adverse effect"].ok is True


@time_machine.travel(NOW, tick=False)
def test_consent_is_current_within_the_clinic_policy_and_not_after(sched):
    appointment = _treatment(sched)
    assert _checks(appointment)["Consent current"].ok is False  # never given
    _signed(
        sched.world.patient, datetime(2025, 1, 2, 15, tzinfo=UTC), sched.world.users["physician"]
    )
    assert _checks(appointment)["Consent current"].ok is False  # older than 365 days
    _signed(sched.world.patient, LONG_AGO, sched.world.users["physician"])
    assert _checks(appointment)["Consent current"].ok is True


@time_machine.travel(NOW, tick=False)
def test_the_diary_is_up_to_date_with_an_entry_for_each_of_the_last_seven_days(sched):
    appointment = _treatment(sched)
    _diary(sched.world.patient, [DAY - timedelta(days=i) for i in range(2, 8)])  # six days
    assert _checks(appointment)["Diary up to date"].ok is False
    _diary(sched.world.patient, [DAY - timedelta(days=1)])
    assert _checks(appointment)["Diary up to date"].ok is True


@time_machine.travel(NOW, tick=False)
def test_a_childs_weight_must_be_recent_and_adults_are_not_asked(sched):
    assert "Weight recent" not in _checks(_treatment(sched))
    child = PatientFactory(clinic=sched.clinic, date_of_birth=date(2016, 3, 1))
    appointment = _treatment(sched, child, start=TEN + timedelta(hours=2))
    assert _checks(appointment)["Weight recent"].ok is False  # none recorded
    WeightMeasurement.objects.create(
        patient=child, measured_on=DAY - timedelta(days=60), weight_kg=30
    )
    assert _checks(appointment)["Weight recent"].ok is False  # too old
    WeightMeasurement.objects.create(
        patient=child, measured_on=DAY - timedelta(days=3), weight_kg=31
    )
    assert _checks(appointment)["Weight recent"].ok is True


@time_machine.travel(NOW, tick=False)
def test_drug_on_hand_needs_an_in_stock_vial_of_the_product_here_expiring_after_the_visit(sched):
    appointment = _treatment(sched)
    assert _checks(appointment)["Drug on hand"].ok is False  # nothing in stock
    _lot(sched, DAY)  # expires on the day: not after it
    _lot(sched, DAY + timedelta(days=90), product="abobotulinumtoxinA")  # another product
    _lot(sched, DAY + timedelta(days=90), clinic=sched.world.other_clinic)  # another clinic
    assert _checks(appointment)["Drug on hand"].ok is False
    _lot(sched, DAY + timedelta(days=1), vials=2)
    check = _checks(appointment)["Drug on hand"]
    assert check.ok is True and "2 vials" in check.detail


@time_machine.travel(NOW, tick=False)
def test_drug_on_hand_follows_the_product_of_the_last_signed_session(sched):
    from bontrack.treatments.models import TreatmentSession

    TreatmentSession.objects.create(
        patient=sched.world.patient,
        clinic=sched.clinic,
        indication="chronic_migraine",
        product="abobotulinumtoxinA",
        performed_at=LONG_AGO,
        status="signed",
        signed_at=LONG_AGO,
        signed_by=sched.world.users["physician"],
        rule_set="botox-us@1",
        consent_obtained=True,
    )
    appointment = _treatment(sched)
    _lot(sched, DAY + timedelta(days=90))  # the default product only
    assert _checks(appointment)["Drug on hand"].ok is False
    _lot(sched, DAY + timedelta(days=90), product="abobotulinumtoxinA")
    assert _checks(appointment)["Drug on hand"].ok is True


@time_machine.travel(NOW, tick=False)
def test_the_check_in_page_shows_not_met_criteria_and_checks_in(sched):
    appointment = _treatment(sched)
    client = sched.world.client("front_desk")
    page = client.get(f"/schedule/appointments/{appointment.pk}/check-in/")
    assert b"Drug on hand" in page.content and b"not met" in page.content
    # The day before, check-in is refused in plain words and nothing changes
    early = client.post(f"/schedule/appointments/{appointment.pk}/checked_in/", follow=True)
    assert early.status_code == 422 and "only possible on the day" in early.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == "booked"
    # On the day it works, with a success message
    with time_machine.travel(appointment.starts_at - timedelta(hours=1), tick=False):
        client = sched.world.client("front_desk")  # a fresh sign-in on the day
        done = client.post(f"/schedule/appointments/{appointment.pk}/checked_in/", follow=True)
    assert done.redirect_chain and "Checked in" in done.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == "checked_in"


@time_machine.travel(NOW, tick=False)
def test_readiness_costs_the_same_for_one_or_many_appointments(sched):
    first = _treatment(sched)
    with CaptureQueriesContext(connection) as one:
        readiness([first])
    many = [first]
    for i in range(1, 5):
        p = PatientFactory(clinic=sched.clinic)
        _signed(p, LONG_AGO, sched.world.users["physician"])
        _lot(sched, DAY + timedelta(days=30 + i))
        many.append(
            booking.book_appointment(
                actor=sched.world.users["physician"],
                clinic=sched.clinic,
                patient=p,
                appointment_type=sched.type("treatment"),
                starts_at=TEN + timedelta(hours=i),
                indication="chronic_migraine",
            )
        )
    with CaptureQueriesContext(connection) as five:
        readiness(many)
    assert len(five.captured_queries) == len(one.captured_queries)
