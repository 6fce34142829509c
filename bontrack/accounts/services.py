from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from bontrack.accounts.models import ApiToken, User, hash_token_secret
from bontrack.audit import audit


@transaction.atomic(durable=True)
def create_api_token(*, actor: User, user: User, name: str) -> str:
    """Create a bearer token for `user`; the full token is returned once and never stored."""
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
