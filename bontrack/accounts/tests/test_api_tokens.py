from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from bontrack.accounts import services
from bontrack.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_an_integration_reads_patients_with_a_bearer_token(world):
    token = services.create_api_token(
        step_up_at=timezone.now(),
        actor=world.users["clinic_admin"],
        user=world.users["nurse"],
        name="EHR sync",
    )
    response = Client().get("/api/v1/patients/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert [p["mrn"] for p in response.json()["items"]] == ["A1-0001", "A1-0002"]  # Cohen, Green
    assert (
        AuditEvent.objects.filter(action="search", channel="api", actor__username="nurse").count()
        == 1
    )


@pytest.mark.parametrize("header", ["Bearer nonsense", "Bearer bt_abc_def", "Token x", ""])
def test_a_bad_token_is_401(world, header):
    response = Client().get(
        "/api/v1/patients/", headers={"Authorization": header} if header else {}
    )
    assert response.status_code == 401
    assert response.json()["detail"]


def test_a_revoked_token_stops_working(world):
    token = services.create_api_token(
        step_up_at=timezone.now(),
        actor=world.users["clinic_admin"],
        user=world.users["nurse"],
        name="x",
    )
    from bontrack.accounts.models import ApiToken

    services.revoke_api_token(actor=world.users["clinic_admin"], token=ApiToken.objects.get())
    assert (
        Client().get("/api/v1/patients/", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )


def test_only_the_hash_of_a_token_is_stored(world):
    token = services.create_api_token(
        step_up_at=timezone.now(),
        actor=world.users["clinic_admin"],
        user=world.users["nurse"],
        name="x",
    )
    from bontrack.accounts.models import ApiToken

    stored = ApiToken.objects.get()
    assert token.split("_", 2)[2] not in (stored.secret_hash, stored.key_id)


def test_api_docs_are_for_staff(world):
    assert world.client("nurse").get("/api/v1/docs").status_code == 200
    assert world.client("patient").get("/api/v1/docs").status_code == 403
    assert world.client("anonymous").get("/api/v1/openapi.json").status_code == 302
