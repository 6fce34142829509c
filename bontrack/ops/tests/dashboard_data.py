"""A small program built through the services, whose dashboard figures are computed by hand.

Patient P (world.patient, clinic A1, physician persona): diary from 28 days before the first
session; baseline 20 headache days of 28, after the first session 2 of every 7 days (8 of 28):
headache days fall by exactly 60% at the second cycle. Sessions S1, S1 + 84 days (on time),
S2 + 88 days (on time). MIDAS 30 before S1, 12 before S3 (change -18). One completed visit.
Patient Q (world.other_patient): one session on 2026-05-20 with a ptosis report; one no-show.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import time_machine

from bontrack.diaries.actions import questionnaires
from bontrack.diaries.actions.diary_days import DayInput, upsert_diary_days
from bontrack.diaries.models import QuestionnaireResponse
from bontrack.factories import signed_session
from bontrack.patients.models import Condition
from bontrack.scheduling.actions import booking, changes
from bontrack.treatments.actions import follow_up

TODAY = date(2026, 6, 1)
NOW = datetime(2026, 6, 1, 16, 0, tzinfo=UTC)
S1 = date(2025, 9, 2)
S2 = S1 + timedelta(days=84)
S3 = S2 + timedelta(days=88)
Q1 = date(2026, 5, 20)
PREEMPT_UNITS = 155  # the PREEMPT template the factory charts (31 sites x 5 U)


def _at(d: date, hour: int = 15) -> datetime:
    return datetime(d.year, d.month, d.day, hour, 0, tzinfo=UTC)


def diary(nurse, patient, until: date = S3) -> None:
    days = []
    d = S1 - timedelta(days=28)
    while d < until:
        # baseline: the first 20 of its 28 days; then 2 days of every 7
        ache = (d - S1).days + 28 < 20 if d < S1 else (d - S1).days % 7 < 2
        days.append(
            DayInput(
                date=d,
                headache=ache,
                hours=Decimal("4") if ache else None,
                severity=2 if ache else 0,
            )
        )
        d += timedelta(days=1)
    upsert_diary_days(actor=nurse, patient=patient, days=days)


def _midas(patient, total: int, pre_treatment: date | None) -> None:
    if pre_treatment is None:
        rows = questionnaires.assign_baseline(patient)
    else:
        rows = questionnaires.assign_pre_treatment(patient, pre_treatment)
    q = next(r for r in rows if r.instrument == "midas")
    q = QuestionnaireResponse.objects.get(pk=q.pk)
    answers = {"q1": total - 4, "q2": 1, "q3": 1, "q4": 1, "q5": 1}
    questionnaires.submit_questionnaire(actor=patient_user(patient), response=q, answers=answers)


def patient_user(patient):
    return patient.portal_account.user


def build(world, sched) -> None:
    physician, nurse = world.users["physician"], world.users["nurse"]
    p, q = world.patient, world.other_patient
    for patient in (p, q):
        Condition.objects.get_or_create(
            patient=patient, indication="chronic_migraine", icd10_code="G43.709"
        )
    with time_machine.travel(_at(S1 - timedelta(days=2)), tick=False):
        _midas(p, 30, None)
    for day in (S1, S2, S3):
        with time_machine.travel(_at(day), tick=False):
            signed_session(physician, p)
    with time_machine.travel(_at(S3 - timedelta(days=3)), tick=False):
        _midas(p, 12, S3)
    with time_machine.travel(_at(S3, 20), tick=False):
        diary(nurse, p)
    with time_machine.travel(_at(Q1), tick=False):
        session = signed_session(physician, q)
    with time_machine.travel(_at(Q1 + timedelta(days=3)), tick=False):
        follow_up.record_adverse_effect(actor=nurse, session=session, kind="ptosis")
    visit_day = datetime(2026, 5, 26, 14, 0, tzinfo=UTC)  # a Tuesday, 10:00 in New York
    with time_machine.travel(visit_day - timedelta(days=7), tick=False):
        attended = booking.book_appointment(
            actor=physician,
            clinic=sched.clinic,
            patient=p,
            appointment_type=sched.type("follow-up"),
            starts_at=visit_day,
            indication="chronic_migraine",
        )
        missed = booking.book_appointment(
            actor=physician,
            clinic=sched.clinic,
            patient=q,
            appointment_type=sched.type("follow-up"),
            starts_at=visit_day + timedelta(hours=2),
            indication="chronic_migraine",
        )
    with time_machine.travel(visit_day + timedelta(hours=5), tick=False):
        changes.set_status(actor=physician, appointment=attended, status="completed")
        changes.set_status(actor=physician, appointment=missed, status="no_show", reason="forgot")
