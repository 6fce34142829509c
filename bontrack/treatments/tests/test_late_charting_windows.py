"""A late-charted dose in each cumulative window (issue 14 item 2, clinical facts §1.0, §1.5, §1.6).

For every cumulative limit in the rule data (adults 400 U in the window, BTX-CUM-ADULT-400, S16;
children the lower of 10 U/kg or 340 U, BTX-CUM-PEDS-10UKG-340, S19, S17; blepharospasm 200 U in
any 30 days, BTX-BLEPH-200-30D, S20) and for both window lengths the program policy offers (84 and
90 days, POLICY-CUMULATIVE-WINDOW): a session dated before a signed later session is refused when
together they exceed the limit, saved at exactly the limit, and an amendment of it that goes
over is refused too. Every number is read from clinic_rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from bontrack.audit.models import AuditEvent
from bontrack.diaries.actions import program_policy
from bontrack.factories import PatientFactory
from bontrack.patients.models import Condition, WeightMeasurement
from bontrack.treatments.actions import amendments, charting, dose_guard, signing
from bontrack.treatments.actions import vials as vials_actions
from bontrack.treatments.models import Injection, TreatmentSession
from clinic_rules.data import rule

from .conftest import acknowledge_all, stock

pytestmark = pytest.mark.django_db

VIAL = 200  # the stocked vials are 200 U (BTX-VIAL-SIZES)
MUSCLE = {
    "lower_limb_spasticity": "soleus",
    "blepharospasm": "orbicularis_oculi_pretarsal_upper_lateral",
}
ICD10 = {"lower_limb_spasticity": "G80.1", "blepharospasm": "G24.5"}


def _num(rule_id: str, key: str) -> Decimal:
    return Decimal(str(rule(rule_id).num(key)))


@dataclass(frozen=True)
class Window:
    name: str
    rule_id: str
    indication: str
    years: int
    kg: int | None
    window_days: int | None  # the practice's policy (None: the default)
    days_apart: int  # the late session is dated this many days before the signed one

    def limit(self) -> Decimal:
        cap = _num(self.rule_id, "max_units")
        if self.kg is not None:
            cap = min(cap, _num(self.rule_id, "units_per_kg") * self.kg)
        return cap

    def days(self) -> int:
        if self.rule_id == "BTX-BLEPH-200-30D":
            return rule(self.rule_id).int_("window_days")
        return self.window_days or rule("POLICY-CUMULATIVE-WINDOW").int_("default")


def _last_day(w: Window) -> int:
    """The latest day before that still shares a window: days − 1 apart."""
    return w.days() - 1


WINDOWS = [
    Window("adults 400 U, 84-day window", "BTX-CUM-ADULT-400", "lower_limb_spasticity", 50, None, None, 83),
    Window("adults 400 U, 90-day window", "BTX-CUM-ADULT-400", "lower_limb_spasticity", 50, None, 90, 89),
    Window("children 10 U/kg", "BTX-CUM-PEDS-10UKG-340", "lower_limb_spasticity", 8, 25, None, 30),
    Window("children 340 U", "BTX-CUM-PEDS-10UKG-340", "lower_limb_spasticity", 15, 40, None, 60),
    Window("blepharospasm 200 U in 30 days", "BTX-BLEPH-200-30D", "blepharospasm", 60, None, None, 29),
]  # fmt: skip


def test_the_windows_reach_as_far_as_the_rows_say():
    for w in WINDOWS:
        assert w.days_apart <= _last_day(w), w.name
    assert (WINDOWS[0].limit(), WINDOWS[2].limit(), WINDOWS[3].limit(), WINDOWS[4].limit()) == (
        400,
        250,
        340,
        200,
    )


def _patient(world, w: Window) -> Any:
    today = timezone.localdate()
    patient: Any = PatientFactory(
        clinic=world.clinic,
        date_of_birth=today.replace(year=today.year - w.years) - timedelta(days=200),
    )
    Condition.objects.create(
        patient=patient, indication=w.indication, icd10_code=ICD10[w.indication]
    )
    if w.kg is not None:
        WeightMeasurement.objects.create(
            # Measured before the late session and within the 90 days a child's weight counts
            # for (POLICY-PEDS-WEIGHT-MAX-AGE) before both sessions.
            patient=patient,
            measured_on=today - timedelta(days=w.days_apart + 1),
            weight_kg=Decimal(w.kg),
        )
    return patient


def _draft(actor, patient, w: Window, performed: datetime, units: Decimal) -> TreatmentSession:
    session = charting.create_session(
        actor=actor,
        patient=patient,
        performed_at=performed,
        indications=[w.indication],
        templates={w.indication: "clinician_built"},
    )
    vials = math.ceil((units + 1) / VIAL)
    for vial in stock(patient.clinic, vials=vials, lot_number=f"W{session.pk:05d}"):
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


def _site(actor, session: TreatmentSession, w: Window, units: Decimal) -> Injection:
    return charting.add_injection(
        actor=actor,
        session=session,
        indication=w.indication,
        muscle=MUSCLE[w.indication],
        side="left",
        sites=max(1, int(units // 25)),
        units=units,
    )


def _sign(actor, session: TreatmentSession) -> TreatmentSession:
    acknowledge_all(actor, session)
    return signing.sign_session(actor=actor, session=session)


def _refused(actor, w: Window, change) -> None:  # type: ignore[no-untyped-def]
    before = AuditEvent.objects.count()
    with pytest.raises(dose_guard.Blocked) as exc:
        change()
    assert w.rule_id in {f["rule_id"] for f in exc.value.blocks}
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("w", WINDOWS, ids=[w.name for w in WINDOWS])
def test_a_late_charted_dose_and_its_amendment_see_the_later_dose_in_the_window(world, w: Window):
    physician = world.users["physician"]
    if w.window_days is not None:
        program_policy.update_program_policy(
            actor=world.users["clinic_admin"],
            practice=world.practice,
            cumulative_window_days=w.window_days,
        )
    patient = _patient(world, w)
    now = timezone.now().replace(microsecond=0)
    limit = w.limit()
    later_units = (limit / 2).to_integral_value()
    later = _draft(physician, patient, w, now - timedelta(hours=2), later_units)
    _site(physician, later, w, later_units)
    later = _sign(physician, later)
    # The late session, dated before the signed one and inside its window: one unit too many is
    # refused and nothing is written; exactly the limit is saved and signs.
    late = _draft(physician, patient, w, now - timedelta(days=w.days_apart), limit - later_units)
    _refused(physician, w, lambda: _site(physician, late, w, limit - later_units + 1))
    assert not late.injections.exists()
    site = _site(physician, late, w, limit - later_units)
    late = _sign(physician, late)
    assert late.status == "signed"
    # Its amendment is checked against the same later dose: one unit more is refused.
    amendment = amendments.amend_session(actor=physician, session=late, reason="Correct the dose")
    copy = amendment.injections.get(muscle=site.muscle)
    _refused(
        physician,
        w,
        lambda: charting.update_injection(actor=physician, injection=copy, units=copy.units + 1),
    )
    copy.refresh_from_db()
    assert copy.units == limit - later_units


@pytest.mark.parametrize("w", WINDOWS[:2], ids=[w.name for w in WINDOWS[:2]])
def test_a_dose_just_outside_the_window_is_not_counted(world, w: Window):
    """One day further back than the window reaches (days apart = window length): not counted."""
    physician = world.users["physician"]
    if w.window_days is not None:
        program_policy.update_program_policy(
            actor=world.users["clinic_admin"],
            practice=world.practice,
            cumulative_window_days=w.window_days,
        )
    patient = _patient(world, w)
    now = timezone.now().replace(microsecond=0)
    later_units = (w.limit() / 2).to_integral_value()
    later = _draft(physician, patient, w, now - timedelta(hours=2), later_units)
    _site(physician, later, w, later_units)
    _sign(physician, later)
    late = _draft(physician, patient, w, now - timedelta(days=w.days()), w.limit())
    _site(physician, late, w, w.limit() - later_units + 1)  # saved: the later dose is outside
    assert _sign(physician, late).status == "signed"
