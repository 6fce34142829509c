"""One HTMX site save runs the dose check once, at a fixed query cost (issue 9 item 4)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bontrack.treatments.models import Injection, TreatmentSession
from clinic_rules import contract

from .conftest import chart

pytestmark = pytest.mark.django_db

# One HTMX site save (before issue 9: 38 queries, 2 dose-check runs; 33 until issue 13 stopped
# rewriting the session row on every request; PostgreSQL writes an audit row, with its chain head's
# lock and move, in one statement).
# +1 since issue 10: the weight for the dose totals (U/kg beside units).
SITE_SAVE_QUERIES = {"sqlite": 31, "postgresql": 29}


@pytest.fixture
def rule_runs(monkeypatch):
    """Count the dose-check runs (the real rules run; the wrapper only counts)."""
    runs: list[str] = []
    real = contract.run

    def counting(name, doc, *args, **kwargs):
        if name == "dose-check":
            runs.append(name)
        return real(name, doc, *args, **kwargs)

    monkeypatch.setattr(contract, "run", counting)
    return runs


def _draft_with(world, sites: int, patient=None) -> TreatmentSession:
    session = chart(world.users["nurse"], patient or world.patient)
    keep = list(session.injections.order_by("position", "id").values_list("pk", flat=True)[:sites])
    Injection.objects.filter(session=session).exclude(pk__in=keep).delete()
    return session


def _save_site(client, session: TreatmentSession, units: str) -> tuple[int, int]:
    site = session.injections.order_by("position", "id").first()
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(
            f"/treatments/sessions/{session.pk}/sites/{site.pk}/save/",
            {"units": units, "status": "done"},
            HTTP_HX_REQUEST="true",
        )
    assert response.status_code == 200, response.content[:500]
    site.refresh_from_db()
    assert site.units == Decimal(units)
    return len(ctx.captured_queries), response


def test_one_site_save_runs_the_dose_check_once(world, rule_runs):
    session = _draft_with(world, 31)
    client = world.client("nurse")
    rule_runs.clear()
    _save_site(client, session, "4")
    assert len(rule_runs) == 1


def test_a_site_save_costs_the_same_with_3_or_30_sites(world):
    client = world.client("nurse")
    small, _ = _save_site(client, _draft_with(world, 3), "4")
    large, _ = _save_site(client, _draft_with(world, 30, world.other_patient), "4")
    assert small == large == SITE_SAVE_QUERIES[connection.vendor]
