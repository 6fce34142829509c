"""Diary fixtures: the world's patient in the chronic migraine program, and diary builders."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest

from bontrack.diaries.models import DiaryDay, DiaryMedication
from bontrack.patients.models import Condition, PriorTreatment

TODAY = date(2026, 3, 10)


@pytest.fixture
def frozen_today(monkeypatch):
    """The clinic's 'today' for diary rules (back-fill window, future days)."""
    from bontrack.diaries.actions import actors

    monkeypatch.setattr(actors, "local_today", lambda: TODAY)
    return TODAY


@pytest.fixture
def cm_patient(world):
    Condition.objects.create(
        patient=world.patient, indication="chronic_migraine", icd10_code="G43.709"
    )
    return world.patient


def add_failed_preventives(patient) -> None:
    for drug, cls in (
        ("Topiramate", "anticonvulsant"),
        ("Propranolol", "beta_blocker"),
        ("Amitriptyline", "tricyclic"),
    ):
        PriorTreatment.objects.create(
            patient=patient, drug=drug, drug_class=cls, outcome="ineffective"
        )


def build_diary(patient, *, end: date, days: int, seed: int = 1, chronic: bool = True) -> int:
    """Bulk diary: most days migraine when `chronic` (>= 15 headache, >= 8 migraine a month)."""
    rng = random.Random(seed)
    rows, meds = [], []
    for k in range(days):
        d = end - timedelta(days=k)
        headache = rng.random() < (0.75 if chronic else 0.2)
        if headache:
            row = DiaryDay(
                patient=patient,
                date=d,
                headache=True,
                hours=Decimal("6"),
                severity=3,
                unilateral=True,
                pulsating=True,
                nausea=True,
                source="patient",
            )
            meds.append((row, rng.random() < 0.3))
        else:
            row = DiaryDay(patient=patient, date=d, headache=False, source="patient")
            meds.append((row, False))
        rows.append(row)
    DiaryDay.objects.bulk_create(rows, batch_size=1000)
    DiaryMedication.objects.bulk_create(
        [DiaryMedication(day=r, name="Sumatriptan", drug_class="triptan") for r, m in meds if m]
    )
    return len(rows)


def _at(day: date, hour: int = 10):
    from datetime import datetime

    from django.utils import timezone

    return timezone.make_aware(datetime(day.year, day.month, day.day, hour, 0))


@pytest.fixture
def treated(world, cm_patient):
    """200 diary days up to today, sessions 140 and 50 days ago, a MIDAS and a HIT-6 answered
    20 days ago (the outcome charts' patient)."""
    import time_machine

    from bontrack.diaries.actions import actors, questionnaires
    from bontrack.diaries.models import QuestionnaireResponse
    from bontrack.diaries.tests.test_questionnaires import HIT6, MIDAS
    from bontrack.factories import signed_session

    today = actors.local_today()
    build_diary(cm_patient, end=today, days=200)
    first, second = today - timedelta(days=140), today - timedelta(days=50)
    for day in (first, second):
        signed_session(world.users["physician"], cm_patient, performed_at=_at(day))
    questionnaires.assign_pre_treatment(cm_patient, today)
    with time_machine.travel(_at(today - timedelta(days=20)), tick=False):
        for q in QuestionnaireResponse.objects.filter(patient=cm_patient):
            questionnaires.submit_questionnaire(
                actor=world.users["nurse"],
                response=q,
                answers=MIDAS if q.instrument == "midas" else HIT6,
            )
    return cm_patient, today, [first, second]
