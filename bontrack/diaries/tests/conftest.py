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
