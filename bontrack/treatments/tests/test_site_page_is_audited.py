"""Opening one injection site of a session shows the patient's treatment: it is an audited read."""

from __future__ import annotations

import pytest

from bontrack.audit.models import AuditEvent

from .conftest import chart

pytestmark = pytest.mark.django_db


def test_the_session_site_page_writes_a_view_event(world, nurse):
    session = chart(nurse, world.patient)
    site = session.injections.first()
    response = world.client("nurse").get(f"/treatments/sessions/{session.pk}/sites/{site.pk}/")
    assert response.status_code == 200
    event = AuditEvent.objects.get(
        action="view", summary=f"Viewed session {session.pk} site {site.pk}"
    )
    assert (event.patient_id, event.actor_label, event.outcome) == (
        world.patient.pk,
        "nurse",
        "success",
    )


def test_another_clinics_physician_meets_a_404_and_a_denied_event_without_the_patient(world, nurse):
    session = chart(nurse, world.patient)
    site = session.injections.first()
    url = f"/treatments/sessions/{session.pk}/sites/{site.pk}/"
    response = world.client("other_clinic_staff").get(url)
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(
        action="view", summary__contains=f"site {site.pk}"
    ).exists()
    denied = AuditEvent.objects.get(outcome="denied")
    assert denied.patient_id is None and denied.summary == f"Denied GET {url} (404)"
