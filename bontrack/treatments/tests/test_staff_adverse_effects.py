"""Staff record and resolve adverse effects from the chart panel and the session screen."""

from __future__ import annotations

import json

import pytest

from bontrack.audit.models import AuditEvent
from bontrack.treatments.models import AdverseEffect

from .conftest import chart, signed

pytestmark = pytest.mark.django_db

UI = {
    "physician": 302,
    "nurse": 302,
    "front_desk": 403,
    "billing": 403,
    "clinic_admin": 403,
    "patient": 403,
    "other_patient": 403,
    "other_clinic_staff": 404,
    "other_practice_staff": 404,
    "anonymous": 302,
}
API = {**UI, "patient": 401, "other_patient": 401, "anonymous": 401}
API_ADD = {**API, "physician": 201, "nurse": 201}
API_RESOLVE = {**API, "physician": 200, "nurse": 200}
API_LIST = {**API_RESOLVE, "billing": 200, "clinic_admin": 200}
WRITERS = ("physician", "nurse")


def _changes() -> tuple[int, ...]:
    return (
        AuditEvent.objects.exclude(action="view").exclude(outcome="denied").count(),
        AdverseEffect.objects.count(),
        AdverseEffect.objects.filter(status="resolved").count(),
    )


def _effect(world, nurse):
    from bontrack.treatments.actions import follow_up

    session = signed(nurse, world.patient)
    return follow_up.record_adverse_effect(
        actor=nurse, session=session, kind="neck_pain", detail="Since Tuesday"
    )


def test_the_panel_and_the_signed_session_offer_the_form(world, nurse):
    session = signed(nurse, world.patient)
    client = world.client("nurse")
    panel = client.get(f"/treatments/patients/{world.patient.pk}/panel/").content.decode()
    action = f'action="/treatments/sessions/{session.pk}/adverse-effects/"'
    assert "Record an adverse effect" in panel and action in panel
    assert '<label for="ae-id_kind">' in panel or 'for="ae-kind"' in panel
    screen = client.get(f"/treatments/sessions/{session.pk}/").content.decode()
    assert "Record adverse effect" in screen and action in screen


def test_billing_sees_no_form_and_a_draft_has_none(world, nurse):
    draft = chart(nurse, world.patient)
    screen = world.client("nurse").get(f"/treatments/sessions/{draft.pk}/").content.decode()
    assert "Record adverse effect" not in screen
    signed_session = signed(nurse, world.other_patient)
    billing = world.client("billing").get(f"/treatments/sessions/{signed_session.pk}/")
    assert "Record adverse effect" not in billing.content.decode()


def test_a_nurse_records_an_effect_and_it_shows_on_the_chart_and_next_session(world, nurse):
    session = signed(nurse, world.patient)
    client = world.client("nurse")
    response = client.post(
        f"/treatments/sessions/{session.pk}/adverse-effects/",
        {"kind": "ptosis", "detail": "Left eyelid, since day 5"},
    )
    assert response.status_code == 302
    effect = AdverseEffect.objects.get(session=session)
    assert (effect.kind, effect.reported_by, effect.reporter) == ("ptosis", "staff", nurse)
    assert AuditEvent.objects.filter(
        object_type="treatments.adverseeffect", action="create", actor=nurse
    ).exists()
    panel = client.get(f"/treatments/patients/{world.patient.pk}/panel/").content.decode()
    assert "Open adverse effect:" in panel and "Left eyelid" in panel
    draft = chart(nurse, world.patient)
    assert (
        "Open adverse effect:" in client.get(f"/treatments/sessions/{draft.pk}/").content.decode()
    )


def test_other_needs_a_description(world, nurse):
    session = signed(nurse, world.patient)
    before = _changes()
    response = world.client("nurse").post(
        f"/treatments/sessions/{session.pk}/adverse-effects/", {"kind": "other", "detail": ""}
    )
    assert response.status_code == 422
    assert "Describe the effect." in response.content.decode()
    assert _changes() == before


def test_resolving_from_the_panel(world, nurse):
    effect = _effect(world, nurse)
    response = world.client("physician").post(
        f"/treatments/adverse-effects/{effect.pk}/resolve/", {"resolution": "Settled by week 3"}
    )
    assert response.status_code == 302
    effect.refresh_from_db()
    assert effect.status == "resolved" and effect.resolution == "Settled by week 3"
    assert AuditEvent.objects.filter(summary__startswith="Resolved adverse effect").exists()


@pytest.mark.parametrize("persona,expected", UI.items())
def test_who_may_record_an_effect_on_the_screen(world, persona, expected):
    session = signed(world.users["nurse"], world.patient)
    before = _changes()
    response = world.client(persona).post(
        f"/treatments/sessions/{session.pk}/adverse-effects/", {"kind": "neck_pain"}
    )
    assert response.status_code == expected
    assert AdverseEffect.objects.exists() == (persona in WRITERS)
    if persona not in WRITERS:
        assert _changes() == before


@pytest.mark.parametrize("persona,expected", UI.items())
def test_who_may_resolve_an_effect_on_the_screen(world, persona, expected):
    effect = _effect(world, world.users["nurse"])
    before = _changes()
    response = world.client(persona).post(
        f"/treatments/adverse-effects/{effect.pk}/resolve/", {"resolution": "Gone"}
    )
    assert response.status_code == expected
    effect.refresh_from_db()
    assert (effect.status == "resolved") == (persona in WRITERS)
    if persona not in WRITERS:
        assert _changes() == before


@pytest.mark.parametrize("persona,expected", API_ADD.items())
def test_who_may_record_an_effect_through_the_api(world, persona, expected):
    session = signed(world.users["nurse"], world.patient)
    before = _changes()
    response = world.client(persona).post(
        f"/api/v1/treatments/sessions/{session.pk}/adverse-effects",
        data=json.dumps({"kind": "dysphagia", "detail": "Solids only"}),
        content_type="application/json",
    )
    assert response.status_code == expected
    assert AdverseEffect.objects.exists() == (persona in WRITERS)
    if persona not in WRITERS:
        assert _changes() == before


@pytest.mark.parametrize("persona,expected", API_RESOLVE.items())
def test_who_may_resolve_an_effect_through_the_api(world, persona, expected):
    effect = _effect(world, world.users["nurse"])
    before = _changes()
    response = world.client(persona).post(
        f"/api/v1/treatments/adverse-effects/{effect.pk}/resolve",
        data=json.dumps({"resolution": "Gone"}),
        content_type="application/json",
    )
    assert response.status_code == expected
    effect.refresh_from_db()
    assert (effect.status == "resolved") == (persona in WRITERS)
    if persona not in WRITERS:
        assert _changes() == before


@pytest.mark.parametrize("persona,expected", API_LIST.items())
def test_who_may_list_effects_through_the_api(world, persona, expected):
    _effect(world, world.users["nurse"])
    before = _changes()
    response = world.client(persona).get(
        f"/api/v1/treatments/patients/{world.patient.pk}/adverse-effects"
    )
    assert response.status_code == expected
    if expected == 200:
        assert [e["kind"] for e in response.json()] == ["neck_pain"]
        assert AuditEvent.objects.filter(summary="Viewed adverse effects via API").exists()
    else:
        assert _changes() == before
        assert not AuditEvent.objects.filter(action="view").exists()
