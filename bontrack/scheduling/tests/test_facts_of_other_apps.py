"""scheduling reads other apps through their querysets and facts (no raw SQL of their tables,
no "is that app installed" guards); the pediatric age and intervals come from clinic_rules."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bontrack.diaries import facts as diaries_facts
from bontrack.diaries.models import DiaryDay
from bontrack.scheduling import facts
from bontrack.treatments import facts as treatments_facts
from bontrack.treatments.models import TreatmentSession
from clinic_rules import retreatment_interval
from clinic_rules.data import rule

FACTS = Path(facts.__file__)


def test_no_raw_sql_and_no_app_guards_in_the_facts_module():
    source = FACTS.read_text()
    assert "is_installed" not in source and "db_table" not in source
    tree = ast.parse(source)
    defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert not {"age_on", "is_pediatric", "diaries_ready", "treatments_ready"} & defined


@pytest.mark.parametrize(
    "indication",
    ["chronic_migraine", "cervical_dystonia", "blepharospasm", "upper_limb_spasticity"],
)
@pytest.mark.parametrize("pediatric", [False, True])
def test_the_interval_is_clinic_rules_and_the_treatments_rhythm(indication, pediatric):
    interval = facts.interval_for(indication, pediatric=pediatric)
    own = int(retreatment_interval(indication, pediatric=pediatric)["min_days"])
    assert interval.min_days == own
    assert interval.target_days == max(own, treatments_facts.retreatment_interval_days(indication))


def test_the_pediatric_age_is_the_rule_data():
    adult = rule("BTX-PEDIATRIC-AGE").int_("adult_age")
    today = date(2026, 6, 1)
    assert facts.is_pediatric_on(date(2026 - adult, 6, 2), today)
    assert not facts.is_pediatric_on(date(2026 - adult, 6, 1), today)


@pytest.mark.django_db
def test_the_last_signed_days_agree_on_every_database(world):
    patient = world.patient
    tz = ZoneInfo("America/New_York")
    for days_ago, indication in (
        (200, "chronic_migraine"),
        (100, "chronic_migraine"),
        (50, "blepharospasm"),
    ):
        when = datetime(2026, 6, 1, 3, 30, tzinfo=UTC) - timedelta(days=days_ago)
        TreatmentSession.objects.create(
            patient=patient,
            clinic=patient.clinic,
            indication=indication,
            performed_at=when,
            status="signed",
            signed_at=when,
            signed_by=world.users["physician"],
            rule_set="botox-us@1",
            consent_obtained=True,
        )
    dated = facts.last_signed_days(clinic_id=patient.clinic_id, tz=tz)
    ordinals = facts.last_signed_day_ordinals(clinic_id=patient.clinic_id, tz=tz)
    assert sorted(ordinals) == sorted(
        (p, i, dob.toordinal(), day.toordinal()) for p, i, dob, day in dated
    )
    # the local date in New York of 03:30 UTC is the day before
    cm = next(day for p, i, _, day in dated if i == "chronic_migraine")
    assert (
        cm == (datetime(2026, 6, 1, 3, 30, tzinfo=UTC) - timedelta(days=100)).astimezone(tz).date()
    )


@pytest.mark.django_db
def test_diary_day_counts_come_from_the_diaries_facts(world):
    patient = world.patient
    for k in range(5):
        DiaryDay.objects.create(
            patient=patient,
            date=date(2026, 5, 1) + timedelta(days=k),
            headache=False,
            source="patient",
        )
    counts = facts.diary_days([patient.pk], date(2026, 5, 2), date(2026, 5, 4))
    assert counts == diaries_facts.recorded_day_counts(
        [patient.pk], date(2026, 5, 2), date(2026, 5, 4)
    )
    assert counts == {patient.pk: 3}
