"""A form submitted as a whole page answers a whole page: with invalid data, a POST without HTMX gets
the layout (styles, navigation) and the form error, never a bare fragment; nothing changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bontrack.audit.models import AuditEvent
from bontrack.diaries.models import EligibilityAssessment
from bontrack.treatments.models import AdverseEffect, ResponseReview, TreatmentPlan

from .conftest import signed

pytestmark = pytest.mark.django_db

LAYOUT = ("<!doctype html>", "css/app.css", 'aria-label="Main"')


def _changes() -> tuple[int, ...]:
    return (
        AuditEvent.objects.exclude(action="view").exclude(outcome="denied").count(),
        AdverseEffect.objects.count(),
        ResponseReview.objects.count(),
        TreatmentPlan.objects.count(),
        EligibilityAssessment.objects.count(),
    )


def _whole_page(response, error: str) -> str:
    body = response.content.decode()
    assert response.status_code == 422, response.status_code
    for marker in LAYOUT:
        assert marker in body, marker
    assert error in body
    return body


def _two_cycles(world):
    nurse = world.users["nurse"]
    signed(nurse, world.patient, performed_at=timezone.now() - timedelta(days=120))
    return signed(nurse, world.patient, performed_at=timezone.now() - timedelta(days=30))


def test_an_invalid_response_review_answers_a_whole_page(world):
    _two_cycles(world)
    before = _changes()
    response = world.client("physician").post(
        f"/treatments/patients/{world.patient.pk}/review/", {"decision": "adjust", "reason": ""}
    )
    body = _whole_page(response, "Record the response review")
    assert 'class="errorlist' in body or 'role="alert"' in body
    assert _changes() == before


def test_an_empty_response_review_answers_a_whole_page(world):
    _two_cycles(world)
    before = _changes()
    response = world.client("physician").post(f"/treatments/patients/{world.patient.pk}/review/")
    body = _whole_page(response, "Record the response review")
    assert '<ul class="errorlist" role="alert">' in body
    assert _changes() == before


def test_an_invalid_adverse_effect_answers_a_whole_page(world, nurse):
    session = signed(nurse, world.patient)
    before = _changes()
    response = world.client("nurse").post(
        f"/treatments/sessions/{session.pk}/adverse-effects/", {"kind": "other", "detail": ""}
    )
    _whole_page(response, "Describe the effect.")
    assert _changes() == before


def test_an_invalid_plan_answers_a_whole_page(world, nurse):
    signed(nurse, world.patient)
    before = _changes()
    response = world.client("nurse").post(
        f"/treatments/patients/{world.patient.pk}/plans/new/", {"muscle": "", "sites": "0"}
    )
    _whole_page(response, "New plan")
    assert _changes() == before


def test_an_invalid_eligibility_decision_answers_a_whole_page_and_htmx_a_fragment(world):
    before = _changes()
    client = world.client("physician")
    url = f"/diaries/patients/{world.patient.pk}/eligibility/"
    response = client.post(url, {"decision": "not_eligible", "note": ""})
    _whole_page(response, "Say why")
    fragment = client.post(url, {"decision": "not_eligible", "note": ""}, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 422
    assert "<!doctype html>" not in fragment.content.decode()
    assert 'id="diary-panel"' in fragment.content.decode()
    assert _changes() == before
