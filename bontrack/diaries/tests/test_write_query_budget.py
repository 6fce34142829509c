"""Recording a diary day costs the same number of queries with a short or a long diary."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bontrack.diaries.actions import actors
from bontrack.diaries.models import DiaryDay

pytestmark = pytest.mark.django_db


def _record_day(client, day) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(f"/portal/diary/day/{day.isoformat()}/", {"headache": "no"})
    assert response.status_code == 302, response.content[:500]
    return len(ctx.captured_queries)


def test_recording_a_diary_day_costs_the_same_for_a_short_or_a_long_diary(world, cm_patient):
    client = world.client("patient")
    today = actors.local_today()
    _record_day(client, today)  # warm-up: the first entry may assign the baseline period
    small = _record_day(client, today - timedelta(days=1))
    # Ninety older days transcribed by a nurse through the API (the diary service).
    days = [
        {"date": (today - timedelta(days=40 + i)).isoformat(), "headache": False} for i in range(90)
    ]
    response = world.client("nurse").put(
        f"/api/v1/diaries/patients/{cm_patient.pk}/days",
        json.dumps({"days": days}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    large = _record_day(client, today - timedelta(days=2))
    assert large == small
    assert DiaryDay.objects.filter(patient=cm_patient).count() == 93
