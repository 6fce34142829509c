"""The session screen, the chart panel and the session API cost the same as history grows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bontrack.treatments import facts
from bontrack.treatments.models import AdverseEffect, Injection, TreatmentSession

from .conftest import chart

pytestmark = pytest.mark.django_db


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return len(ctx.captured_queries)


def _raw_signed(world, performed_at):
    """A signed PREEMPT session written directly (history next to an open draft)."""
    session = TreatmentSession.objects.create(
        patient=world.patient, clinic=world.clinic, performed_at=performed_at
    )
    Injection.objects.bulk_create(
        [
            Injection(session=session, muscle=r["muscle"], side=r["side"], units=r["units"])
            for r in facts.preempt_site_rows()
        ]
    )
    TreatmentSession.objects.filter(pk=session.pk).update(
        status="signed", signed_at=performed_at, signed_by=world.users["nurse"], rule_set="x"
    )
    return session


def _history(world, cycles: int, start_days_ago: int) -> None:
    for n in range(cycles):
        session = _raw_signed(world, timezone.now() - timedelta(days=start_days_ago - 84 * n))
        AdverseEffect.objects.create(
            patient=world.patient,
            session=session,
            kind="neck_pain",
            reported_at=session.performed_at + timedelta(days=15),
            reported_by="patient",
        )


def test_the_session_screen_costs_the_same_with_1_or_12_earlier_sessions(world):
    client = world.client("nurse")
    _history(world, 1, 200)
    draft = chart(world.users["nurse"], world.patient)
    small = _queries(client, f"/treatments/sessions/{draft.pk}/")
    _history(world, 11, 84 * 14)
    assert _queries(client, f"/treatments/sessions/{draft.pk}/") == small


def test_the_chart_panel_costs_the_same_with_2_or_14_sessions(world):
    client = world.client("physician")
    _history(world, 2, 200)
    url = f"/treatments/patients/{world.patient.pk}/panel/"
    small = _queries(client, url)
    _history(world, 12, 84 * 16)
    assert _queries(client, url) == small


def test_the_session_api_costs_the_same_with_1_or_12_earlier_sessions(world):
    client = world.client("nurse")
    _history(world, 1, 200)
    draft = chart(world.users["nurse"], world.patient)
    small = _queries(client, f"/api/v1/treatments/sessions/{draft.pk}")
    _history(world, 11, 84 * 14)
    assert _queries(client, f"/api/v1/treatments/sessions/{draft.pk}") == small
