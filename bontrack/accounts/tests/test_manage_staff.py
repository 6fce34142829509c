"""Clinic administrators create staff accounts, give and take roles, and deactivate accounts."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from bontrack.accounts.models import ApiToken, Membership, User
from bontrack.accounts.roles import Perm
from bontrack.audit.models import AuditEvent
from conftest import permission_matrix

pytestmark = pytest.mark.django_db

CREATE = permission_matrix(Perm.STAFF_MANAGE)


def new_staff(world, **overrides):
    return {
        "username": "dr.new",
        "first_name": "Nia",
        "last_name": "Obi",
        "email": "nia@example.org",
        "role": "physician",
        "clinic": world.clinic.pk,
        **overrides,
    }


@pytest.mark.parametrize("persona,expected", CREATE.items())
def test_who_may_create_a_staff_account(world, persona, expected):
    events = AuditEvent.objects.exclude(outcome="denied").count()
    response = world.client(persona).post("/accounts/staff/", new_staff(world))
    assert response.status_code == expected
    created = User.objects.filter(username="dr.new").exists()
    assert created is (expected == 200)
    assert AuditEvent.objects.exclude(outcome="denied").count() == events + (1 if created else 0)


def test_the_new_account_signs_in_with_its_one_time_password_and_sees_its_clinic(world):
    response = world.client("clinic_admin").post("/accounts/staff/", new_staff(world, role="nurse"))
    password = response.content.decode().split('data-testid="new-password">')[1].split("<")[0]
    client = Client()
    assert (
        client.post("/accounts/login/", {"username": "dr.new", "password": password}).status_code
        == 302
    )
    # A one-time password must be changed first: every page sends the user to the change page.
    assert client.get(f"/patients/{world.patient.pk}/")["Location"] == "/accounts/password/"
    assert client.get("/api/v1/patients/").status_code == 403
    changed = client.post(
        "/accounts/password/",
        {
            "old_password": password,
            "new_password1": "a-new-long-pass-2026",
            "new_password2": "a-new-long-pass-2026",
        },
    )
    assert changed.status_code == 302
    assert client.get(f"/patients/{world.patient.pk}/").status_code == 200
    user = User.objects.get(username="dr.new")
    assert not user.must_change_password
    assert user.practice_id == world.practice.pk
    assert list(user.memberships.values_list("role", "clinic_id")) == [("nurse", world.clinic.pk)]


@pytest.mark.parametrize(
    "override,field",
    [
        ({"username": "x"}, "username"),
        ({"email": "nope"}, "email"),
        ({"role": "wizard"}, "role"),
        ({"username": "PHYSICIAN"}, "username"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_created(world, override, field):
    users = User.objects.count()
    response = world.client("clinic_admin").post("/accounts/staff/", new_staff(world, **override))
    assert response.status_code == 422
    assert User.objects.count() == users


def test_a_clinic_of_another_practice_cannot_be_given(world):
    response = world.client("clinic_admin").post(
        "/accounts/staff/", new_staff(world, clinic=world.other_practice_clinic.pk)
    )
    assert response.status_code == 422
    assert not User.objects.filter(username="dr.new").exists()


def test_roles_are_added_and_removed_with_audit(world):
    client = world.client("clinic_admin")
    nurse = world.users["nurse"]
    assert (
        client.post(
            f"/accounts/staff/{nurse.pk}/roles/",
            {"role": "front_desk", "clinic": world.other_clinic.pk},
        ).status_code
        == 302
    )
    added = Membership.objects.get(user=nurse, role="front_desk")
    assert added.clinic_id == world.other_clinic.pk
    assert client.post(f"/accounts/staff/{nurse.pk}/roles/{added.pk}/remove/").status_code == 302
    assert not Membership.objects.filter(pk=added.pk).exists()
    assert AuditEvent.objects.filter(object_type="accounts.membership").count() == 2


def test_deactivating_signs_the_account_out_of_the_api(world):
    from bontrack.accounts import services

    nurse = world.users["nurse"]
    token = services.create_api_token(
        step_up_at=timezone.now(), actor=world.users["clinic_admin"], user=nurse, name="x"
    )
    assert (
        world.client("clinic_admin")
        .post(f"/accounts/staff/{nurse.pk}/active/", {"active": "0"})
        .status_code
        == 302
    )
    nurse.refresh_from_db()
    assert not nurse.is_active
    assert ApiToken.objects.get().revoked_at is not None
    assert (
        Client().get("/api/v1/patients/", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )


def test_an_administrator_cannot_lock_themselves_out(world):
    admin = world.users["clinic_admin"]
    client = world.client("clinic_admin")
    client.post(f"/accounts/staff/{admin.pk}/active/", {"active": "0"})
    membership = admin.memberships.get()
    client.post(f"/accounts/staff/{admin.pk}/roles/{membership.pk}/remove/")
    admin.refresh_from_db()
    assert admin.is_active and admin.memberships.count() == 1


@pytest.mark.parametrize("persona", ["physician", "other_practice_staff", "patient"])
def test_others_cannot_change_roles_or_deactivate(world, persona):
    nurse = world.users["nurse"]
    membership = nurse.memberships.get()
    client = world.client(persona)
    events = AuditEvent.objects.exclude(outcome="denied").count()
    assert (
        client.post(f"/accounts/staff/{nurse.pk}/roles/", {"role": "physician"}).status_code == 403
    )
    assert (
        client.post(f"/accounts/staff/{nurse.pk}/roles/{membership.pk}/remove/").status_code == 403
    )
    assert client.post(f"/accounts/staff/{nurse.pk}/active/", {"active": "0"}).status_code == 403
    nurse.refresh_from_db()
    assert (
        nurse.is_active
        and nurse.memberships.count() == 1
        and AuditEvent.objects.exclude(outcome="denied").count() == events
    )


def test_staff_of_another_practice_are_404(world):
    other = world.users["other_practice_staff"]
    response = world.client("clinic_admin").post(
        f"/accounts/staff/{other.pk}/active/", {"active": "0"}
    )
    assert response.status_code == 404


def test_a_user_changes_their_password(world):
    client = world.client("front_desk")
    response = client.post(
        "/accounts/password/",
        {
            "old_password": "correct-horse-battery-9",
            "new_password1": "a-much-longer-secret-42",
            "new_password2": "a-much-longer-secret-42",
        },
    )
    assert response.status_code == 302
    user = world.users["front_desk"]
    user.refresh_from_db()
    assert user.check_password("a-much-longer-secret-42")
    assert AuditEvent.objects.filter(action="password_changed").count() == 1
