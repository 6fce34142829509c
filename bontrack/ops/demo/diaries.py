"""Demo diaries: chronic migraine patients at every stage of the program.

The treatments app creates the sessions of the same patients: ``DEMO_STAGES`` names them by
MRN and ``DEMO_SESSIONS`` gives each stage's session dates as day offsets from today (12-week
cycles; the longest history starts about 9 months ago). The diary of each stage lines up
with those dates: a baseline before the first session, then fewer headache days for a
responder (about halved after cycle two) and no change for the non-responder, who stopped.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from bontrack.accounts.models import Membership, User
from bontrack.accounts.roles import Role
from bontrack.core.models import Practice
from bontrack.diaries import facts
from bontrack.diaries.models import (
    ConsultationNote,
    DiaryDay,
    DiaryMedication,
    EligibilityAssessment,
    QuestionnaireResponse,
)
from bontrack.ops.facts import contract
from bontrack.patients.models import Condition, Patient, PriorTreatment

# LN0000001 is the portal demo patient ("patient.demo"): the responder, so the portal shows a
# long diary with questionnaires.
DEMO_STAGES = {
    "baseline": "LN0000003",
    "eligible": "LN0000004",
    "after_cycle_1": "LN0000005",
    "responder": "LN0000001",
    "non_responder": "LN0000006",
}
# Signed sessions per stage, as offsets in days from today (negative = past).
DEMO_SESSIONS: dict[str, list[int]] = {
    "baseline": [],
    "eligible": [],
    "after_cycle_1": [-90],
    "responder": [-252, -168, -84],
    "non_responder": [-252, -168],
}
BASELINE_DAYS = 130  # four 30-day diary months (and a few days) before the first session
# Demo diary shape per phase: (share of days with headache, share of those that are migraine).
# Demo data only (not clinical rules): chosen so clinic_rules finds the intended stage.
PHASES = {
    "baseline": (0.74, 0.7),
    "responder_cycle_1": (0.48, 0.6),
    "responder_cycle_2": (0.32, 0.55),
    "responder_cycle_3": (0.3, 0.5),
    "non_responder": (0.64, 0.66),
    "after_cycle_1": (0.5, 0.6),
}
FAILED = [
    ("Topiramate", "anticonvulsant"),
    ("Propranolol", "beta_blocker"),
    ("Amitriptyline", "tricyclic"),
]


@dataclass
class Plan:
    start: date
    end: date
    sessions: list[date]
    phases: list[tuple[date, str]]  # (from date, phase) in order


def _plans(today: date) -> dict[str, Plan]:
    def sessions(stage: str) -> list[date]:
        return [today + timedelta(days=o) for o in DEMO_SESSIONS[stage]]

    plans: dict[str, Plan] = {}
    plans["baseline"] = Plan(today - timedelta(days=45), today - timedelta(days=1), [], [])
    plans["eligible"] = Plan(today - timedelta(days=130), today - timedelta(days=1), [], [])
    s = sessions("after_cycle_1")
    plans["after_cycle_1"] = Plan(
        s[0] - timedelta(days=BASELINE_DAYS),
        today - timedelta(days=1),
        s,
        [(s[0], "after_cycle_1")],
    )
    s = sessions("responder")
    plans["responder"] = Plan(
        s[0] - timedelta(days=BASELINE_DAYS),
        today - timedelta(days=1),
        s,
        [(s[0], "responder_cycle_1"), (s[1], "responder_cycle_2"), (s[2], "responder_cycle_3")],
    )
    s = sessions("non_responder")
    plans["non_responder"] = Plan(
        s[0] - timedelta(days=BASELINE_DAYS),
        s[1] + timedelta(days=86),  # stopped after the review at the end of cycle two
        s,
        [(s[0], "non_responder")],
    )
    return plans


def _phase(plan: Plan, day: date) -> str:
    current = "baseline"
    for since, phase in plan.phases:
        if day >= since:
            current = phase
    return current


def _day_rows(
    patient: Patient, plan: Plan, rng: random.Random, entered_by: User | None
) -> tuple[list[DiaryDay], list[list[tuple[str, str, int]]]]:
    days, meds = [], []
    d = plan.start
    while d <= plan.end:
        if rng.random() < 0.04:  # a few missing days, as in real diaries
            d += timedelta(days=1)
            continue
        p_headache, p_migraine = PHASES[_phase(plan, d)]
        m: list[tuple[str, str, int]] = []
        if rng.random() >= p_headache:
            row = DiaryDay(patient=patient, date=d, headache=False, source="patient")
        elif rng.random() < p_migraine:
            triptan = rng.random() < 0.55
            if triptan:
                m.append(("Sumatriptan", "triptan", 1 if rng.random() < 0.8 else 2))
            if rng.random() < 0.3:
                m.append(("Ibuprofen", "simple_analgesic", 1))
            row = DiaryDay(
                patient=patient,
                date=d,
                headache=True,
                hours=Decimal(rng.choice(["4", "5", "6", "8", "10", "12", "16", "24"])),
                severity=rng.choice([2, 3, 3]),
                unilateral=rng.random() < 0.7,
                pulsating=rng.random() < 0.8,
                worse_with_activity=rng.random() < 0.7,
                nausea=rng.random() < 0.7,
                vomiting=rng.random() < 0.15,
                photophobia=rng.random() < 0.8,
                phonophobia=rng.random() < 0.7,
                triptan_or_ergot_relief=triptan and rng.random() < 0.6,
                source="patient",
            )
        else:
            if rng.random() < 0.35:
                m.append(("Paracetamol (acetaminophen)", "simple_analgesic", 1))
            row = DiaryDay(
                patient=patient,
                date=d,
                headache=True,
                hours=Decimal(rng.choice(["2", "3", "4", "4", "5", "6"])),
                severity=1,
                source="patient",
            )
        row.entered_by = entered_by
        days.append(row)
        meds.append(m)
        d += timedelta(days=1)
    return days, meds


def _questionnaires(
    patient: Patient, plan: Plan, stage: str, rng: random.Random, today: date, tz: object
) -> list[QuestionnaireResponse]:
    rows: list[QuestionnaireResponse] = []
    levels = ["always", "very_often", "very_often", "sometimes", "sometimes", "always"]
    better = ["sometimes", "rarely", "sometimes", "rarely", "sometimes", "rarely"]
    items = [
        "pain_severity",
        "limits_daily_activities",
        "wish_to_lie_down",
        "too_tired",
        "fed_up_or_irritated",
        "limits_concentration",
    ]

    def answered(instrument: str, kind: str, due: date, improved: float) -> QuestionnaireResponse:
        if instrument == "midas":
            base = [12, 10, 14, 9, 11]
            answers = {
                f"q{i + 1}": max(0, round(b * (1 - improved)) + rng.randint(-2, 2))
                for i, b in enumerate(base)
            }
        else:
            answers = {k: (better if improved >= 0.4 else levels)[i] for i, k in enumerate(items)}
        result = contract.run("questionnaire", {"instrument": instrument, "answers": answers})
        done = datetime.combine(due, time(10), tzinfo=tz)  # type: ignore[arg-type]
        return QuestionnaireResponse(
            patient=patient,
            instrument=instrument,
            assigned_for=kind,
            due_date=due,
            answers=answers,
            result=result,
            score=Decimal(str(result["score"])),
            band=str(result.get("band") or ""),
            valid=bool(result["valid"]),
            rule_set=str(result["rule_set"]),
            completed_at=done,
        )

    if stage == "baseline":
        rows.append(answered("midas", "baseline", plan.start + timedelta(days=1), 0))
        rows.append(
            QuestionnaireResponse(
                patient=patient,
                instrument="hit6",
                assigned_for="baseline",
                due_date=plan.start + timedelta(days=1),
            )
        )
        return rows
    for instrument in ("midas", "hit6"):
        rows.append(answered(instrument, "baseline", plan.start + timedelta(days=2), 0))
    improvement = {"responder": [0, 0.35, 0.55], "non_responder": [0, 0.05], "after_cycle_1": [0]}
    for k, s in enumerate(plan.sessions):
        gain = improvement.get(stage, [0] * 5)[min(k, len(improvement.get(stage, [0])) - 1)]
        for instrument in ("midas", "hit6"):
            rows.append(answered(instrument, "pre_treatment", s - timedelta(days=2), gain))
    if stage == "eligible":
        for instrument in ("midas", "hit6"):
            rows.append(
                QuestionnaireResponse(
                    patient=patient,
                    instrument=instrument,
                    assigned_for="pre_treatment",
                    due_date=today + timedelta(days=14),
                )
            )
    return rows


def _physician_for(practice: Practice, clinic_id: int) -> User | None:
    m = (
        Membership.objects.filter(practice=practice, role=Role.PHYSICIAN)
        .filter(clinic_id=clinic_id)
        .select_related("user")
        .first()
    ) or Membership.objects.filter(practice=practice, role=Role.PHYSICIAN).select_related(
        "user"
    ).first()
    return m.user if m else None


def seed_demo_diaries(*, practice: Practice, rng: random.Random, today: date) -> dict[str, int]:
    """Give the DEMO_STAGES patients realistic diaries, questionnaires, notes and decisions."""
    plans = _plans(today)
    patients = {
        p.mrn: p
        for p in Patient.objects.filter(
            practice=practice, mrn__in=DEMO_STAGES.values()
        ).select_related("clinic")
    }
    all_days: list[DiaryDay] = []
    all_meds: list[list[tuple[str, str, int]]] = []
    questionnaires: list[QuestionnaireResponse] = []
    notes: list[ConsultationNote] = []
    counts: dict[str, int] = {}
    for stage, mrn in DEMO_STAGES.items():
        patient = patients.get(mrn)
        if patient is None:
            continue
        if not Condition.objects.filter(
            patient=patient, indication="chronic_migraine", active=True
        ).exists():
            Condition.objects.filter(patient=patient, active=True).update(active=False)
            Condition.objects.create(
                patient=patient,
                indication="chronic_migraine",
                icd10_code="G43.709",
                diagnosed_on=plans[stage].start - timedelta(days=400),
            )
        failed = set(
            PriorTreatment.objects.filter(patient=patient).values_list("drug_class", flat=True)
        )
        start = plans[stage].start - timedelta(days=900)
        for drug, cls in FAILED:
            if cls not in failed:
                PriorTreatment.objects.create(
                    patient=patient,
                    drug=drug,
                    drug_class=cls,
                    outcome="ineffective",
                    started_on=start,
                    stopped_on=start + timedelta(days=120),
                )
                start += timedelta(days=150)
        physician = _physician_for(practice, patient.clinic_id)
        tz = timezone.get_default_timezone()
        days, meds = _day_rows(patient, plans[stage], rng, None)
        all_days += days
        all_meds += meds
        counts[stage] = len(days)
        questionnaires += _questionnaires(patient, plans[stage], stage, rng, today, tz)
        if stage == "eligible":
            notes.append(
                ConsultationNote(
                    patient=patient,
                    visit_date=today + timedelta(days=7),
                    patient_history="Headaches since my teens; almost daily for the last two years.",
                    patient_symptoms="Throbbing pain on one side, nausea, light hurts my eyes.",
                    patient_previous_treatments="Topiramate (no help), propranolol (tired), "
                    "amitriptyline (no help).",
                    patient_goals="Fewer bad days so I can work full time again.",
                    patient_submitted_at=datetime.combine(
                        today - timedelta(days=2), time(20), tzinfo=tz
                    ),
                )
            )
        elif stage != "baseline" and physician is not None:
            first = plans[stage].sessions[0]
            notes.append(
                ConsultationNote(
                    patient=patient,
                    visit_date=first - timedelta(days=14),
                    history="Chronic migraine for years; diary kept for four months.",
                    symptoms="Unilateral pulsating headache with nausea and photophobia.",
                    previous_treatments="Topiramate, propranolol, amitriptyline: failed.",
                    goals="Halve the headache days.",
                    examination="Neurological examination normal.",
                    plan="OnabotulinumtoxinA, PREEMPT protocol, every 12 weeks; keep the diary.",
                    author=physician,
                    signed_at=datetime.combine(first - timedelta(days=14), time(12), tzinfo=tz),
                )
            )
    DiaryDay.objects.bulk_create(all_days, batch_size=2000)
    DiaryMedication.objects.bulk_create(
        [
            DiaryMedication(day=day, name=n, drug_class=c, doses=k)
            for day, ms in zip(all_days, all_meds, strict=True)
            for n, c, k in ms
        ],
        batch_size=2000,
    )
    QuestionnaireResponse.objects.bulk_create(questionnaires)
    ConsultationNote.objects.bulk_create(notes)
    # The physician's eligibility decision before the first session (or now, for "eligible").
    decisions = []
    for stage in ("eligible", "after_cycle_1", "responder", "non_responder"):
        patient = patients.get(DEMO_STAGES[stage])
        if patient is None:
            continue
        physician = _physician_for(practice, patient.clinic_id)
        if physician is None:
            continue
        plan = plans[stage]
        as_of = (
            (plan.sessions[0] - timedelta(days=3)) if plan.sessions else today - timedelta(days=1)
        )
        result, doc = facts.run_eligibility(patient, as_of)
        decisions.append(
            EligibilityAssessment(
                patient=patient,
                as_of=as_of,
                status=str(result["status"]),
                result=result,
                rule_set=str(result["rule_set"]),
                rule_sets=result.get("rule_sets", []),
                policy=doc.get("policy", {}),
                decision="eligible",
                note="" if result["status"] == "eligible" else "Demo: decided on the diary.",
                decided_by=physician,
                decided_at=datetime.combine(
                    as_of, time(11), tzinfo=timezone.get_default_timezone()
                ),
            )
        )
    EligibilityAssessment.objects.bulk_create(decisions)
    return counts
