"""Demo data for issue 10 items 3-5: a clinic template per indication at each clinic, a child with a
weight history (an old weight and a fresh one) with a signed leg session and today's draft, a child
whose only weight is too old (the session screen asks for a new one), and a combined chronic
migraine + cervical dystonia patient with two signed combined sessions and today's draft.

The templates' units are each demo clinic's own starting patterns (clinic data, not rules): the
dose check judges them when a session is charted. Bulk inserts, deterministic.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from bontrack.accounts.models import User
from bontrack.accounts.roles import Role
from bontrack.core.models import Clinic, Practice
from bontrack.inventory.choices import VialStatus
from bontrack.inventory.models import Lot, Vial
from bontrack.ops.demo.signing import mark_signed
from bontrack.patients.models import Condition, Patient, WeightMeasurement
from bontrack.treatments import facts
from bontrack.treatments.models import (
    ClinicTemplate,
    Injection,
    PlanLine,
    TreatmentPlan,
    TreatmentSession,
    VialUse,
)

CM, CD, BLEPH = "chronic_migraine", "cervical_dystonia", "blepharospasm"
ULS, LLS = "upper_limb_spasticity", "lower_limb_spasticity"
Row = tuple[str, str, int, str]  # muscle, side, sites, units

# Each clinic's own starting pattern per indication (chronic migraine and blepharospasm come from
# the labelled templates; the others are the demo clinics' choices, within the per-site limits).
CLINIC_TEMPLATES: dict[str, tuple[str, str, list[Row]]] = {
    CD: (
        "Rotation to the right",
        "Left sternocleidomastoid with the right splenius; start low, review at 4 weeks.",
        [
            ("sternocleidomastoid", "left", 2, "40"),
            ("splenius_capitis", "right", 3, "60"),
            ("trapezius", "right", 2, "30"),
        ],
    ),
    ULS: (
        "Flexed elbow and wrist",
        "Adult arm after stroke: EMG or ultrasound guidance.",
        [
            ("biceps_brachii", "left", 4, "100"),
            ("flexor_carpi_radialis", "left", 2, "50"),
            ("flexor_carpi_ulnaris", "left", 2, "40"),
        ],
    ),
    LLS: (
        "Equinovarus foot",
        "Adult leg: ankle and toe flexors.",
        [
            ("gastrocnemius_medial", "left", 3, "75"),
            ("gastrocnemius_lateral", "left", 3, "75"),
            ("soleus", "left", 3, "75"),
            ("tibialis_posterior", "left", 3, "75"),
        ],
    ),
}


def _at(day: date, zone: zoneinfo.ZoneInfo, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=zone)


def _staff(practice: Practice, clinic: Clinic, role: str) -> User | None:
    qs = User.objects.filter(practice=practice, memberships__role=role)
    return qs.filter(memberships__clinic=clinic).order_by("pk").first() or qs.order_by("pk").first()


def _labelled_rows(indication: str, code: str) -> list[Row]:
    merged: dict[tuple[str, str], list[Any]] = {}
    for r in facts.template_site_rows(indication, code):
        row = merged.setdefault((r["muscle"], r["side"]), [0, Decimal(0)])
        row[0] += 1
        row[1] += Decimal(str(r["units"]))
    return [(m, s, n, str(u)) for (m, s), (n, u) in merged.items()]


def seed_clinic_templates(practice: Practice, clinics: Sequence[Clinic]) -> int:
    templates = {
        CM: ("PREEMPT, 31 sites", "The labelled fixed sites.", _labelled_rows(CM, "preempt")),
        BLEPH: (
            "Three sites per eye",
            "First treatment at the low end of the labelled per-site dose.",
            _labelled_rows(BLEPH, "bleph_initial"),
        ),
        **CLINIC_TEMPLATES,
    }
    rows = []
    for clinic in clinics:
        author = _staff(practice, clinic, Role.PHYSICIAN)
        for indication, (name, note, lines) in templates.items():
            rows.append(
                ClinicTemplate(
                    clinic=clinic,
                    indication=indication,
                    name=name,
                    note=note,
                    lines=[
                        {
                            "muscle": m,
                            "side": s,
                            "sites": n,
                            "units": str(Decimal(u).quantize(Decimal("0.01"))),
                        }
                        for m, s, n, u in lines
                    ],
                    created_by=author,
                    updated_by=author,
                )
            )
    ClinicTemplate.objects.bulk_create(rows)
    return len(rows)


def _patient(
    practice: Practice, clinic: Clinic, mrn: str, first: str, last: str, born: date, sex: str
) -> Patient:
    return Patient.objects.create(
        practice=practice,
        clinic=clinic,
        mrn=mrn,
        first_name=first,
        last_name=last,
        date_of_birth=born,
        sex=sex,
        phone="+1-555-201-7788",
    )


def _session(
    patient: Patient,
    performed: datetime,
    rows: Sequence[tuple[str, Row]],
    *,
    by: User | None,
    lot: Lot,
    signed: bool,
    plan: TreatmentPlan | None = None,
) -> TreatmentSession:
    """A session of (indication, row) sites; a signed one uses stocked vials and stores its check."""
    indications = list(dict.fromkeys(ind for ind, _ in rows))
    session = TreatmentSession.objects.create(
        patient=patient,
        clinic=patient.clinic,
        indication=indications[0],
        indications=indications,
        performed_at=performed,
        plan=plan,
        consent_obtained=signed,
        medication_guide_offered=signed,
        created_by=by,
    )
    Injection.objects.bulk_create(
        [
            Injection(
                session=session,
                indication=ind,
                muscle=m,
                side=s,
                sites=n,
                units=Decimal(u),
                position=i,
            )
            for i, (ind, (m, s, n, u)) in enumerate(rows)
        ]
    )
    if not signed:
        return session
    total = sum((Decimal(u) for _, (_m, _s, _n, u) in rows), Decimal(0))
    needed = int((total + lot.size_units - 1) // lot.size_units)
    vials = [
        Vial.objects.create(lot=lot, clinic=patient.clinic, status=VialStatus.USED, patient=patient)
        for _ in range(needed)
    ]
    for vial, (used, wasted) in zip(vials, facts.vial_use(vials, total), strict=True):
        VialUse.objects.create(
            vial=vial,
            session=session,
            reconstituted_at=performed - timedelta(minutes=40),
            diluent_ml=facts.cm_diluent_ml(lot.size_units),
            units_used=used,
            units_wasted=wasted,
            opened_by=by,
        )
    return mark_signed(session, by, performed + timedelta(minutes=30))


def _plan(patient: Patient, indication: str, rows: Sequence[Row], by: User | None, note: str):  # type: ignore[no-untyped-def]
    plan = TreatmentPlan.objects.create(
        patient=patient,
        clinic=patient.clinic,
        indication=indication,
        created_by=by,
        note=note,
        ordered_by=by,
        ordered_at=datetime.now(tz=zoneinfo.ZoneInfo("UTC")) if by else None,
    )
    PlanLine.objects.bulk_create(
        [
            PlanLine(plan=plan, muscle=m, side=s, sites=n, units=Decimal(u), position=i)
            for i, (m, s, n, u) in enumerate(rows)
        ]
    )
    return plan


def seed_demo_dosing(*, practice: Practice, today: date, lot: Lot) -> dict[str, int]:
    clinics = list(Clinic.objects.filter(practice=practice).order_by("pk"))
    counts = {"templates": seed_clinic_templates(practice, clinics)}
    north, river = clinics[0], clinics[-1]
    nz = zoneinfo.ZoneInfo(north.time_zone)
    rz = zoneinfo.ZoneInfo(river.time_zone)

    # A child of 8 with cerebral palsy (Northside): weights 250 and 110 days ago and a fresh one;
    # a signed left-leg session 100 days ago (at 18.4 kg) and today's draft from it (at 20 kg).
    doctor, nurse = _staff(practice, north, Role.PHYSICIAN), _staff(practice, north, Role.NURSE)
    mia = _patient(
        practice,
        north,
        "LN9100001",
        "Mia",
        "Hartley",
        today.replace(year=today.year - 8) - timedelta(days=75),
        "female",
    )
    Condition.objects.create(patient=mia, indication=LLS, icd10_code="G80.1")
    WeightMeasurement.objects.bulk_create(
        [
            WeightMeasurement(
                patient=mia, measured_on=today - timedelta(days=d), weight_kg=Decimal(kg)
            )
            for d, kg in ((250, "17.6"), (110, "18.4"), (4, "20.0"))
        ]
    )
    leg: list[Row] = [("gastrocnemius_medial", "left", 2, "60"), ("soleus", "left", 2, "60")]
    _session(
        mia,
        _at(today - timedelta(days=100), nz, 10),
        [(LLS, r) for r in leg],
        by=doctor,
        lot=lot,
        signed=True,
    )
    _session(mia, _at(today, nz, 8), [(LLS, r) for r in leg], by=nurse, lot=lot, signed=False)

    # A child of 11 (Riverside) whose only weight is 140 days old: today's draft asks for one.
    doctor_r, nurse_r = _staff(practice, river, Role.PHYSICIAN), _staff(practice, river, Role.NURSE)
    noah = _patient(
        practice,
        river,
        "LN9100002",
        "Noah",
        "Brennan",
        today.replace(year=today.year - 11) - timedelta(days=20),
        "male",
    )
    Condition.objects.create(patient=noah, indication=ULS, icd10_code="G80.1")
    Condition.objects.create(patient=noah, indication=LLS, icd10_code="G80.1")
    WeightMeasurement.objects.create(
        patient=noah, measured_on=today - timedelta(days=140), weight_kg=Decimal("34.5")
    )
    TreatmentSession.objects.create(
        patient=noah,
        clinic=river,
        indication=ULS,
        indications=[ULS, LLS],
        performed_at=_at(today, rz, 8),
        created_by=nurse_r,
    )

    # Chronic migraine with cervical dystonia (Riverside): two signed combined sessions 12 weeks
    # apart, each indication's ordered plan, and today's combined draft from the last session.
    ruth = _patient(
        practice,
        river,
        "LN9100003",
        "Ruth",
        "Castellano",
        today.replace(year=today.year - 52),
        "female",
    )
    Condition.objects.create(patient=ruth, indication=CM, icd10_code="G43.709")
    Condition.objects.create(patient=ruth, indication=CD, icd10_code="G24.3")
    preempt = _labelled_rows(CM, "preempt")  # the plan's lines
    preempt_sites: list[Row] = [  # the sessions' rows: one per site, as charted
        (r["muscle"], r["side"], 1, str(r["units"]))
        for r in facts.template_site_rows(CM, "preempt")
    ]
    neck: list[Row] = [
        ("sternocleidomastoid", "left", 2, "40"),
        ("splenius_capitis", "right", 3, "60"),
    ]
    both = [(CM, r) for r in preempt_sites] + [(CD, r) for r in neck]
    cm_plan = _plan(ruth, CM, preempt, doctor_r, "PREEMPT")
    _plan(ruth, CD, neck, doctor_r, "Rotation to the right; SCM kept low for swallowing.")
    for days in (180, 96):
        _session(
            ruth,
            _at(today - timedelta(days=days), rz, 11),
            both,
            by=doctor_r,
            lot=lot,
            signed=True,
            plan=cm_plan,
        )
    _session(ruth, _at(today, rz, 9), both, by=nurse_r, lot=lot, signed=False, plan=cm_plan)
    counts["patients"] = 3
    return counts
