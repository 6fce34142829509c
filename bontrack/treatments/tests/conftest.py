"""Fixtures for the treatments tests: stocked vials and sessions at each stage."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bontrack.inventory.models import Lot, Vial
from bontrack.treatments.actions import charting, plans, signing
from bontrack.treatments.actions import findings as findings_actions
from bontrack.treatments.actions import vials as vials_actions
from bontrack.treatments.models import TreatmentSession


@pytest.fixture(autouse=True)
def _migraine_patient(request):
    """The treatments tests' patient is treated for chronic migraine (the chart offers PREEMPT)."""
    if "world" not in request.fixturenames:
        return
    from bontrack.patients.models import Condition

    world = request.getfixturevalue("world")
    for patient in (world.patient, world.other_patient):
        Condition.objects.get_or_create(
            patient=patient, indication="chronic_migraine", icd10_code="G43.709"
        )


def stock(clinic, *, size: int = 200, vials: int = 3, lot_number: str = "C1234A") -> list[Vial]:
    lot, _ = Lot.objects.get_or_create(
        practice_id=clinic.practice_id,
        product="onabotulinumtoxinA",
        lot_number=lot_number,
        defaults={
            "ndc": "0023-3921-02",
            "expiry": timezone.localdate() + timedelta(days=365),
            "size_units": size,
        },
    )
    Vial.objects.bulk_create([Vial(lot=lot, clinic=clinic) for _ in range(vials)])
    return list(Vial.objects.filter(lot=lot, clinic=clinic, status="in_stock"))


def chart(user, patient, *, performed_at: datetime | None = None) -> TreatmentSession:
    """A draft PREEMPT session with a reconstituted 200 U vial and consent recorded (the patient is
    given a chronic migraine condition when none is on file: a session treats a recorded condition)."""
    from bontrack.patients.models import Condition

    if not Condition.objects.filter(patient=patient, active=True).exists():
        Condition.objects.create(
            patient=patient, indication="chronic_migraine", icd10_code="G43.709"
        )
    performed_at = performed_at or timezone.now()
    # The fixed PREEMPT sites by name: a default start would copy the patient's last session.
    # (An active plan still comes first: it is the physician's order.)
    treated = charting.treated_indications(patient)
    templates = (
        {"chronic_migraine": "preempt"}
        if "chronic_migraine" in treated and plans.active_plan(patient, "chronic_migraine") is None
        else None
    )
    session = charting.create_session(
        actor=user, patient=patient, performed_at=performed_at, templates=templates
    )
    vial = stock(patient.clinic, vials=1, lot_number=f"L{session.pk:05d}")[0]
    vials_actions.open_vial(
        actor=user,
        session=session,
        vial=vial,
        diluent_ml=Decimal("4"),
        reconstituted_at=performed_at - timedelta(minutes=30),
    )
    charting.update_session(
        actor=user, session=session, consent_obtained=True, medication_guide_offered=True
    )
    return session


def acknowledge_all(user, session: TreatmentSession) -> None:
    """Acknowledge every current warning (one acknowledgement per rule covers its warnings)."""
    result = findings_actions.current_findings(session)
    for rule_id in sorted({f["rule_id"] for f in result["findings"] if f["severity"] == "warn"}):
        findings_actions.decide_finding(actor=user, session=session, rule_id=rule_id)


def signed(user, patient, *, performed_at: datetime | None = None) -> TreatmentSession:
    session = chart(user, patient, performed_at=performed_at)
    acknowledge_all(user, session)
    return signing.sign_session(actor=user, session=session)


def at(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour, 0))


@pytest.fixture
def physician(world):
    return world.users["physician"]


@pytest.fixture
def nurse(world):
    return world.users["nurse"]
