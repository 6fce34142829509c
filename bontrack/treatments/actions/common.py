"""Helpers every treatment action shares: the audit row, muscle validation, the draft lock."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from bontrack.accounts.access import require_clinic_perm as _require
from bontrack.accounts.models import User
from bontrack.audit import audit
from bontrack.core.errors import Conflict
from bontrack.patients.models import Patient
from bontrack.treatments import facts
from bontrack.treatments.choices import (
    SessionStatus,
    Side,
)
from bontrack.treatments.models import (
    TreatmentSession,
)


def audit_record(
    actor: Any,
    action: str,
    obj: Any,
    patient: Patient,
    summary: str,
    changes: dict[str, list[Any]] | None = None,
) -> None:
    audit.record(
        actor=actor,
        action=action,
        obj=obj,
        patient_id=patient.pk,
        clinic_id=patient.clinic_id,
        practice_id=patient.practice_id,
        changes=changes,
        summary=summary,
    )


def muscle_errors(muscle: str, side: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if muscle not in facts.muscle_labels():
        errors["muscle"] = ["Choose a muscle from the list."]
    if side not in Side.values:
        errors["side"] = ["Choose left, right, midline or bilateral."]
    return errors


def lock_draft(session: TreatmentSession, actor: User, perm: str) -> TreatmentSession:
    locked = (
        TreatmentSession.objects.select_for_update()
        .select_related("patient", "clinic")
        .get(pk=session.pk)
    )
    _require(actor, perm, locked.patient.clinic_id)
    if locked.status != SessionStatus.DRAFT:
        raise Conflict("This session is signed; corrections are made with an amendment.")
    return locked


def record_view(*, actor: User, patient: Patient, what: str) -> None:
    """A read's audit row, in its own small transaction (opened by audit.record)."""
    audit.record(actor=actor, action="view", obj=patient, summary=f"Viewed {what}")


def scope_has(actor: User, perm: str, clinic_id: int) -> bool:
    return actor.has_clinic_perm(perm, clinic_id)


def record_list_view(*, actor: User, what: str) -> None:
    """Audit a read of a list of patients' rows (no one patient: the practice's chain)."""
    with transaction.atomic():
        audit.record(actor=actor, action="view", summary=f"Viewed {what}")
