from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from bontrack.accounts.models import ApiToken, Membership, Scope, User, hash_token_secret
from bontrack.accounts.roles import Perm, Role
from bontrack.audit import audit
from bontrack.core.errors import Conflict
from bontrack.core.messaging.outbox import enqueue_message
from bontrack.core.models import Clinic
from bontrack.core.sqlcache import Prepared


class StepUpRequired(PermissionDenied):
    """A sensitive action needs a TOTP verification within MFA_STEP_UP_SECONDS."""


def step_up_fresh(verified_at: datetime | None) -> bool:
    if verified_at is None:
        return False
    age = (timezone.now() - verified_at).total_seconds()
    return 0 <= age <= settings.MFA_STEP_UP_SECONDS


def _require_step_up(verified_at: datetime | None) -> None:
    if not step_up_fresh(verified_at):
        raise StepUpRequired("Confirm this action with a fresh code from your authenticator app.")


def _admin_scope(actor: User, perm: str) -> Scope:
    scope = actor.scope(perm) if actor is not None and actor.is_authenticated else None
    if scope is None:
        raise PermissionDenied(
            "Your role does not allow managing staff accounts or their API tokens."
        )
    return scope


def _require_clinic_in_scope(scope: Scope, clinic: Clinic | None) -> None:
    """Only a practice-wide administrator acts practice-wide; nobody acts outside their clinics."""
    if clinic is None:
        if not scope.all_clinics:
            raise PermissionDenied(
                "Only a practice-wide administrator can give access to all clinics."
            )
    elif clinic.practice_id != scope.practice_id or not scope.allows_clinic(clinic.pk):
        raise PermissionDenied("You can only give access to the clinics you administer.")


def manageable_staff(scope: Scope) -> QuerySet[User]:
    """Staff accounts an administrator with `scope` manages: in a practice-wide scope, every account
    of the practice; otherwise accounts with a role in one of its clinics and no role elsewhere."""
    users = User.objects.filter(practice_id=scope.practice_id)
    if scope.all_clinics:
        return users
    outside = Membership.objects.filter(user=OuterRef("pk")).filter(
        Q(clinic__isnull=True) | ~Q(clinic_id__in=scope.clinic_ids)
    )
    return (
        users.filter(memberships__clinic_id__in=scope.clinic_ids)
        .exclude(Exists(outside))
        .distinct()
    )


def _require_manageable(scope: Scope, user: User, what: str) -> None:
    if not manageable_staff(scope).filter(pk=user.pk).exists():
        raise PermissionDenied(f"You can only {what} staff of the clinics you administer.")


@transaction.atomic(durable=True)
def create_api_token(
    *,
    actor: User,
    user: User,
    name: str,
    scope: str = ApiToken.Scope.READ,
    days: int | None = None,
    step_up_at: datetime | None,
) -> str:
    """Create a bearer token for `user`; the full token is returned once and never stored."""
    admin = _admin_scope(actor, Perm.API_TOKENS_MANAGE)
    _require_manageable(admin, user, "issue tokens for")
    _require_step_up(step_up_at)
    if not user.is_staff_member:
        raise ValidationError({"user": ["API tokens are for active staff accounts."]})
    name = name.strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["Name the integration that will use this token."]
    if scope not in ApiToken.Scope.values:
        errors["scope"] = ["Choose read only or read and write."]
    max_days = settings.API_TOKEN_MAX_DAYS
    days = max_days if days is None else days
    if not 1 <= days <= max_days:
        errors["days"] = [f"Choose between 1 and {max_days} days."]
    if errors:
        raise ValidationError(errors)
    key_id, secret, full = ApiToken.generate()
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        key_id=key_id,
        secret_hash=hash_token_secret(secret),
        scope=scope,
        created_by=actor,
        expires_at=timezone.now() + timedelta(days=days),
    )
    audit.record(
        actor=actor,
        action="create",
        obj=token,
        practice_id=user.practice_id,
        changes={"scope": [None, scope], "expires_at": [None, token.expires_at]},
        summary=f"API token {name!r} ({token.key_id}, {token.get_scope_display()}) for {user.username}",
    )
    return full


@transaction.atomic(durable=True)
def revoke_api_token(*, actor: User, token: ApiToken) -> None:
    admin = _admin_scope(actor, Perm.API_TOKENS_MANAGE)
    _require_manageable(admin, token.user, "revoke tokens of")
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
        summary=f"API token {token.key_id} revoked",
    )


def _token_query(key_id: str, now: datetime) -> QuerySet[ApiToken]:
    """The active token with this key id, its user and one row per membership of the user."""
    return (
        ApiToken.objects.filter(revoked_at__isnull=True, expires_at__gt=now, user__is_active=True)
        .select_related("user")
        .filter(key_id=key_id)
        .annotate(
            m_id=F("user__memberships__id"),
            m_practice_id=F("user__memberships__practice_id"),
            m_clinic_id=F("user__memberships__clinic_id"),
            m_role=F("user__memberships__role"),
        )
        .order_by("user__memberships__id")
    )


