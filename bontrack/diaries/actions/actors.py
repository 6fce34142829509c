"""Who is acting: the patient themself (portal) or a staff member with a clinic permission."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied
from django.utils import timezone

from bontrack.accounts.access import require_clinic_perm as _require
from bontrack.accounts.models import User
from bontrack.patients.models import Patient


def _is_patient_self(actor: User, patient: Patient) -> bool:
    account = getattr(actor, "portal_account", None)
    return account is not None and account.patient_id == patient.pk


def _require_patient_or(actor: User, perm: str, patient: Patient) -> bool:
    """True when the actor is the patient; otherwise the staff permission is required."""
    if _is_patient_self(actor, patient):
        return True
    if getattr(actor, "is_staff_member", False):
        _require(actor, perm, patient.clinic_id)
        return False
    raise PermissionDenied("Only the patient or their clinicians can do this.")


def local_today() -> date:
    return timezone.localdate()


# ---- diary days ------------------------------------------------------------------------------
