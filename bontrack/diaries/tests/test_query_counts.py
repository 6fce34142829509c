"""Diary pages and API reads cost the same for one month and for three years of diary."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bontrack.diaries.actions import actors
from bontrack.diaries.models import DiaryDay, QuestionnaireResponse
from bontrack.diaries.tests.conftest import build_diary

pytestmark = pytest.mark.django_db


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def _grow_to_three_years(patient) -> None:
    today = actors.local_today()
    DiaryDay.objects.filter(patient=patient).delete()
    build_diary(patient, end=today, days=3 * 365, seed=7)
    QuestionnaireResponse.objects.bulk_create(
        [
            QuestionnaireResponse(
                patient=patient,
                instrument="midas",
                assigned_for="pre_treatment",
                due_date=today - timedelta(days=84 * k),
                score=20,
                valid=True,
                completed_at=None,
            )
            for k in range(1, 12)
        ]
    )


@pytest.mark.parametrize(
    "url",
    [
        "/diaries/patients/{pk}/",
        "/diaries/patients/{pk}/panel/",
        "/diaries/patients/{pk}/export.csv",
        "/api/v1/diaries/patients/{pk}/days",
        "/api/v1/diaries/patients/{pk}/eligibility",
    ],
)
def test_a_page_costs_the_same_for_one_month_and_three_years(world, cm_patient, url):
    client = world.client("physician")
    url = url.format(pk=cm_patient.pk)
    build_diary(cm_patient, end=actors.local_today(), days=30, seed=3)
    month = _queries(client, url)
    _grow_to_three_years(cm_patient)
    assert _queries(client, url) == month


def test_the_portal_diary_costs_the_same_for_one_month_and_three_years(world, cm_patient):
    client = world.client("patient")
    build_diary(cm_patient, end=actors.local_today(), days=30, seed=3)
    client.get("/portal/diary/")  # first visit assigns the baseline questionnaires
    month = _queries(client, "/portal/diary/")
    _grow_to_three_years(cm_patient)
    assert _queries(client, "/portal/diary/") == month


def test_the_chart_with_its_panel_slot_keeps_its_query_count(world, cm_patient):
    client = world.client("nurse")
    url = f"/patients/{cm_patient.pk}/"
    thin = _queries(client, url)
    build_diary(cm_patient, end=actors.local_today(), days=400, seed=5)
    assert _queries(client, url) == thin
