from __future__ import annotations

import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from bontrack.accounts.models import ApiToken, Membership, User, hash_token_secret
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.core.errors import Conflict
from bontrack.core.models import Clinic


@transaction.atomic(durable=True)
def create_api_token(*, actor: User, user: User, name: str) -> str:
    """Create a bearer token for `user`; the full token is returned once and never stored."""
    _check_token_admin(actor, user)
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["Name the integration that will use this token."]})
    key_id, secret, full = ApiToken.generate()
    token = ApiToken.objects.create(
        user=user, name=name[:100], key_id=key_id, secret_hash=hash_token_secret(secret)
    )
    audit.record(
        actor=actor,
        action="create",
        obj=token,
        practice_id=user.practice_id,
        summary=f"API token {name!r} for {user.username}",
    )
    return full


@transaction.atomic(durable=True)
def revoke_api_token(*, actor: User, token: ApiToken) -> None:
    _check_token_admin(actor, token.user)
    if token.revoked_at is not None:
        raise Conflict("This token is already revoked.")
    before = token.revoked_at
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit.record(
        actor=actor,
        action="update",
        obj=token,
        practice_id=token.user.practice_id,
        changes={"revoked_at": [before, token.revoked_at]},
        summary="API token revoked",
    )


def _check_token_admin(actor: User, user: User) -> None:
    """Only a clinic administrator of the same practice manages a staff member's tokens."""
    if not actor.has_clinic_perm(Perm.API_TOKENS_MANAGE) or user.practice_id != actor.practice_id:
        raise PermissionDenied("Your role does not allow managing API tokens for this account.")
    if not user.is_staff_member:
        raise ValidationError({"user": ["API tokens are for active staff accounts."]})


def authenticate_token(raw: str) -> User | None:
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != "bt":
        return None
    token = ApiToken.objects.active().select_related("user").filter(key_id=parts[1]).first()
    if token is None or not token.matches(parts[2]):
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


@transaction.atomic(durable=True)
def record_login(*, user: User, outcome: str = "success", action: str = "login") -> None:
    audit.record(
        actor=user,
        action=action,
        obj=user,
        practice_id=user.practice_id,
        outcome=outcome,
        summary=f"{action} {user.username}",
    )


def _check_staff_admin(actor: User, practice_id: int | None) -> None:
    if not actor.has_clinic_perm(Perm.STAFF_MANAGE) or practice_id != actor.practice_id:
        raise PermissionDenied("Your role does not allow managing staff accounts.")


@transaction.atomic(durable=True)
def create_staff(
    *,
    actor: User,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    role: str,
    clinic: Clinic | None,
) -> tuple[User, str]:
    """A new staff account with one membership; returns the user and a one-time password to hand over."""
    _check_staff_admin(actor, actor.practice_id)
    username = username.strip().lower()
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict("That username is taken.", field="username")
    if clinic is not None and clinic.practice_id != actor.practice_id:
        raise ValidationError({"clinic": ["Choose a clinic of your practice."]})
    user = User(
        username=username,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        email=email.strip(),
        practice_id=actor.practice_id,
    )
    password = secrets.token_urlsafe(12)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    membership = Membership.objects.create(
        user=user, practice_id=actor.practice_id, clinic=clinic, role=role
    )
    audit.record(
        actor=actor,
        action="create",
        obj=user,
        practice_id=actor.practice_id,
        changes={
            "username": [None, username],
            "role": [None, role],
            "clinic": [None, clinic.pk if clinic else "all clinics"],
        },
        summary=f"Staff account {username} ({membership.get_role_display()})",
    )
    return user, password


@transaction.atomic(durable=True)
def add_membership(*, actor: User, user: User, role: str, clinic: Clinic | None) -> Membership:
    _check_staff_admin(actor, user.practice_id)
    if clinic is not None and clinic.practice_id != actor.practice_id:
        raise ValidationError({"clinic": ["Choose a clinic of your practice."]})
    if Membership.objects.filter(user=user, role=role, clinic=clinic).exists():
        raise Conflict("This account already has that role there.", field="role")
    membership = Membership.objects.create(
        user=user, practice_id=actor.practice_id, clinic=clinic, role=role
    )
    audit.record(
        actor=actor,
        action="create",
        obj=membership,
        practice_id=actor.practice_id,
        changes={
            "user": [None, user.username],
            "role": [None, role],
            "clinic": [None, clinic.pk if clinic else "all clinics"],
        },
        summary=f"Role {membership.get_role_display()} for {user.username}",
    )
    return membership


@transaction.atomic(durable=True)
def remove_membership(*, actor: User, membership: Membership) -> None:
    _check_staff_admin(actor, membership.practice_id)
    if membership.user_id == actor.id and membership.role == "clinic_admin":
        raise Conflict("You cannot remove your own administrator role.")
    audit.record(
        actor=actor,
        action="delete",
        obj=membership,
        practice_id=membership.practice_id,
        changes={"user": [membership.user.username, None], "role": [membership.role, None]},
        summary=f"Removed role {membership.get_role_display()} from {membership.user.username}",
    )
    membership.delete()


@transaction.atomic(durable=True)
def set_staff_active(*, actor: User, user: User, active: bool) -> User:
    """Deactivating signs the account out of the API too: its tokens are revoked."""
    _check_staff_admin(actor, user.practice_id)
    if user.pk == actor.pk and not active:
        raise Conflict("You cannot deactivate your own account.")
    if user.is_active == active:
        return user
    user.is_active = active
    user.save(update_fields=["is_active"])
    revoked = 0
    if not active:
        revoked = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    audit.record(
        actor=actor,
        action="update",
        obj=user,
        practice_id=user.practice_id,
        changes={"is_active": [not active, active]},
        summary=f"{'Reactivated' if active else 'Deactivated'} {user.username}"
        + (f"; {revoked} API token(s) revoked" if revoked else ""),
    )
    return user
