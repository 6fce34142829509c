"""The chart asks for a recent weight for a pediatric patient: the age comes from clinic_rules."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from bontrack.patients import facts
from bontrack.patients.models import Patient

pytestmark = pytest.mark.django_db

NOTE = "Pediatric dosing needs a recent weight."


def _born_years_ago(years: int) -> date:
    today = timezone.localdate()
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def test_the_adult_age_is_the_rule_data():
    assert facts.adult_age() == 18  # BTX-PEDIATRIC-AGE
    assert facts.is_pediatric(17) and not facts.is_pediatric(18)


@pytest.mark.parametrize("years,shown", [(17, True), (18, False)])
def test_the_weight_note_follows_the_pediatric_age(world, years, shown):
    Patient.objects.filter(pk=world.patient.pk).update(date_of_birth=_born_years_ago(years))
    world.patient.weights.all().delete()
    response = world.client("physician").get(f"/patients/{world.patient.pk}/")
    assert response.status_code == 200
    assert (NOTE in response.content.decode()) == shown
