"""The chart's diary panel shows diary figures and the eligibility decision: an audited read."""

from __future__ import annotations

import pytest

from bontrack.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_the_diary_panel_writes_a_view_event(world):
    response = world.client("nurse").get(f"/diaries/patients/{world.patient.pk}/panel/")
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="view")
    assert (event.patient_id, event.summary, event.actor_label) == (
        world.patient.pk,
        "Viewed diary panel",
        "nurse",
    )


def test_a_role_without_diary_access_gets_an_empty_slot_and_no_view_event(world):
    response = world.client("front_desk").get(f"/diaries/patients/{world.patient.pk}/panel/")
    assert response.status_code == 200 and b"hidden" in response.content
    assert not AuditEvent.objects.filter(action="view").exists()


def test_another_practice_meets_a_404_and_a_denied_event(world):
    url = f"/diaries/patients/{world.patient.pk}/panel/"
    assert world.client("other_practice_staff").get(url).status_code == 404
    assert not AuditEvent.objects.filter(action="view").exists()
    denied = AuditEvent.objects.get(outcome="denied")
    assert (denied.patient_id, denied.summary) == (None, f"Denied GET {url} (404)")
