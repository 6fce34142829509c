"""Shared set-up of the read benchmarks: a read-only bench API token and a signed-in nurse of the
seeded practice's first clinic (created idempotently in the seeded database)."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from bontrack.accounts.models import ApiToken, User
from bontrack.accounts.services import hash_token_secret
from bontrack.core.models import Practice
from bontrack.patients.models import Patient

BENCH_SECRET = "bench-secret-not-for-production-0123456789abcdef"  # noqa: S105 - bench only


def nurse(practice_slug: str) -> User:
    practice = Practice.objects.get(slug=practice_slug)
    return (
        User.objects.filter(practice=practice, memberships__role="nurse")
        .order_by("memberships__clinic__slug", "pk")
        .first()
    )


def bench_token(practice_slug: str) -> str:
    """`bt_<key>_<secret>` of a read-only token of the first clinic's nurse (made if missing)."""
    user = nurse(practice_slug)
    key_id = f"bench{user.pk:011d}"[-16:]
    token = ApiToken.objects.filter(key_id=key_id).first()
    if token is None or token.revoked_at is not None or token.expires_at < timezone.now():
        ApiToken.objects.filter(key_id=key_id).delete()
        ApiToken.objects.create(
            user=user,
            name="read benchmark",
            key_id=key_id,
            secret_hash=hash_token_secret(BENCH_SECRET),
            scope=ApiToken.Scope.READ,
            expires_at=timezone.now() + timedelta(days=30),
        )
    return f"bt_{key_id}_{BENCH_SECRET}"


def patient_ids(practice_slug: str, n: int) -> list[int]:
    user = nurse(practice_slug)
    clinic_id = user.memberships.first().clinic_id  # type: ignore[union-attr]
    return list(
        Patient.objects.filter(clinic_id=clinic_id).order_by("pk").values_list("pk", flat=True)[:n]
    )


def staff_login(practice_slug: str) -> Client:
    user = nurse(practice_slug)
    client = Client()
    client.force_login(user)
    client.bench_clinic_id = user.memberships.first().clinic_id  # type: ignore[attr-defined,union-attr]
    return client
