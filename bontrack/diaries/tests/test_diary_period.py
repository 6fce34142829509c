"""One diary period (the "month" of the rates) on every diary screen, from the program policy data."""

from __future__ import annotations

import pytest

from bontrack.diaries import facts
from bontrack.diaries.actions import actors
from bontrack.diaries.tests.conftest import add_failed_preventives, build_diary
from clinic_rules.data import rule

pytestmark = pytest.mark.django_db


def test_the_period_is_the_program_policy_value():
    assert facts.period_days() == rule("POLICY-PERIOD-DAYS").params["default"]


def test_the_diary_page_and_the_chart_panel_use_the_same_period(world, cm_patient):
    build_diary(cm_patient, end=actors.local_today(), days=130)
    add_failed_preventives(cm_patient)
    client = world.client("physician")
    n = facts.period_days()

    page = client.get(f"/diaries/patients/{cm_patient.pk}/")
    panel = client.get(f"/diaries/patients/{cm_patient.pk}/panel/")

    assert page.context["summary"]["period_days"] == n
    assert f"Days per {n}-day period".encode() in page.content
    assert f"Monthly evidence ({n}-day periods".encode() in panel.content
    # every period of the page's table spans that many days
    for p in page.context["periods"]:
        from datetime import date

        span = (date.fromisoformat(p["end"]) - date.fromisoformat(p["start"])).days + 1
        assert span == n
