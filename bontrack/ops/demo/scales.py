"""Demo data for outcome scales, the cycle review and adjustment suggestions (issue 10 items 6-8).

Patients of cervical dystonia, blepharospasm and spasticity (an adult arm, a child's leg) after
cycle one and after cycle two, with their scales rated before each session and at each review,
the dates the effect wore off, an adverse effect, one cycle review done with an accepted
suggestion on its next plan, and one suggestion left open. Scores go through the same actions
staff use (``record_scale_entry``), so they are clinic_rules' scores.
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.utils import timezone

from bontrack.accounts.models import User
from bontrack.accounts.roles import Role
from bontrack.core.models import Clinic, Practice
from bontrack.inventory.choices import VialStatus
from bontrack.inventory.models import Lot, Vial
from bontrack.ops.demo.signing import mark_signed
from bontrack.patients.models import Condition, Patient, WeightMeasurement
from bontrack.treatments.choices import AdverseEffectKind, Reporter
from bontrack.treatments.models import (
    AdverseEffect,
    Injection,
    PlanLine,
    TreatmentPlan,
    TreatmentSession,
    VialUse,
    WearingOff,
)

Line = tuple[str, str, int, float]  # muscle, side, sites, units

CD_LINES: list[Line] = [
    ("sternocleidomastoid", "left", 2, 60),
    ("sternocleidomastoid", "right", 2, 60),
    ("splenius_capitis", "right", 2, 60),
    ("levator_scapulae", "right", 1, 30),
]
BLEPH_LINES: list[Line] = [
    (m, side, 1, 2.5)
    for side in ("left", "right")
    for m in (
        "orbicularis_oculi_pretarsal_upper_medial",
        "orbicularis_oculi_pretarsal_upper_lateral",
        "orbicularis_oculi_pretarsal_lower_lateral",
    )
]
ULS_LINES: list[Line] = [
    ("biceps_brachii", "left", 4, 100),
    ("brachialis", "left", 2, 50),
    ("flexor_carpi_radialis", "left", 1, 40),
    ("flexor_digitorum_superficialis", "left", 1, 40),
]
LLS_CHILD_LINES: list[Line] = [
    ("gastrocnemius_medial", "right", 2, 30),
    ("gastrocnemius_lateral", "right", 2, 30),
    ("soleus", "right", 2, 20),
]

TWSTRS = [
    {"severity": 24, "disability": 18, "pain": 12},
    {"severity": 17, "disability": 13, "pain": 9},
    {"severity": 21, "disability": 16, "pain": 11},
    {"severity": 14, "disability": 10, "pain": 7},
]
# The patient's own TWSTRS disability answers in the portal (items 0-5, summing to 10).
PORTAL_TWSTRS_ITEMS = {
    "work": 2,
    "daily_activities": 1,
    "driving": 2,
    "reading": 2,
    "television": 1,
    "activities_outside_home": 2,
}
TSUI = [
    {
        "rotation": 3,
        "tilt": 1,
        "antero_retrocollis": 1,
        "duration": 2,
        "shoulder_elevation": 2,
        "tremor": 1,
    },
    {
        "rotation": 2,
        "tilt": 1,
        "antero_retrocollis": 0,
        "duration": 2,
        "shoulder_elevation": 1,
        "tremor": 1,
    },
    {
        "rotation": 2,
        "tilt": 1,
        "antero_retrocollis": 1,
        "duration": 2,
        "shoulder_elevation": 1,
        "tremor": 1,
    },
    {
        "rotation": 1,
        "tilt": 1,
        "antero_retrocollis": 0,
        "duration": 2,
        "shoulder_elevation": 1,
        "tremor": 0,
    },
]
JANKOVIC = [
    {"severity": 3, "frequency": 4},
    {"severity": 2, "frequency": 2},
    {"severity": 3, "frequency": 3},
    {"severity": 3, "frequency": 2},
]
BDI = [
    {
        "driving": 3,
        "reading": 3,
        "watching_tv": 2,
        "shopping": 2,
        "walking": 1,
        "everyday_activities": 2,
    },
    {
        "driving": 1,
        "reading": 2,
        "watching_tv": 1,
        "shopping": 1,
        "walking": 0,
        "everyday_activities": 1,
    },
    {
        "driving": 2,
        "reading": 3,
        "watching_tv": 2,
        "shopping": 1,
        "walking": 1,
        "everyday_activities": 2,
    },
    {
        "driving": 2,
        "reading": 2,
        "watching_tv": 1,
        "shopping": 1,
        "walking": 1,
        "everyday_activities": 1,
    },
]


def _mas(muscles: list[tuple[str, str]], grades: list[str]) -> dict[str, Any]:
    return {
        "entries": [
            {"muscle": m, "side": s, "grade": g} for (m, s), g in zip(muscles, grades, strict=True)
        ]
    }


ULS_MAS_MUSCLES = [("biceps_brachii", "left"), ("flexor_carpi_radialis", "left")]
ULS_MAS = [["3", "2"], ["1+", "1+"], ["2", "1+"], ["1+", "1"]]
LLS_MAS_MUSCLES = [("gastrocnemius_medial", "right"), ("soleus", "right")]
LLS_MAS = [["3", "2"], ["1+", "1"], ["2", "1+"], ["1", "1"]]
ULS_GOALS = ["Put on a shirt without help", "Open the hand to hold a cup", "Less pain when washing"]
LLS_GOALS = ["Walk to the school bus", "Wear the ankle brace all day"]
GAS_LEVELS = [[-2, -2, -1], [0, -1, 1], [-1, -1, 0], [1, 0, 1]]


def _gas(goals: list[str], levels: list[int]) -> dict[str, Any]:
    return {
        "goals": [
            {"goal": g, "weight": 2 if i == 0 else 1, "level": x}
            for i, (g, x) in enumerate(zip(goals, levels, strict=False))
        ]
    }


def given_session(
    *,
    patient: Patient,
    indication: str,
    performed_at: datetime,
    lines: list[Line],
    doctor: User | None,
    lot: Lot,
    plan: TreatmentPlan | None = None,
) -> TreatmentSession:
    """A signed session of ``indication`` with its sites and vial (the demo's bulk shortcut)."""
    session = TreatmentSession.objects.create(
        patient=patient,
        clinic=patient.clinic,
        indication=indication,
        indications=[indication],
        performed_at=performed_at,
        plan=plan,
        consent_obtained=True,
        medication_guide_offered=True,
        created_by=doctor,
    )
    Injection.objects.bulk_create(
        [
            Injection(
                session=session,
                indication=indication,
                muscle=m,
                side=s,
                sites=n,
                units=Decimal(str(u)),
                position=i,
            )
            for i, (m, s, n, u) in enumerate(lines)
        ]
    )
    from bontrack.ops.demo.treatment_history import _diluent_ml

    units = Injection.objects.filter(session=session).aggregate(u=Sum("units"))["u"]
    size = Decimal(lot.size_units)
    left = units
    while left > 0:
        used = min(left, size)
        VialUse.objects.create(
            vial=Vial.objects.create(
                lot=lot, clinic=patient.clinic, status=VialStatus.USED, patient=patient
            ),
            session=session,
            reconstituted_at=performed_at - timedelta(minutes=40),
            diluent_ml=_diluent_ml(indication, lot.size_units),
            units_used=used,
            units_wasted=size - used,
            opened_by=doctor,
        )
        left -= used
    return mark_signed(session, doctor, performed_at + timedelta(minutes=30))


def plan_for(
    patient: Patient, indication: str, lines: list[Line], doctor: User | None, note: str
) -> TreatmentPlan:
    plan = TreatmentPlan.objects.create(
        patient=patient,
        clinic=patient.clinic,
        indication=indication,
        created_by=doctor,
        note=note,
        ordered_by=doctor,
        ordered_at=timezone.now() if doctor is not None else None,
    )
    PlanLine.objects.bulk_create(
        PlanLine(plan=plan, muscle=m, side=s, sites=n, units=Decimal(str(u)), position=i)
        for i, (m, s, n, u) in enumerate(lines)
    )
    return plan


# stage -> (indication, code, age in years, session offsets in days, lines). The patients are the
# first demo patients without any session (the portal's second patient first: cervical dystonia).
DEMO_SCALE_PATIENTS: dict[str, tuple[str, str, int, list[int], list[Line]]] = {
    "cd_cycle_2": ("cervical_dystonia", "G24.3", 52, [-176, -90], CD_LINES),
    "cd_cycle_1": ("cervical_dystonia", "G24.3", 47, [-45], CD_LINES[1:]),
    "bleph_cycle_2": ("blepharospasm", "G24.5", 66, [-160, -72], BLEPH_LINES),
    "bleph_cycle_1": ("blepharospasm", "G24.5", 58, [-40], BLEPH_LINES),
    "uls_cycle_2": ("upper_limb_spasticity", "I69.352", 63, [-180, -92], ULS_LINES),
    "uls_cycle_1": ("upper_limb_spasticity", "G81.14", 41, [-38], ULS_LINES),
    "lls_child_cycle_2": ("lower_limb_spasticity", "G80.1", 9, [-178, -91], LLS_CHILD_LINES),
    "lls_child_cycle_1": ("lower_limb_spasticity", "G80.1", 7, [-42], LLS_CHILD_LINES),
}
PORTAL_USERNAME = "patient.three"  # the cervical dystonia patient after cycle 2 (portal)


def _free_patients(practice: Practice) -> list[Patient]:
    from bontrack.ops.demo.diaries import DEMO_STAGES

    taken = set(
        TreatmentSession.objects.filter(patient__practice=practice).values_list(
            "patient_id", flat=True
        )
    )
    free = list(
        Patient.objects.filter(practice=practice)
        .exclude(pk__in=taken)
        .exclude(mrn__in=DEMO_STAGES.values())
        .exclude(portal_account__isnull=False)
        .order_by("mrn")[: len(DEMO_SCALE_PATIENTS)]
    )
    return free


def _portal_user(patient: Patient, password: str) -> User:
    from bontrack.accounts.models import PortalAccount

    user = User(
        username=PORTAL_USERNAME,
        first_name=patient.first_name,
        last_name=patient.last_name,
        email=patient.email,
    )
    user.set_password(password)
    user.save()
    PortalAccount.objects.create(user=user, patient=patient)
    return user


def _answers(stage: str, indication: str, step: int) -> list[tuple[str, dict[str, Any]]]:
    """Step 0 baseline, 1 review of cycle 1, 2 before cycle 2, 3 review of cycle 2."""
    if indication == "cervical_dystonia":
        return [("twstrs", TWSTRS[step]), ("tsui", TSUI[step])]
    if indication == "blepharospasm":
        return [("jankovic", JANKOVIC[step]), ("bdi", BDI[step])]
    if indication == "upper_limb_spasticity":
        return [
            ("mas", _mas(ULS_MAS_MUSCLES, ULS_MAS[step])),
            ("gas", _gas(ULS_GOALS, GAS_LEVELS[step])),
        ]
    return [
        ("mas", _mas(LLS_MAS_MUSCLES, LLS_MAS[step])),
        ("gas", _gas(LLS_GOALS, GAS_LEVELS[step][:2])),
    ]


def _doctor(practice: Practice, clinic: Clinic) -> User | None:
    qs = User.objects.filter(practice=practice, memberships__role=Role.PHYSICIAN)
    return qs.filter(memberships__clinic=clinic).first() or qs.first()


def seed_demo_scales(*, practice: Practice, today: date, password: str) -> dict[str, Any]:
    from bontrack.treatments.actions import cycle_review, scales

    north = Clinic.objects.filter(practice=practice).order_by("pk").first()
    lots = {lot.size_units: lot for lot in Lot.objects.filter(practice=practice).order_by("pk")}
    if north is None or not lots:
        return {}
    counts: dict[str, Any] = {"patients": 0, "sessions": 0, "entries": 0, "portal": None}

    for patient, (stage, (indication, code, years, offsets, lines)) in zip(
        _free_patients(practice), DEMO_SCALE_PATIENTS.items(), strict=False
    ):
        birth = today.replace(year=today.year - years) - timedelta(days=100)
        Patient.objects.filter(pk=patient.pk).update(clinic=north, date_of_birth=birth)
        patient.refresh_from_db()
        Condition.objects.get_or_create(
            patient=patient, indication=indication, defaults={"icd10_code": code}
        )
        # The registry gave this chart weights for its old age: a re-aged child would keep an
        # adult's weight (its newest), so the weight history starts again with the new age.
        WeightMeasurement.objects.filter(patient=patient).delete()
        if years < 18:
            for days, kg in ((200, "23.0"), (120, "23.6"), (20, "24.1")):
                WeightMeasurement.objects.create(
                    patient=patient,
                    measured_on=today - timedelta(days=days),
                    weight_kg=Decimal(kg),
                )
        doctor = _doctor(practice, north)
        if doctor is None:
            continue
        zone = zoneinfo.ZoneInfo(north.time_zone)
        plan = plan_for(patient, indication, lines, doctor, "Starting plan")
        sessions = []
        for offset in offsets:
            day = today + timedelta(days=offset)
            sessions.append(
                given_session(
                    patient=patient,
                    indication=indication,
                    performed_at=datetime.combine(day, time(10, 0), tzinfo=zone),
                    lines=lines,
                    doctor=doctor,
                    # 100 U vials for the eyelids (100 U in 4 mL: 2.5 U per 0.1 mL), else 200 U.
                    lot=lots.get(100 if indication == "blepharospasm" else 200)
                    or next(iter(lots.values())),
                    plan=plan,
                )
            )
            counts["sessions"] += 1
        # Ratings: baseline before cycle 1, 5 weeks after each session, before cycle 2.
        moments = [(offsets[0] - 6, 0), (offsets[0] + 35, 1)]
        if len(offsets) > 1:
            moments += [(offsets[1] - 5, 2), (offsets[1] + 36, 3)]
        for offset, step in moments:
            on = today + timedelta(days=offset)
            if on > today:
                continue
            for instrument, answers in _answers(stage, indication, step):
                scales.save_scale_entry(
                    actor=doctor,
                    patient=patient,
                    indication=indication,
                    instrument=instrument,
                    taken_on=on,
                    answers=answers,
                )
                counts["entries"] += 1
        # When the effect wore off: about 10-11 weeks, but 8 weeks after blepharospasm cycle 2.
        for i, s in enumerate(sessions):
            weeks = 8 if (indication == "blepharospasm" and i == 1) else 10 + i
            off = timezone.localtime(s.performed_at).date() + timedelta(weeks=weeks)
            if off <= today:
                WearingOff.objects.create(
                    session=s,
                    patient=patient,
                    worn_off_on=off,
                    reported_by_patient=True,
                    recorded_at=timezone.now(),
                )
        if stage == "cd_cycle_2":
            portal_user = _portal_user(patient, password)
            counts["portal"] = patient
            AdverseEffect.objects.create(
                patient=patient,
                session=sessions[-1],
                kind=AdverseEffectKind.DYSPHAGIA,
                detail="Soft food only for about ten days after the injections.",
                status="resolved",
                reported_at=sessions[-1].performed_at + timedelta(days=6),
                reported_by=Reporter.PATIENT,
                resolved_at=sessions[-1].performed_at + timedelta(days=20),
                resolved_by=doctor,
                resolution="Resolved; diet advice given.",
                urgent=True,
                urgent_reviewed_at=sessions[-1].performed_at + timedelta(days=6, hours=2),
                urgent_reviewed_by=doctor,
                urgent_review_note="Seen the same day; swallowing safe, no breathing problem.",
            )
        if sessions:
            cycle_review.save_refresh_suggestions(
                actor=doctor, patient=patient, indication=indication
            )
        if stage == "cd_cycle_2":
            from bontrack.treatments.models import AdjustmentSuggestion

            for sug in AdjustmentSuggestion.objects.filter(patient=patient, status="open"):
                cycle_review.save_decide_suggestion(
                    actor=doctor,
                    suggestion=sug,
                    accept=True,
                    note="Keep the SCM at 100 U or less in total.",
                )
            cycle_review.save_record_cycle_review(
                actor=doctor,
                patient=patient,
                indication=indication,
                decision="continue",
                reason="TWSTRS improved on all three subscales after both cycles; "
                "continue with the lower SCM dose.",
            )
            # Before the next session the patient answered the TWSTRS disability questions (its
            # six items, summed by clinic_rules) and the pain part in the portal.
            scales.save_scale_entry(
                actor=portal_user,
                patient=patient,
                indication=indication,
                instrument="twstrs",
                taken_on=today - timedelta(days=10),
                answers={"disability_items": PORTAL_TWSTRS_ITEMS, "pain": 7},
            )
            counts["entries"] += 1
        counts["patients"] += 1
    counts["migraine_ptosis"] = _migraine_ptosis(practice, north)
    return counts


def _migraine_ptosis(practice: Practice, north: Clinic) -> int:
    """A drooping eyelid reported two weeks after a chronic migraine session: the chart's
    treatment panel offers the advisory "review the frontalis sites" to the physician."""
    from bontrack.treatments.actions import cycle_review
    from bontrack.treatments.choices import GIVEN_STATUSES

    doctor = _doctor(practice, north)
    window = (
        timezone.now() - timedelta(days=60),
        timezone.now() - timedelta(days=14),
    )
    given = TreatmentSession.objects.filter(
        patient__practice=practice, indication="chronic_migraine", status__in=GIVEN_STATUSES
    )
    later = set(
        given.filter(performed_at__gt=window[1]).values_list("patient_id", flat=True).distinct()
    )
    session = (
        given.filter(patient__clinic=north, performed_at__range=window)
        .exclude(patient_id__in=later)
        .select_related("patient")
        .order_by("-performed_at", "pk")
        .first()
    )
    if doctor is None or session is None:
        return 0
    AdverseEffect.objects.create(
        patient=session.patient,
        session=session,
        kind=AdverseEffectKind.PTOSIS,
        detail="Left upper lid droops in the evening since about a week after the injections.",
        reported_at=session.performed_at + timedelta(days=12),
        reported_by=Reporter.PATIENT,
    )
    made = cycle_review.store_suggestions(
        actor=doctor,
        patient=session.patient,
        indications={"chronic_migraine"},
        adverse_effect=True,
    )
    return len(made)
