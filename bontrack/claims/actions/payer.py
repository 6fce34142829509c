"""The payer's answer to an exported claim: paid (with the amount) or denied (with its reason)."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.claims.actions.common import lock, record, require
from bontrack.claims.choices import ClaimStatus
from bontrack.claims.models import Claim
from bontrack.core.errors import Conflict


def _exported(claim: Claim) -> None:
    if claim.status != ClaimStatus.EXPORTED:
        raise Conflict(
            f"This claim is {claim.get_status_display().lower()}: only an exported claim can be "
            "marked paid or denied.",
            field="status",
        )


@transaction.atomic(durable=True)
def mark_paid(*, actor: User, claim: Claim, amount: Decimal | None = None) -> Claim:
    return paid_in_transaction(actor=actor, claim=claim, amount=amount)


def paid_in_transaction(*, actor: User, claim: Claim, amount: Decimal | None = None) -> Claim:
    """``mark_paid`` inside the caller's transaction (the demo seed)."""
    require(actor, Perm.CLAIM_EXPORT, claim)
    locked = lock(claim)
    _exported(locked)
    if amount is not None and amount < 0:
        raise ValidationError({"paid_amount": ["The amount cannot be negative."]})
    locked.status = ClaimStatus.PAID
    locked.paid_amount = amount
    locked.closed_at = timezone.now()
    locked.save(update_fields=["status", "paid_amount", "closed_at", "updated_at"])
    record(
        actor,
        "update",
        locked,
        f"Claim {locked.pk} paid" + (f": ${amount}" if amount is not None else ""),
        {"status": [ClaimStatus.EXPORTED, ClaimStatus.PAID], "paid_amount": [None, amount]},
    )
    return locked


@transaction.atomic(durable=True)
def mark_denied(*, actor: User, claim: Claim, reason: str) -> Claim:
    return denied_in_transaction(actor=actor, claim=claim, reason=reason)


def denied_in_transaction(*, actor: User, claim: Claim, reason: str) -> Claim:
    """``mark_denied`` inside the caller's transaction (the demo seed)."""
    require(actor, Perm.CLAIM_EXPORT, claim)
    why = (reason or "").strip()
    if not why:
        raise ValidationError({"denial_reason": ["Record the payer's denial reason."]})
    locked = lock(claim)
    _exported(locked)
    locked.status = ClaimStatus.DENIED
    locked.denial_reason = why[:500]
    locked.closed_at = timezone.now()
    locked.save(update_fields=["status", "denial_reason", "closed_at", "updated_at"])
    record(
        actor,
        "update",
        locked,
        f"Claim {locked.pk} denied: {why}"[:300],
        {"status": [ClaimStatus.EXPORTED, ClaimStatus.DENIED], "denial_reason": [None, why]},
    )
    return locked
