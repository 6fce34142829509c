"""Check-in readiness reads the re-treatment interval from the last signed session of the same
indication (a session of several indications counts for each), whatever the appointment's own
indication field says, and asks for a headache diary only from chronic migraine patients."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from bontrack.factories import PatientFactory
from bontrack.patients.models import Condition
from bontrack.scheduling.models import Appointment
from bontrack.scheduling.readiness import readiness
from bontrack.scheduling.tests.conftest import NOW
from bontrack.treatments.actions import charting, signing
from bontrack.treatments.actions import findings as findings_actions

pytestmark = pytest.mark.django_db
TEN = datetime(2026, 6, 2, 14, 0, tzinfo=UTC)  # Tuesday 2 June, 10:00 New York
DAY = date(2026, 6, 2)


def _patient(sched, *indications: str):
    patient = PatientFactory.create(clinic=sched.clinic, date_of_birth=date(1960, 5, 5))
    codes = {
        "upper_limb_spasticity": "I69.351",
        "chronic_migraine": "G43.709",
        "cervical_dystonia": "G24.3",
        "blepharospasm": "G24.5",
    }
    for ind in indications:
        Condition.objects.create(patient=patient, indication=ind, icd10_code=codes[ind])
    return patient


def _signed(sched, patient, when, indications):
    """A signed session of `indications` (clinician-built sites added through the service)."""
    from bontrack.factories import received_vials
    from bontrack.treatments.actions import vials

    actor = sched.world.users["physician"]
    session = charting.create_session(
        actor=actor, patient=patient, performed_at=when, indications=list(indications)
    )
    for ind in indications:
        if not session.injections.filter(indication=ind).exists():
            muscle = {
                "upper_limb_spasticity": "biceps_brachii",
                "cervical_dystonia": "splenius_capitis",
            }[ind]
            charting.add_injection(
                actor=actor, session=session, muscle=muscle, side="left", units=50, indication=ind
            )
    opened = received_vials(
        actor, patient.clinic, vials=len(indications), lot_number=f"R{session.pk:05d}"
    )
    for vial in opened:
        vials.open_vial(
            actor=actor,
            session=session,
            vial=vial,
            diluent_ml=4,
            reconstituted_at=when - timedelta(minutes=30),
        )
    charting.update_session(
        actor=actor, session=session, consent_obtained=True, medication_guide_offered=True
    )
    found = findings_actions.current_findings(session)
    for rule_id in sorted({f["rule_id"] for f in found["findings"] if f["severity"] == "warn"}):
        findings_actions.decide_finding(actor=actor, session=session, rule_id=rule_id)
    return signing.sign_session(actor=actor, session=session)


def _appointment(sched, patient, indication: str, start=TEN) -> Appointment:
    """A treatment visit booked through the service whose indication field ends up `indication`:
    public bookings and waitlist offers leave it blank, older rows carry the program default."""
    from bontrack.factories import booked_appointment

    appointment = booked_appointment(
        sched.world.users["physician"],
        patient,
        sched.type("treatment"),
        start,
        indication=indication or "",
        override_reason="Early review requested by the physician",
    )
    if appointment.indication != indication:
        Appointment.objects.filter(pk=appointment.pk).update(indication=indication)
        appointment.refresh_from_db()
    return appointment


def _checks(appointment):
    return {c.label: c for c in readiness([appointment])[appointment.pk]}


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("field", ["", "chronic_migraine", "upper_limb_spasticity"])
def test_a_spasticity_patient_treated_58_days_ago_is_not_ready_and_not_asked_for_a_diary(
    sched, field
):
    patient = _patient(sched, "upper_limb_spasticity")
    _signed(sched, patient, TEN - timedelta(days=58), ["upper_limb_spasticity"])
    checks = _checks(_appointment(sched, patient, field))
    interval = checks["Interval met"]
    assert interval.ok is False and "first session" not in interval.detail
    assert "Diary up to date" not in checks


@time_machine.travel(NOW, tick=False)
def test_a_session_of_two_indications_counts_for_the_second_one_too(sched):
    patient = _patient(sched, "chronic_migraine", "cervical_dystonia")
    _signed(sched, patient, TEN - timedelta(days=40), ["chronic_migraine", "cervical_dystonia"])
    interval = _checks(_appointment(sched, patient, "cervical_dystonia"))["Interval met"]
    assert interval.ok is False and "first session" not in interval.detail


@time_machine.travel(NOW, tick=False)
def test_another_indications_session_does_not_count_and_the_first_session_is_met(sched):
    patient = _patient(sched, "chronic_migraine", "upper_limb_spasticity")
    _signed(sched, patient, TEN - timedelta(days=30), ["upper_limb_spasticity"])
    checks = _checks(_appointment(sched, patient, "chronic_migraine"))
    assert checks["Interval met"].ok is True and checks["Interval met"].detail == "first session"
    assert checks["Diary up to date"].ok is False  # a migraine patient keeps a diary


@time_machine.travel(NOW, tick=False)
def test_the_interval_is_met_long_after_the_last_session_of_the_indication(sched):
    patient = _patient(sched, "upper_limb_spasticity")
    _signed(sched, patient, TEN - timedelta(days=120), ["upper_limb_spasticity"])
    interval = _checks(_appointment(sched, patient, ""))["Interval met"]
    assert interval.ok is True and interval.detail.startswith("from ")


def test_the_demos_treatment_visits_treat_a_condition_of_their_patient(capsys):
    from django.core.management import call_command

    call_command("demo", no_serve=True, patients=30)
    capsys.readouterr()
    visits = Appointment.objects.filter(
        practice__slug="demo", appointment_type__kind="treatment"
    ).select_related("patient")
    assert visits.exists()
    treated = {(pid, ind) for pid, ind in Condition.objects.values_list("patient_id", "indication")}
    assert all((v.patient_id, v.indication) in treated for v in visits)
    assert visits.exclude(indication="chronic_migraine").exists()
