"""Pediatric limb limits through the real actions (issue 14 item 1, clinical facts §1.5).

Each arm treated: the lower of 6 U/kg or 200 U (BTX-PEDS-ULS-6UKG-200, S18); each leg treated: the
lower of 8 U/kg or 300 U (BTX-PEDS-LLS-8UKG-300, S19); two or more limbs together: the lower of
10 U/kg or 340 U in the window (BTX-CUM-PEDS-10UKG-340, S19, S17). The limits are read from
clinic_rules; each row charts a session (create, open vials, add sites), at, below and above a
limit, and either signs it or sees the last site refused with the limit's block and nothing saved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from bontrack.audit.models import AuditEvent
from bontrack.factories import PatientFactory
from bontrack.patients.models import Condition, WeightMeasurement
from bontrack.treatments.actions import charting, dose_guard, signing
from bontrack.treatments.actions import findings as findings_actions
from bontrack.treatments.actions import vials as vials_actions
from bontrack.treatments.models import Injection, TreatmentSession
from clinic_rules.data import rule

from .conftest import acknowledge_all, stock

pytestmark = pytest.mark.django_db

ULS, LLS = "upper_limb_spasticity", "lower_limb_spasticity"
ARM_RULE, LEG_RULE = "BTX-PEDS-ULS-6UKG-200", "BTX-PEDS-LLS-8UKG-300"
COMBINED_RULE = "BTX-CUM-PEDS-10UKG-340"
MUSCLE = {ULS: "pronator_teres", LLS: "soleus"}
CHILD_YEARS = 8  # within the labelled 2–17 years (§8), so no age finding


def limit(rule_id: str, kg: int) -> Decimal:
    """The lower of units_per_kg × weight or max_units, from the rule data (§1.5)."""
    r = rule(rule_id)
    return min(Decimal(str(r.num("units_per_kg"))) * kg, Decimal(str(r.num("max_units"))))


def arm(kg: int) -> Decimal:
    return limit(ARM_RULE, kg)


def leg(kg: int) -> Decimal:
    return limit(LEG_RULE, kg)


def both(kg: int) -> Decimal:
    return limit(COMBINED_RULE, kg)


ONE = Decimal(1)
Units = Callable[[int], Decimal]


@dataclass(frozen=True)
class Row:
    name: str
    kg: int
    limbs: tuple[tuple[str, str, Units], ...]  # (indication, side, units for the weight)
    blocked_by: str | None  # None: the session signs


# Weights: 25 kg makes every per-kg limit the binding one (arm 150 U, leg 200 U, together 250 U);
# 40 kg (arm 200 U) and 45 kg (leg 300 U) make the absolute caps bind, and 40 kg together 340 U.
ROWS = [
    # one arm (per kg, then absolute)
    Row("arm at 6 U/kg", 25, ((ULS, "left", arm),), None),
    Row("arm below 6 U/kg", 25, ((ULS, "left", lambda kg: arm(kg) - ONE),), None),
    Row("arm above 6 U/kg", 25, ((ULS, "left", lambda kg: arm(kg) + ONE),), ARM_RULE),
    Row("arm at 200 U", 40, ((ULS, "right", arm),), None),
    Row("arm below 200 U", 40, ((ULS, "right", lambda kg: arm(kg) - ONE),), None),
    Row("arm above 200 U", 40, ((ULS, "right", lambda kg: arm(kg) + ONE),), ARM_RULE),
    # one leg
    Row("leg at 8 U/kg", 25, ((LLS, "left", leg),), None),
    Row("leg below 8 U/kg", 25, ((LLS, "left", lambda kg: leg(kg) - ONE),), None),
    Row("leg above 8 U/kg", 25, ((LLS, "left", lambda kg: leg(kg) + ONE),), LEG_RULE),
    Row("leg at 300 U", 45, ((LLS, "right", leg),), None),
    Row("leg below 300 U", 45, ((LLS, "right", lambda kg: leg(kg) - ONE),), None),
    Row("leg above 300 U", 45, ((LLS, "right", lambda kg: leg(kg) + ONE),), LEG_RULE),
    # two legs: each within its own limit, together at, below and above the combined limit
    Row(
        "150 U and 100 U in the legs of a 25 kg child (the issue's case)",
        25,
        ((LLS, "left", lambda kg: Decimal(150)), (LLS, "right", lambda kg: Decimal(100))),
        None,
    ),
    Row(
        "both legs below 10 U/kg together",
        25,
        ((LLS, "left", lambda kg: Decimal(150)), (LLS, "right", lambda kg: Decimal(99))),
        None,
    ),
    Row(
        "both legs above 10 U/kg together",
        25,
        ((LLS, "left", lambda kg: Decimal(150)), (LLS, "right", lambda kg: Decimal(101))),
        COMBINED_RULE,
    ),
    Row(
        "one leg above its limit, the two together within 10 U/kg",
        25,
        ((LLS, "right", lambda kg: Decimal(10)), (LLS, "left", lambda kg: leg(kg) + ONE)),
        LEG_RULE,
    ),
    # two arms
    Row(
        "each arm at 6 U/kg, together below 10 U/kg",
        20,
        ((ULS, "left", arm), (ULS, "right", lambda kg: both(kg) - arm(kg) - ONE)),
        None,
    ),
    Row(
        "both arms at 10 U/kg together",
        25,
        ((ULS, "left", arm), (ULS, "right", lambda kg: both(kg) - arm(kg))),
        None,
    ),
    Row(
        "both arms above 10 U/kg together",
        25,
        ((ULS, "left", arm), (ULS, "right", lambda kg: both(kg) - arm(kg) + ONE)),
        COMBINED_RULE,
    ),
    # arm and leg
    Row(
        "arm and leg at 10 U/kg together",
        25,
        ((ULS, "left", lambda kg: Decimal(100)), (LLS, "right", lambda kg: both(kg) - 100)),
        None,
    ),
    Row(
        "arm and leg above 10 U/kg together",
        25,
        ((ULS, "left", lambda kg: Decimal(100)), (LLS, "right", lambda kg: both(kg) - 99)),
        COMBINED_RULE,
    ),
    Row(
        "arm and leg at 340 U together",
        40,
        ((ULS, "left", arm), (LLS, "right", lambda kg: both(kg) - arm(kg))),
        None,
    ),
    Row(
        "arm and leg below 340 U together",
        40,
        ((ULS, "left", arm), (LLS, "right", lambda kg: both(kg) - arm(kg) - ONE)),
        None,
    ),
    Row(
        "arm and leg above 340 U together",
        40,
        ((ULS, "left", arm), (LLS, "right", lambda kg: both(kg) - arm(kg) + ONE)),
        COMBINED_RULE,
    ),
]


def test_the_limits_are_those_of_the_fact_sheet():
    """§1.5 (S18, S19, S17): the numbers the rows are built on, read from clinic_rules."""
    assert (arm(25), arm(40)) == (150, 200)
    assert (leg(25), leg(45)) == (200, 300)
    assert (both(25), both(40)) == (250, 340)


def child(world, kg: int) -> Any:
    today = timezone.localdate()
    patient: Any = PatientFactory(
        clinic=world.clinic,
        date_of_birth=today.replace(year=today.year - CHILD_YEARS) - timedelta(days=40),
    )
    Condition.objects.create(patient=patient, indication=ULS, icd10_code="G80.0")
    Condition.objects.create(patient=patient, indication=LLS, icd10_code="G80.1")
    WeightMeasurement.objects.create(patient=patient, measured_on=today, weight_kg=Decimal(kg))
    return patient


def limb_session(actor, patient, indications: list[str], *, vials: int = 2) -> TreatmentSession:
    """A draft with empty clinician-built plans, two 200 U vials open, consent recorded."""
    performed = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    session = charting.create_session(
        actor=actor,
        patient=patient,
        performed_at=performed,
        indications=indications,
        templates=dict.fromkeys(indications, "clinician_built"),
    )
    for vial in stock(patient.clinic, vials=vials, lot_number=f"P{session.pk:05d}"):
        vials_actions.open_vial(
            actor=actor,
            session=session,
            vial=vial,
            diluent_ml=Decimal("4"),
            reconstituted_at=performed - timedelta(minutes=30),
        )
    charting.update_session(
        actor=actor, session=session, consent_obtained=True, medication_guide_offered=True
    )
    return session


def add(actor, session, indication: str, side: str, units: Decimal) -> Injection:
    return charting.add_injection(
        actor=actor,
        session=session,
        indication=indication,
        muscle=MUSCLE[indication],
        side=side,
        sites=4,
        units=units,
    )


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_pediatric_limb_limits(world, row: Row):
    physician = world.users["physician"]
    patient = child(world, row.kg)
    limbs = [(ind, side, units(row.kg)) for ind, side, units in row.limbs]
    session = limb_session(physician, patient, sorted({ind for ind, _, _ in limbs}))
    *first, (last_ind, last_side, last_units) = limbs
    for ind, side, units in first:
        add(physician, session, ind, side, units)
    if row.blocked_by is None:
        add(physician, session, last_ind, last_side, last_units)
        acknowledge_all(physician, session)
        signed = signing.sign_session(actor=physician, session=session)
        assert signed.status == "signed"
        assert Decimal(str(signed.totals["session_units"])) == sum(u for _, _, u in limbs)
        assert not [f for f in signed.findings if f["severity"] == "block"]
        return
    before = (AuditEvent.objects.count(), session.injections.count())
    with pytest.raises(dose_guard.Blocked) as exc:
        add(physician, session, last_ind, last_side, last_units)
    assert row.blocked_by in {f["rule_id"] for f in exc.value.blocks}
    assert (AuditEvent.objects.count(), session.injections.count()) == before
    assert TreatmentSession.objects.get(pk=session.pk).status == "draft"


# ---- a bilateral row counts half on each side ----------------------------------------------------


def test_the_app_charts_a_limb_on_one_side_only(world):
    physician = world.users["physician"]
    session = limb_session(physician, child(world, 25), [LLS])
    with pytest.raises(ValidationError) as exc:
        add(physician, session, LLS, "bilateral", Decimal(10))
    assert "side" in exc.value.message_dict
    assert not session.injections.exists()


def _bilateral(session: TreatmentSession, units: Decimal) -> None:
    """A bilateral leg row (as data imported or charted before the screen refused them): the
    signing check still counts it, half on each side."""
    Injection.objects.create(
        session=session,
        indication=LLS,
        muscle=MUSCLE[LLS],
        side="bilateral",
        sites=4,
        units=units,
        position=1,
    )


def test_a_bilateral_row_counts_half_on_each_side_and_signs(world):
    physician = world.users["physician"]
    session = limb_session(physician, child(world, 25), [LLS])
    # 240 U on both legs: 120 U each (within 8 U/kg × 25 kg = 200 U per leg), 240 U together
    # (within 250 U). Counted whole on one side it would break the per-leg limit.
    units = both(25) - 10
    assert units / 2 <= leg(25) < units
    _bilateral(session, units)
    acknowledge_all(physician, session)
    signed = signing.sign_session(actor=physician, session=session)
    assert signed.status == "signed"
    assert not [f for f in signed.findings if f["rule_id"] == LEG_RULE]


def test_a_bilateral_row_with_a_leg_over_its_limit_is_not_signed(world):
    physician = world.users["physician"]
    session = limb_session(physician, child(world, 25), [LLS])
    # 200 U on both legs (100 U each) and 101 U more in the left leg: 201 U there, over 200 U.
    _bilateral(session, leg(25))
    Injection.objects.create(
        session=session,
        indication=LLS,
        muscle="gastrocnemius_medial",
        side="left",
        sites=2,
        units=leg(25) / 2 + ONE,
        position=2,
    )
    before = AuditEvent.objects.exclude(action="view").count()
    with pytest.raises(ValidationError) as exc:
        signing.sign_session(actor=physician, session=session)
    blocks = [
        f["rule_id"]
        for f in findings_actions.current_findings(session)["findings"]
        if f["severity"] == "block"
    ]
    assert LEG_RULE in blocks
    assert any("physician must override" in m for m in exc.value.message_dict["findings"])
    assert TreatmentSession.objects.get(pk=session.pk).status == "draft"
    assert AuditEvent.objects.exclude(action="view").count() == before
