"""Several indications in one session (issue 10 item 5).

Chronic migraine with cervical dystonia, or an arm and a leg: the screen shows per-indication,
per-limb and total units, and the cumulative limit (BTX-CUM-ADULT-400, S16) counts every
indication of the session together with the sessions of the window before AND after it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from bontrack.audit.models import AuditEvent
from bontrack.factories import PatientFactory
from bontrack.patients.models import Condition
from bontrack.treatments.actions import charting, dose_guard
from bontrack.treatments.actions import vials as vials_actions
from bontrack.treatments.models import FindingDecision, Injection, TreatmentSession
from clinic_rules.data import rule

from .conftest import stock

pytestmark = pytest.mark.django_db

CM, CD = "chronic_migraine", "cervical_dystonia"
ADULT_CAP = Decimal(str(rule("BTX-CUM-ADULT-400").num("max_units")))  # 400 U (S16)
PREEMPT = Decimal(155)


def _patient(world, *codes: tuple[str, str]):
    today = timezone.localdate()
    patient: Any = PatientFactory(
        clinic=world.clinic, date_of_birth=today.replace(year=today.year - 45)
    )
    for indication, code in codes:
        Condition.objects.create(patient=patient, indication=indication, icd10_code=code)
    return patient


def _given(world, patient, when: datetime, indication: str, muscle: str, units: int) -> None:
    """A given (signed) session on file, written directly: history for the window."""
    s = TreatmentSession.objects.create(
        patient=patient,
        clinic=world.clinic,
        performed_at=when,
        indication=indication,
        indications=[indication],
    )
    Injection.objects.create(
        session=s, indication=indication, muscle=muscle, side="left", sites=2, units=units
    )
    TreatmentSession.objects.filter(pk=s.pk).update(
        status="signed", signed_at=when, signed_by=world.users["physician"], rule_set="x"
    )


def _draft(actor, patient, when: datetime, indications: list[str], templates: dict[str, str]):
    session = charting.create_session(
        actor=actor,
        patient=patient,
        performed_at=when,
        indications=indications,
        templates=templates,
    )
    for vial in stock(patient.clinic, vials=2, lot_number=f"M{session.pk:05d}"):
        vials_actions.open_vial(
            actor=actor,
            session=session,
            vial=vial,
            diluent_ml=Decimal("4"),
            reconstituted_at=when - timedelta(minutes=30),
        )
    return session


def test_migraine_and_dystonia_count_together_with_the_sessions_before_and_after(world):
    nurse, physician = world.users["nurse"], world.users["physician"]
    patient = _patient(world, (CM, "G43.709"), (CD, "G24.3"))
    day = timezone.now().replace(microsecond=0) - timedelta(days=30)
    _given(world, patient, day - timedelta(days=40), CM, "temporalis", 100)  # before
    _given(world, patient, day + timedelta(days=20), CD, "splenius_capitis", 100)  # after
    session = _draft(nurse, patient, day, [CM, CD], {CM: "preempt", CD: "clinician_built"})
    room = ADULT_CAP - PREEMPT - 200  # 45 U of dystonia fit in the 400 U window
    site = charting.add_injection(
        actor=nurse,
        session=session,
        indication=CD,
        muscle="splenius_capitis",
        side="right",
        sites=2,
        units=room,
    )
    # One unit more: refused for the nurse, nothing written.
    before = AuditEvent.objects.count()
    with pytest.raises(dose_guard.Blocked) as exc:
        charting.update_injection(actor=nurse, injection=site, units=room + 1)
    assert exc.value.rule_ids == ["BTX-CUM-ADULT-400"]
    assert "401 U (200 U already charted and 201 U in this session)" in exc.value.messages[0]
    assert AuditEvent.objects.count() == before
    assert Injection.objects.get(pk=site.pk).units == room
    # The physician overrides with a reason.
    charting.update_injection(
        actor=physician,
        injection=site,
        units=room + 1,
        override_reason="Severe retrocollis; the neurologist accepts the combined dose.",
    )
    assert FindingDecision.objects.filter(
        session=session, rule_id="BTX-CUM-ADULT-400", kind="override"
    ).exists()
    page = world.client("physician").get(f"/treatments/sessions/{session.pk}/").content.decode()
    totals = page[page.index('id="dose-totals"') :]
    assert "Chronic migraine" in totals and "Cervical dystonia" in totals
    assert ">201 U<" in totals and "401 U with this session" in totals


def test_a_session_outside_the_window_after_it_does_not_count(world):
    nurse = world.users["nurse"]
    patient = _patient(world, (CM, "G43.709"), (CD, "G24.3"))
    day = timezone.now().replace(microsecond=0) - timedelta(days=100)
    _given(world, patient, day + timedelta(days=84), CD, "splenius_capitis", 300)
    session = _draft(nurse, patient, day, [CM, CD], {CM: "preempt", CD: "clinician_built"})
    charting.add_injection(
        actor=nurse,
        session=session,
        indication=CD,
        muscle="splenius_capitis",
        side="right",
        sites=2,
        units=Decimal(200),
    )
    assert session.injections.count() == 32


def test_an_arm_and_a_leg_show_per_limb_totals(world):
    physician = world.users["physician"]
    patient = _patient(
        world, ("upper_limb_spasticity", "I69.351"), ("lower_limb_spasticity", "I69.351")
    )
    session = _draft(
        physician,
        patient,
        timezone.now().replace(microsecond=0) - timedelta(hours=1),
        ["upper_limb_spasticity", "lower_limb_spasticity"],
        {"upper_limb_spasticity": "clinician_built", "lower_limb_spasticity": "clinician_built"},
    )
    for ind, muscle, units in (
        ("upper_limb_spasticity", "biceps_brachii", 100),
        ("lower_limb_spasticity", "soleus", 150),
    ):
        charting.add_injection(
            actor=physician,
            session=session,
            indication=ind,
            muscle=muscle,
            side="left",
            sites=3,
            units=Decimal(units),
        )
    page = world.client("physician").get(f"/treatments/sessions/{session.pk}/").content.decode()
    totals = page[page.index('id="dose-totals"') :]
    assert "Left arm" in totals and "Left leg" in totals
    assert ">100 U<" in totals and ">150 U<" in totals and ">250 U<" in totals
