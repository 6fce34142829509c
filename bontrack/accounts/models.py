from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone

from bontrack.accounts.roles import MFA_REQUIRED_ROLES, Role, role_has
from bontrack.core.models import Clinic, Practice


@dataclass(frozen=True)
class Scope:
    """Where a user may exercise one permission: a practice, and all or some of its clinics."""

    practice_id: int
    all_clinics: bool
    clinic_ids: frozenset[int]

    def allows_clinic(self, clinic_id: int | None) -> bool:
        return self.all_clinics or clinic_id in self.clinic_ids


class User(AbstractUser):
    """Staff (with a practice and memberships) or a patient (with a portal account)."""

    if TYPE_CHECKING:

        def is_verified(self) -> bool: ...  # set per request by django_otp's OTPMiddleware

    practice = models.ForeignKey(
        Practice, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )

    # Set when an administrator hands over a one-time password; cleared when the user changes it.
    must_change_password = models.BooleanField(default=False)

    objects = UserManager()

    @property
    def is_staff_member(self) -> bool:
        return self.practice_id is not None and self.is_active

    @property
    def is_patient_user(self) -> bool:
        return self.practice_id is None and hasattr(self, "portal_account")

    def cached_memberships(self) -> list[Membership]:
        cache = getattr(self, "_membership_cache", None)
        if cache is None:
            cache = (
                list(self.memberships.filter(practice_id=self.practice_id))
                if self.practice_id
                else []
            )
            self._membership_cache = cache
        return cache

    def display_time_zone(self) -> str | None:
        """The zone of the one clinic this staff member works in; None when several or practice-wide."""
        memberships = self.cached_memberships()
        if any(m.clinic_id is None for m in memberships):
            return None
        zones = {m.clinic.time_zone for m in memberships if m.clinic is not None}
        return zones.pop() if len(zones) == 1 else None

    def roles(self) -> set[str]:
        return {m.role for m in self.cached_memberships()}

    def role_labels(self) -> list[str]:
        return sorted({Role(m.role).label for m in self.cached_memberships()})

    def requires_mfa(self) -> bool:
        return bool(self.roles() & MFA_REQUIRED_ROLES)

    def scope(self, perm: str) -> Scope | None:
        """The clinics where this user holds `perm`, or None when nowhere."""
        if not self.is_staff_member or self.practice_id is None:
            return None
        all_clinics = False
        clinic_ids: set[int] = set()
        for m in self.cached_memberships():
            if not role_has(m.role, perm):
                continue
            if m.clinic_id is None:
                all_clinics = True
            else:
                clinic_ids.add(m.clinic_id)
        if not all_clinics and not clinic_ids:
            return None
        return Scope(
            practice_id=self.practice_id, all_clinics=all_clinics, clinic_ids=frozenset(clinic_ids)
        )

    def has_clinic_perm(self, perm: str, clinic_id: int | None = None) -> bool:
        scope = self.scope(perm)
        if scope is None:
            return False
        return clinic_id is None or scope.allows_clinic(clinic_id)

    def role_in(self, clinic_id: int | None) -> str:
        roles = sorted(
            m.role for m in self.cached_memberships() if m.clinic_id in (None, clinic_id)
        )
        return ",".join(roles)


class Membership(models.Model):
    """A staff role in one clinic, or across the practice when `clinic` is empty."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="memberships")
    clinic = models.ForeignKey(
        Clinic, null=True, blank=True, on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "clinic", "role"],
                name="membership_unique_role_per_clinic",
                condition=Q(clinic__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["user", "role"],
                name="membership_unique_practice_wide_role",
                condition=Q(clinic__isnull=True),
            ),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        where = self.clinic.name if self.clinic_id else "all clinics"
        return f"{self.user} — {self.get_role_display()} ({where})"


class PortalAccount(models.Model):
    """Links a login to exactly one patient."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="portal_account")
    patient = models.OneToOneField(
        "patients.Patient", on_delete=models.CASCADE, related_name="portal_account"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"portal:{self.user}"


TOKEN_PREFIX = "bt"


def hash_token_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def default_token_expiry() -> datetime:
    """The longest validity an administrator may choose (API_TOKEN_MAX_DAYS)."""
    from django.conf import settings

    return timezone.now() + timedelta(days=settings.API_TOKEN_MAX_DAYS)


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def active(self) -> ApiTokenQuerySet:
        return self.filter(
            revoked_at__isnull=True, expires_at__gt=timezone.now(), user__is_active=True
        )


class ApiToken(models.Model):
    """A bearer token for integrations; only its hash is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")

    class Scope(models.TextChoices):
        READ = "read", "Read only"
        WRITE = "write", "Read and write"

    name = models.CharField(max_length=100)
    scope = models.CharField(max_length=5, choices=Scope.choices, default=Scope.READ)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField(default=default_token_expiry)
    key_id = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.name} ({self.key_id})"

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "Revoked"
        if self.expires_at <= timezone.now():
            return "Expired"
        return "Active"

    @property
    def read_only(self) -> bool:
        return self.scope == self.Scope.READ

    @staticmethod
    def generate() -> tuple[str, str, str]:
        """Return (key_id, secret, full token string)."""
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        return key_id, secret, f"{TOKEN_PREFIX}_{key_id}_{secret}"

    def matches(self, secret: str) -> bool:
        return secrets.compare_digest(self.secret_hash, hash_token_secret(secret))
