"""The authorization API over every persona: list, create, update, consumption, packet PDF."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from bontrack.accounts.roles import Perm
from bontrack.audit.models import AuditEvent
from bontrack.authorizations.models import Authorization
from bontrack.authorizations.tests.conftest import approved
from bontrack.factories import signed_session
from conftest import permission_matrix

pytestmark = pytest.mark.django_db

CREATE = permission_matrix(Perm.AUTHORIZATION_EDIT, ok=201, api=True)
PATCH = permission_matrix(Perm.AUTHORIZATION_EDIT, api=True)
READ = permission_matrix(Perm.AUTHORIZATION_VIEW, api=True)
PDF = permission_matrix(Perm.AUTHORIZATION_PACKET, api=True)
# The list is scoped: staff of another clinic or practice get their own (empty) list.
LIST = permission_matrix(
    Perm.AUTHORIZATION_VIEW, api=True, other_clinic_staff=200, other_practice_staff=200
)
BODY = {
    "payer_name": "Blue Lake Health",
    "indication": "chronic_migraine",
    "status": "approved",
    "number": "PA-API",
    "units_approved": 400,
    "visits_approved": 2,
    "valid_from": "2026-01-01",
    "valid_until": "2026-12-31",
}


def _changes():
    return (
        Authorization.objects.count(),
        AuditEvent.objects.exclude(action="view").exclude(outcome="denied").count(),
    )


@pytest.mark.parametrize("persona,expected", CREATE.items())
def test_api_create(world, persona, expected):
    before = _changes()
    response = world.client(persona).post(
        "/api/v1/authorizations/",
        json.dumps({**BODY, "patient_id": world.patient.pk}),
        content_type="application/json",
    )
    assert response.status_code == expected, (persona, response.content)
    if expected == 201:
        assert response.json()["number"] == "PA-API"
    else:
        assert _changes() == before


@pytest.mark.parametrize("persona,expected", PATCH.items())
def test_api_update(world, persona, expected):
    auth = approved(world)
    before = _changes()
    response = world.client(persona).patch(
        f"/api/v1/authorizations/{auth.pk}",
        json.dumps({"units_approved": 900}),
        content_type="application/json",
    )
    assert response.status_code == expected, persona
    auth.refresh_from_db()
    if expected == 200:
        assert auth.units_approved == 900
        assert AuditEvent.objects.filter(action="update", object_id=str(auth.pk)).exists()
    else:
        assert auth.units_approved == 600 and _changes() == before


@pytest.mark.parametrize("persona,expected", READ.items())
def test_api_consumption(world, persona, expected):
    signed_session(world.users["physician"], world.patient, timezone.now() - timedelta(days=3))
    auth = approved(world)
    response = world.client(persona).get(f"/api/v1/authorizations/{auth.pk}/consumption")
    assert response.status_code == expected, persona
    if expected == 200:
        body = response.json()
        used = (float(body["units_used"]), float(body["units_left"]), body["visits_used"])
        assert used == (155, 445, 1)
        assert body["status"] == "approved" and body["running_out"] is False


@pytest.mark.parametrize("persona,expected", LIST.items())
def test_api_list(world, persona, expected):
    approved(world)
    response = world.client(persona).get("/api/v1/authorizations/?show=all")
    assert response.status_code == expected, persona
    if expected == 200:
        numbers = [i["number"] for i in response.json()["items"]]
        in_scope = persona not in ("other_clinic_staff", "other_practice_staff")
        assert numbers == (["PA-1001"] if in_scope else [])


@pytest.mark.parametrize("persona,expected", PDF.items())
def test_api_packet_pdf(world, persona, expected):
    auth = approved(world)
    response = world.client(persona).get(f"/api/v1/authorizations/{auth.pk}/packets/renewal.pdf")
    assert response.status_code == expected, persona
    if expected == 200:
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF-")


def test_api_refuses_an_approval_without_its_number(world):
    response = world.client("billing").post(
        "/api/v1/authorizations/",
        json.dumps({**BODY, "number": "", "patient_id": world.patient.pk}),
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["errors"]["number"] == ["An approval has an authorization number."]


def test_api_refuses_unknown_fields_and_numbers_as_dates(world):
    client = world.client("billing")
    for body in ({**BODY, "colour": "red"}, {**BODY, "valid_from": 0}):
        response = client.post(
            "/api/v1/authorizations/",
            json.dumps({**body, "patient_id": world.patient.pk}),
            content_type="application/json",
        )
        assert response.status_code == 422
    assert Authorization.objects.count() == 0
