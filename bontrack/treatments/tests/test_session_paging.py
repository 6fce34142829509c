"""Older sessions: keyset pages on the chart panel and in the session API list."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bontrack.treatments.models import Injection, TreatmentSession
from bontrack.treatments.views.panel import PANEL_SESSIONS

pytestmark = pytest.mark.django_db


def _history(world, n: int) -> list[TreatmentSession]:
    """``n`` signed history rows (bulk): the list pages only need the rows."""
    now = timezone.now()
    rows = TreatmentSession.objects.bulk_create(
        [
            TreatmentSession(
                patient=world.patient,
                clinic=world.clinic,
                performed_at=now - timedelta(days=90 * i + 1),
            )
            for i in range(n)
        ]
    )
    Injection.objects.bulk_create(
        [Injection(session=s, muscle="procerus", side="midline", units=5) for s in rows]
    )
    TreatmentSession.objects.filter(pk__in=[s.pk for s in rows]).update(
        status="signed", signed_at=now, signed_by=world.users["nurse"], rule_set="test@1"
    )
    return rows


def _cursor(html: str) -> str | None:
    m = re.search(r'hx-get="[^"]*/sessions/older/\?cursor=([^"&]+)"', html)
    return m.group(1) if m else None


def test_the_panel_pages_back_through_older_sessions(world):
    rows = _history(world, PANEL_SESSIONS * 2 + 3)
    client = world.client("nurse")
    panel = client.get(f"/treatments/patients/{world.patient.pk}/panel/").content.decode()
    assert "Older sessions" in panel
    seen = panel.count("/treatments/sessions/") - panel.count("/treatments/sessions/older")
    cursor = _cursor(panel)
    pages = 0
    while cursor:
        page = client.get(
            f"/treatments/patients/{world.patient.pk}/sessions/older/?cursor={cursor}"
        )
        assert page.status_code == 200
        html = page.content.decode()
        seen += html.count('">Open</a>')
        cursor = _cursor(html)
        pages += 1
    assert pages == 2
    assert seen >= len(rows)


def test_a_bad_panel_cursor_is_a_400(world):
    response = world.client("nurse").get(
        f"/treatments/patients/{world.patient.pk}/sessions/older/?cursor=nope"
    )
    assert response.status_code == 400


def test_the_api_list_pages_with_a_cursor_newest_first(world):
    rows = _history(world, 7)
    client = world.client("nurse")
    url = f"/api/v1/treatments/patients/{world.patient.pk}/sessions"
    got, cursor = [], None
    while True:
        response = client.get(url, {"size": 3, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200
        body = response.json()
        got += [s["id"] for s in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    expected = [s.pk for s in sorted(rows, key=lambda s: s.performed_at, reverse=True)]
    assert got == expected


def test_the_api_refuses_a_bad_cursor_or_size(world):
    client = world.client("nurse")
    url = f"/api/v1/treatments/patients/{world.patient.pk}/sessions"
    assert client.get(url, {"cursor": "%%%"}).status_code == 422
    assert client.get(url, {"size": 0}).status_code == 422


def test_the_api_list_query_count_does_not_grow_with_the_page(world):
    client = world.client("nurse")
    url = f"/api/v1/treatments/patients/{world.patient.pk}/sessions"
    _history(world, 2)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url, {"size": 20}).status_code == 200
    _history(world, 18)
    with CaptureQueriesContext(connection) as large:
        assert len(client.get(url, {"size": 20}).json()["items"]) == 20
    assert len(large) == len(small)
