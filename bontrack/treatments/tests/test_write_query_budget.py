"""Charting a site and signing a session cost the same number of queries for a first session and
for a patient with a long treatment history in a busy clinic."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bontrack.factories import PatientFactory, charted_session, signed_session
from bontrack.treatments.actions import findings as findings_actions
from bontrack.treatments.models import TreatmentSession

pytestmark = pytest.mark.django_db


def _patch_site(client, session, injection, units: str) -> int:
    url = f"/api/v1/treatments/sessions/{session.pk}/injections/{injection.pk}"
    with CaptureQueriesContext(connection) as ctx:
        response = client.patch(url, json.dumps({"units": units}), content_type="application/json")
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


def _sign(client, session) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(f"/api/v1/treatments/sessions/{session.pk}/sign")
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


def _draft_with_costs(world, patient) -> tuple[int, int]:
    """(queries of one site save, queries of signing) for a new draft session of `patient`."""
    nurse = world.users["nurse"]
    client = world.client("nurse")
    session = charted_session(nurse, patient)
    first, second = list(session.injections.order_by("position")[:2])
    _patch_site(client, session, first, "5")  # warm-up
    chart = _patch_site(client, session, second, "5")
    findings = findings_actions.current_findings(session)
    for rule_id in sorted({f["rule_id"] for f in findings["findings"] if f["severity"] == "warn"}):
        findings_actions.decide_finding(actor=nurse, session=session, rule_id=rule_id)
    return chart, _sign(client, session)


def test_charting_and_signing_cost_the_same_with_a_long_history(world):
    small = _draft_with_costs(world, world.patient)
    # A patient with four signed cycles, and other patients treated in the same clinic.
    nurse = world.users["nurse"]
    veteran = PatientFactory(clinic=world.clinic)
    now = timezone.now()
    for cycle in range(4, 0, -1):
        signed_session(nurse, veteran, now - timedelta(days=100 * cycle))
    for _ in range(3):
        signed_session(nurse, PatientFactory(clinic=world.clinic), now - timedelta(days=30))
    large = _draft_with_costs(world, veteran)
    assert large == small
    assert TreatmentSession.objects.current().count() == 9
