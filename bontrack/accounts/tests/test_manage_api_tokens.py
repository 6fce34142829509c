"""Clinic administrators issue and revoke integration tokens; nobody else can."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from bontrack.accounts import services
from bontrack.accounts.models import ApiToken
from bontrack.accounts.roles import Perm
from bontrack.audit.models import AuditEvent
from conftest import permission_matrix

pytestmark = pytest.mark.django_db

PAGE = permission_matrix(Perm.API_TOKENS_MANAGE)


@pytest.mark.parametrize("persona,expected", PAGE.items())
def test_who_may_issue_a_token(world, persona, expected):
    client = world.client(persona)
    assert client.get("/accounts/api-tokens/").status_code == expected
    response = client.post(
        "/accounts/api-tokens/",
        {"user": world.users["nurse"].pk, "name": "EHR sync", "scope": "read", "days": 90},
    )
    assert response.status_code == expected
    issued = ApiToken.objects.filter(user=world.users["nurse"]).count()
    assert issued == (1 if expected == 200 else 0)
    assert AuditEvent.objects.filter(object_type="accounts.apitoken").count() == issued


def test_a_new_token_is_shown_once_and_works(world):
    client = world.client("clinic_admin")
    response = client.post(
        "/accounts/api-tokens/",
        {"user": world.users["nurse"].pk, "name": "EHR sync", "scope": "read", "days": 90},
    )
    token = response.content.decode().split('data-testid="new-token">')[1].split("<")[0]
    assert token.startswith("bt_")
    assert (
        Client().get("/api/v1/patients/", headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )
    assert token not in client.get("/accounts/api-tokens/").content.decode()


def test_an_empty_name_is_refused_and_nothing_is_issued(world):
    response = world.client("clinic_admin").post(
        "/accounts/api-tokens/",
        {"user": world.users["nurse"].pk, "name": " ", "scope": "read", "days": 90},
    )
    assert response.status_code == 422
    assert not ApiToken.objects.exists()


def test_a_staff_member_of_another_practice_cannot_be_chosen(world):
    response = world.client("clinic_admin").post(
        "/accounts/api-tokens/",
        {"user": world.users["other_practice_staff"].pk, "name": "x", "scope": "read", "days": 9},
    )
    assert response.status_code == 422
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    "persona,expected",
    [
        ("clinic_admin", 302),
        ("physician", 403),
        ("other_practice_staff", 403),
        ("anonymous", 302),
        ("patient", 403),
    ],
)
def test_who_may_revoke_a_token(world, persona, expected):
    services.create_api_token(
        step_up_at=timezone.now(),
        actor=world.users["clinic_admin"],
        user=world.users["nurse"],
        name="x",
    )
    token = ApiToken.objects.get()
    events = AuditEvent.objects.exclude(outcome="denied").count()
    response = world.client(persona).post(f"/accounts/api-tokens/{token.pk}/revoke/")
    assert response.status_code == expected
    token.refresh_from_db()
    revoked = persona == "clinic_admin"
    assert (token.revoked_at is not None) is revoked
    assert AuditEvent.objects.exclude(outcome="denied").count() == events + (1 if revoked else 0)


def test_a_token_of_another_practice_is_404(world):
    from bontrack.factories import staff

    other_admin = staff("clinic_admin", None, practice=world.other_practice, username="otheradmin")
    services.create_api_token(
        step_up_at=timezone.now(),
        actor=other_admin,
        user=world.users["other_practice_staff"],
        name="x",
    )
    token = ApiToken.objects.get()
    assert (
        world.client("clinic_admin").post(f"/accounts/api-tokens/{token.pk}/revoke/").status_code
        == 404
    )
    token.refresh_from_db()
    assert token.revoked_at is None


def test_the_service_refuses_a_non_admin(world):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.create_api_token(
            step_up_at=timezone.now(),
            actor=world.users["physician"],
            user=world.users["nurse"],
            name="x",
        )
    assert not ApiToken.objects.exists() and not AuditEvent.objects.exists()
