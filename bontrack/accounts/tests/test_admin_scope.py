"""Security issue 8, finding 2: administration stays inside the clinics an administrator holds.

A clinic administrator membership with a clinic administers that clinic; without a clinic, the
whole practice. Only a practice-wide administrator acts practice-wide, and nobody manages an account
that has a role outside the clinics they administer. Denials change nothing (no row, no audit)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone

from bontrack.accounts import services
from bontrack.accounts.models import ApiToken, Membership, User
from bontrack.accounts.roles import Role
from bontrack.audit.models import AuditEvent
from bontrack.factories import login, staff

pytestmark = pytest.mark.django_db

# Local personas (the root PERSONAS list stays as it is).
ADMIN_PERSONAS = {
    "practice_admin": "clinic_admin",  # the world's practice-wide administrator
    "a1_admin": None,  # clinic administrator of A1 only (local)
    "physician": "physician",
    "nurse": "nurse",
    "front_desk": "front_desk",
    "billing": "billing",
    "patient": "patient",
    "other_practice_admin": None,  # practice-wide administrator of practice B (local)
    "anonymous": "anonymous",
}
ALLOWED = {"practice_admin", "a1_admin"}


@pytest.fixture
def admins(world):
    users = {
        "a1_admin": staff(Role.CLINIC_ADMIN, world.clinic, username="a1admin"),
        "other_practice_admin": staff(
            Role.CLINIC_ADMIN, None, practice=world.other_practice, username="badmin"
        ),
    }
    for name, key in ADMIN_PERSONAS.items():
        if key is not None:
            users[name] = world.users[key]
    return users


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        login(client, user)
    return client


def state():
    """Everything an administration action could change."""
    return (
        sorted(User.objects.values_list("pk", "is_active", "password", "must_change_password")),
        sorted(Membership.objects.values_list("pk", "user_id", "clinic_id", "role")),
        sorted(ApiToken.objects.values_list("pk", "revoked_at")),
        AuditEvent.objects.exclude(outcome="denied").count(),
    )


def _create(world, target, token):
    return "/accounts/staff/", {
        "username": "new.nurse",
        "first_name": "New",
        "last_name": "Nurse",
        "email": "new@example.org",
        "role": "nurse",
        "clinic": world.clinic.pk,
    }


def _add_role(world, target, token):
    return f"/accounts/staff/{target.pk}/roles/", {"role": "front_desk", "clinic": world.clinic.pk}


def _remove_role(world, target, token):
    return f"/accounts/staff/{target.pk}/roles/{target.memberships.get().pk}/remove/", {}


def _deactivate(world, target, token):
    return f"/accounts/staff/{target.pk}/active/", {"active": "0"}


def _reactivate(world, target, token):
    User.objects.filter(pk=target.pk).update(is_active=False)
    return f"/accounts/staff/{target.pk}/active/", {"active": "1"}


def _issue_token(world, target, token):
    return "/accounts/api-tokens/", {"user": target.pk, "name": "x", "scope": "read", "days": 30}


def _revoke_token(world, target, token):
    return f"/accounts/api-tokens/{token.pk}/revoke/", {}


def _reset_password(world, target, token):
    return f"/accounts/staff/{target.pk}/password/", {}


ACTIONS = {
    "create_staff": _create,
    "add_role": _add_role,
    "remove_role": _remove_role,
    "deactivate": _deactivate,
    "reactivate": _reactivate,
    "issue_token": _issue_token,
    "revoke_token": _revoke_token,
    "reset_password": _reset_password,
}


def expected_status(persona: str, action: str) -> set[int]:
    if persona in ALLOWED:
        return {200, 302}
    if persona == "anonymous":
        return {302}  # to the sign-in page
    if persona == "other_practice_admin":
        # The A1 account, its token and clinic are not in their practice: 404, or a form error
        # because clinic A1 is not a choice.
        return {404, 422}
    return {403}


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("persona", ADMIN_PERSONAS)
def test_administration_matrix(world, admins, persona, action):
    target = staff(Role.NURSE, world.clinic, username="target")
    token = ApiToken.objects.get(
        key_id=services.create_api_token(
            actor=world.users["clinic_admin"], user=target, name="t", step_up_at=timezone.now()
        ).split("_")[1]
    )
    path, data = ACTIONS[action](world, target, token)
    client = client_for(admins[persona])
    before = state()
    response = client.post(path, data)
    assert response.status_code in expected_status(persona, action), response.status_code
    if persona in ALLOWED:
        assert state() != before
        assert AuditEvent.objects.count() > before[3]
        if response.status_code == 302:  # back to the page, not to sign-in or step-up
            assert response["Location"].startswith(("/accounts/staff/", "/accounts/api-tokens/"))
    else:
        assert state() == before


# --- a clinic administrator cannot escape their clinic (service and HTTP) -------------------


@pytest.fixture
def a1_admin(world):
    return staff(Role.CLINIC_ADMIN, world.clinic, username="a1admin")


def refused(call) -> None:
    before = state()
    with pytest.raises(PermissionDenied):
        call()
    assert state() == before


def test_an_a1_admin_cannot_issue_a_token_for_a_physician_of_a2(world, a1_admin):
    refused(
        lambda: services.create_api_token(
            actor=a1_admin,
            user=world.users["other_clinic_staff"],
            name="x",
            step_up_at=timezone.now(),
        )
    )
    response = client_for(a1_admin).post(
        "/accounts/api-tokens/",
        {"user": world.users["other_clinic_staff"].pk, "name": "x", "scope": "read", "days": 9},
    )
    assert response.status_code == 422 and not ApiToken.objects.exists()


def test_an_a1_admin_cannot_create_a_practice_wide_account(world, a1_admin):
    refused(
        lambda: services.create_staff(
            actor=a1_admin,
            username="wide",
            first_name="W",
            last_name="Ide",
            email="w@example.org",
            role="physician",
            clinic=None,
        )
    )
    response = client_for(a1_admin).post(
        "/accounts/staff/",
        {
            "username": "wide",
            "first_name": "W",
            "last_name": "Ide",
            "email": "w@example.org",
            "role": "physician",
            "clinic": "",
        },
    )
    assert response.status_code == 422 and not User.objects.filter(username="wide").exists()


def test_an_a1_admin_cannot_create_staff_in_a2(world, a1_admin):
    refused(
        lambda: services.create_staff(
            actor=a1_admin,
            username="a2nurse",
            first_name="A",
            last_name="Two",
            email="a2@example.org",
            role="nurse",
            clinic=world.other_clinic,
        )
    )


def test_an_a1_admin_cannot_grant_practice_wide_admin_nor_a_role_in_a2(world, a1_admin):
    nurse = world.users["nurse"]
    for clinic, role in ((None, "clinic_admin"), (world.other_clinic, "nurse")):
        refused(
            lambda clinic=clinic, role=role: services.add_membership(
                actor=a1_admin, user=nurse, role=role, clinic=clinic, step_up_at=timezone.now()
            )
        )
    client = client_for(a1_admin)
    for clinic in ("", world.other_clinic.pk):
        before = state()
        client.post(
            f"/accounts/staff/{nurse.pk}/roles/", {"role": "clinic_admin", "clinic": clinic}
        )
        assert state() == before


@pytest.mark.parametrize("persona", ["other_clinic_staff", "billing", "clinic_admin"])
def test_an_a1_admin_cannot_touch_staff_with_a_role_outside_a1(world, a1_admin, persona):
    user = world.users[persona]  # A2 only, practice-wide billing, practice-wide admin
    now = timezone.now()
    refused(lambda: services.set_staff_active(actor=a1_admin, user=user, active=False))
    refused(lambda: services.reset_staff_password(actor=a1_admin, user=user, step_up_at=now))
    refused(lambda: services.create_api_token(actor=a1_admin, user=user, name="x", step_up_at=now))
    refused(lambda: services.remove_membership(actor=a1_admin, membership=user.memberships.first()))
    client = client_for(a1_admin)
    before = state()
    for path in ("active/", "password/", "roles/"):
        assert client.post(f"/accounts/staff/{user.pk}/{path}", {"active": "0"}).status_code == 404
    assert state() == before


def test_an_account_with_roles_in_a1_and_a2_belongs_to_the_practice_admin(world, a1_admin):
    both = staff(Role.NURSE, world.clinic, username="both")
    Membership.objects.create(
        user=both, practice=world.practice, clinic=world.other_clinic, role="nurse"
    )
    refused(lambda: services.set_staff_active(actor=a1_admin, user=both, active=False))
    services.set_staff_active(actor=world.users["clinic_admin"], user=both, active=False)
    assert not User.objects.get(pk=both.pk).is_active


def test_the_staff_and_token_lists_show_only_the_admins_clinics(world, a1_admin):
    for persona in ("nurse", "other_clinic_staff", "billing"):
        services.create_api_token(
            actor=world.users["clinic_admin"],
            user=world.users[persona],
            name=f"feed-{persona}",
            step_up_at=timezone.now(),
        )
    client = client_for(a1_admin)
    staff_page = client.get("/accounts/staff/").content.decode()
    assert "<code>nurse</code>" in staff_page and "<code>physician</code>" in staff_page
    assert "<code>otherclinic</code>" not in staff_page
    assert "<code>billing</code>" not in staff_page
    assert "<code>clinicadmin</code>" not in staff_page
    tokens = client.get("/accounts/api-tokens/").content.decode()
    assert "feed-nurse" in tokens
    assert "feed-other_clinic_staff" not in tokens and "feed-billing" not in tokens
    # The practice-wide administrator sees everyone of the practice, and no one else.
    wide = client_for(world.users["clinic_admin"]).get("/accounts/staff/").content.decode()
    assert "<code>otherclinic</code>" in wide and "<code>otherpractice</code>" not in wide


def test_an_a1_admin_manages_a1_staff(world, a1_admin):
    nurse = world.users["nurse"]
    services.add_membership(
        actor=a1_admin,
        user=nurse,
        role="front_desk",
        clinic=world.clinic,
        step_up_at=timezone.now(),
    )
    assert set(nurse.memberships.values_list("role", flat=True)) == {"nurse", "front_desk"}
    services.set_staff_active(actor=a1_admin, user=nurse, active=False)
    assert not User.objects.get(pk=nurse.pk).is_active
