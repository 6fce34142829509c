from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from bontrack.accounts.models import ApiToken, User, hash_token_secret
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.core.errors import Conflict


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