# Compiled once per process (core/sqlcache.py): every API request runs it.
_TOKEN_QUERY = Prepared(_token_query)


def authenticate_token(raw: str) -> ApiToken | None:
    """The active (not revoked, not expired, active owner) token for `raw`, or None.

    One query: the token, its user and the user's memberships (one row per membership, LEFT
    JOIN), so the permission checks of the request need no further query. Nothing is cached
    across requests: a revoked or expired token, or a removed role, counts at the next request.
    The last-used time is written at most once a minute per token (a conditional UPDATE), never
    on every request."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != "bt":
        return None
    rows: list[ApiToken] = _TOKEN_QUERY.fetch("token", parts[1], timezone.now())  # type: ignore[assignment]
    if not rows or not rows[0].matches(parts[2]):
        return None
    token = rows[0]
    user = token.user
    user._membership_cache = (  # type: ignore[attr-defined]
        [
            Membership(
                id=r.m_id,  # type: ignore[attr-defined]
                user_id=user.pk,
                practice_id=r.m_practice_id,  # type: ignore[attr-defined]
                clinic_id=r.m_clinic_id,  # type: ignore[attr-defined]
                role=r.m_role,  # type: ignore[attr-defined]
            )
            for r in rows
            if r.m_id is not None and r.m_practice_id == user.practice_id  # type: ignore[attr-defined]
        ]
        if user.practice_id
        else []
    )
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - timedelta(seconds=60))
        ).update(last_used_at=now)
    return token


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
    """A new staff account with one membership; returns the user and a one-time password to hand over
    (the account must change it at first sign-in)."""
    admin = _admin_scope(actor, Perm.STAFF_MANAGE)
    _require_clinic_in_scope(admin, clinic)
    if role not in Role.values:
        raise ValidationError({"role": ["Choose a role."]})
    username = username.strip().lower()
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict("That username is taken.", field="username")
    user = User(
        username=username,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        email=email.strip(),
        practice_id=actor.practice_id,
        must_change_password=True,
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
def add_membership(
    *,
    actor: User,
    user: User,
    role: str,
    clinic: Clinic | None,
    step_up_at: datetime | None,
) -> Membership:
    admin = _admin_scope(actor, Perm.STAFF_MANAGE)
    _require_clinic_in_scope(admin, clinic)
    _require_manageable(admin, user, "give roles to")
    _require_step_up(step_up_at)
    if role not in Role.values:
        raise ValidationError({"role": ["Choose a role."]})
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
    admin = _admin_scope(actor, Perm.STAFF_MANAGE)
    _require_clinic_in_scope(admin, membership.clinic)
    _require_manageable(admin, membership.user, "change roles of")
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
    admin = _admin_scope(actor, Perm.STAFF_MANAGE)
    _require_manageable(admin, user, "deactivate or reactivate")
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


@transaction.atomic(durable=True)
def reset_staff_password(*, actor: User, user: User, step_up_at: datetime | None) -> str:
    """A new one-time password for a staff member (shown once); they must change it at sign-in.
    Their API tokens stay valid (a separate credential); deactivate the account to stop them."""
    admin = _admin_scope(actor, Perm.STAFF_MANAGE)
    _require_manageable(admin, user, "reset the password of")
    _require_step_up(step_up_at)
    if user.pk == actor.pk:
        raise Conflict("Change your own password on the password page.")
    password = secrets.token_urlsafe(12)
    user.set_password(password)
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])
    audit.record(
        actor=actor,
        action="update",
        obj=user,
        practice_id=user.practice_id,
        changes={"password": ["(hidden)", "(one-time password)"]},
        summary=f"One-time password set for {user.username}",
    )
    return password


@transaction.atomic(durable=True)
def password_changed(*, user: User, how: str = "password_changed") -> None:
    """After the user set a new password themselves (change page or e-mailed reset link)."""
    if user.must_change_password:
        user.must_change_password = False
        user.save(update_fields=["must_change_password"])
    audit.record(
        actor=user,
        action=how,
        obj=user,
        practice_id=user.practice_id,
        summary=f"{how} {user.username}",
    )


def request_password_reset(*, email: str, base_url: str) -> int:
    """Queue a reset link for every active account with this address (staff or patient).

    The caller answers the same whether or not the address exists. The e-mail goes through the
    transactional outbox and is delivered by `bontrack worker`."""
    from django.contrib.auth.tokens import default_token_generator
    from django.template.loader import render_to_string
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    email = email.strip()
    users = [
        u
        for u in User.objects.filter(email__iexact=email, is_active=True)
        if u.has_usable_password() and (u.practice_id is not None or u.is_patient_user)
    ]
    queued = 0
    with transaction.atomic(durable=True):
        for user in users:
            uid = urlsafe_base64_encode(force_bytes(user.pk))
            token = default_token_generator.make_token(user)
            link = f"{base_url}/accounts/reset/{uid}/{token}/"
            body = render_to_string(
                "accounts/password_reset_email.txt",
                {"user": user, "link": link, "hours": settings.PASSWORD_RESET_TIMEOUT // 3600},
            )
            message = enqueue_message(
                channel="email",
                to=user.email,
                subject="Reset your BoNTrack password",
                body=body,
                dedupe_key=f"password-reset:{user.pk}:{secrets.token_hex(8)}",  # one per request
                send_after=timezone.now(),
            )
            audit.record(
                actor=None,
                action="update",
                obj=user,
                practice_id=user.practice_id,
                summary=f"Password reset link sent to {user.username}",
            )
            queued += message is not None
    return queued


# --- Portal invitations ----------------------------------------------------------------------
# A patient who booked online gets a portal account without a password and an e-mailed, signed,
# expiring link to set one (`/portal/invite/<token>/`), so that the diary and the questionnaires
# can start before the first visit. The token carries the user id and a fingerprint of the
# (unusable) password: once a password is set, the link dies; it expires after
# PORTAL_INVITE_MAX_AGE_SECONDS (default 7 days).

PORTAL_INVITE_SALT = "bontrack.portal.invite"


def portal_invite_max_age() -> int:
    return int(getattr(settings, "PORTAL_INVITE_MAX_AGE_SECONDS", 0) or 7 * 24 * 3600)


def _fingerprint(user: User) -> str:
    import hashlib

    return hashlib.sha256(user.password.encode()).hexdigest()[:16]


def portal_invite_token(user: User) -> str:
    from django.core import signing

    return signing.dumps(
        {"u": user.pk, "p": _fingerprint(user)}, salt=PORTAL_INVITE_SALT, compress=True
    )


def read_portal_invite(token: str) -> User | None:
    """The invited user, or None when the link is forged, expired or already used."""
    from django.core import signing

    try:
        data = signing.loads(token, salt=PORTAL_INVITE_SALT, max_age=portal_invite_max_age())
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = User.objects.filter(pk=data["u"], is_active=True).first()
    if user is None or user.has_usable_password() or _fingerprint(user) != data.get("p"):
        return None
    if not hasattr(user, "portal_account"):
        return None
    return user


def _portal_username(email: str) -> str:
    base = email.strip().lower()[:140] or "patient"
    if not User.objects.filter(username__iexact=base).exists():
        return base
    return f"{base[:130]}-{secrets.token_hex(3)}"


def invite_to_portal(*, patient: Any, base_url: str) -> User | None:
    """Create the patient's portal account (no password yet) and queue the invitation e-mail.

    Runs inside the caller's transaction (the booking's). Nothing when the patient has no e-mail
    or already has an account."""
    from bontrack.accounts.models import PortalAccount

    if not connection_in_atomic():
        raise RuntimeError("invite_to_portal runs inside the caller's transaction")
    email = str(patient.email or "")
    patient_id: int = patient.pk
    if not email or PortalAccount.objects.filter(patient_id=patient_id).exists():
        return None
    user = User(
        username=_portal_username(email),
        email=email,
        first_name=str(getattr(patient, "first_name", "")),
        last_name=str(getattr(patient, "last_name", "")),
    )
    user.set_unusable_password()
    user.save()
    PortalAccount.objects.create(user=user, patient_id=patient_id)
    link = f"{base_url}/portal/invite/{portal_invite_token(user)}/"
    days = portal_invite_max_age() // 86400
    enqueue_message(
        channel="email",
        to=email,
        subject="Set up your patient portal",
        body=(
            f"Hello {user.first_name},\n\n"
            "Thank you for booking with us. Your patient portal is ready: set a password with "
            f"this personal link (valid for {days} days, once):\n{link}\n\n"
            f"Your username is: {user.username}\n\n"
            "In the portal you can fill in the questionnaire before your visit and, if you have "
            "migraine, start your headache diary now: a few days of diary make the first visit "
            "more useful.\n"
        ),
        dedupe_key=f"portal-invite:{user.pk}",
        send_after=timezone.now(),
        patient=patient,
    )
    audit.record(
        actor=None,
        action="create",
        obj=user,
        patient_id=patient_id,
        clinic_id=getattr(patient, "clinic_id", None),
        practice_id=getattr(patient, "practice_id", None),
        summary="Portal account created; invitation to set a password sent",
    )
    return user


def connection_in_atomic() -> bool:
    from django.db import connection

    return connection.in_atomic_block


@transaction.atomic(durable=True)
def accept_portal_invite(*, user: User, password: str) -> User:
    """The invited patient sets their password (validated by the caller's SetPasswordForm)."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    account = locked.portal_account
    if locked.has_usable_password():
        raise Conflict("This invitation was already used: sign in with your password.")
    locked.set_password(password)
    locked.save(update_fields=["password"])
    audit.record(
        actor=locked,
        action="password_changed",
        obj=locked,
        patient_id=account.patient_id,
        practice_id=account.patient.practice_id,
        summary=f"Portal password set from the invitation by {locked.username}",
    )
    return locked
