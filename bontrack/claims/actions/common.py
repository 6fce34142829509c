"""Shared pieces of the claims use cases: the permission check on the claim's clinic, locking,
the audit row."""

from __future__ import annotations

from typing import Any

from bontrack.accounts.access import require_clinic_perm
from bontrack.audit import audit
from bontrack.claims.models import Claim
from bontrack.core.errors import Conflict


def require(actor: Any, perm: str, claim: Claim) -> None:
    require_clinic_perm(actor, perm, claim.clinic_id)


def lock(claim: Claim) -> Claim:
    return (
        Claim.objects.select_for_update()
        .select_related("patient", "clinic", "session")
        .get(pk=claim.pk)
    )


def require_editable(claim: Claim) -> None:
    if not claim.editable:
        raise Conflict(
            f"This claim is {claim.get_status_display().lower()}; it can no longer be changed."
        )


def record(
    actor: Any,
    action: str,
    claim: Claim,
    summary: str,
    changes: dict[str, list[Any]] | None = None,
) -> None:
    audit.record(
        actor=actor,
        action=action,
        obj=claim,
        patient_id=claim.patient_id,
        clinic_id=claim.clinic_id,
        practice_id=claim.clinic.practice_id,
        summary=summary,
        changes=changes,
    )
