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


def _draft_with_sites(world, patient, sites: int) -> TreatmentSession:
    """A draft with ``sites`` injection rows (template rows trimmed, or follow-the-pain rows added)."""
    session = chart(world.users["nurse"], patient)
    rows = list(session.injections.order_by("position", "id"))
    if sites <= len(rows):
        Injection.objects.filter(pk__in=[r.pk for r in rows[sites:]]).delete()
    else:
        Injection.objects.bulk_create(
            [
                Injection(session=session, muscle=rows[0].muscle, side=rows[0].side, units=1)
                for _ in range(sites - len(rows))
            ]
        )
    assert session.injections.count() == sites
    return session


@pytest.mark.parametrize(
    "url",
    [
        "/treatments/sessions/{sid}/",
        "/treatments/sessions/{sid}/note/",
        "/api/v1/treatments/sessions/{sid}",
    ],
    ids=["session screen", "procedure note", "session API"],
)
def test_the_session_read_model_costs_the_same_with_3_or_39_injections(world, url):
    client = world.client("nurse")
    small = _draft_with_sites(world, world.patient, 3)
    large = _draft_with_sites(world, world.other_patient, 39)
    assert _queries(client, url.format(sid=small.pk)) == _queries(client, url.format(sid=large.pk))


def test_the_session_screen_fetches_injections_and_vials_once(world):
    client = world.client("nurse")
    draft = chart(world.users["nurse"], world.patient)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(f"/treatments/sessions/{draft.pk}/")
    assert response.status_code == 200
    sql = [q["sql"] for q in ctx.captured_queries]
    assert sum('FROM "treatments_injection"' in q for q in sql) == 1
    assert sum('"treatments_vialuse"."session_id" IN' in q for q in sql) == 1
