"""The recall list's contact log: who called whom, with what outcome (audited)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from bontrack.accounts.access import require_clinic_perm as _require
from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.core.models import Clinic
from bontrack.patients.models import Patient
from bontrack.scheduling.models import ContactOutcome, RecallContact


@transaction.atomic(durable=True)
def record_contact(
    *,
    actor: User,
    clinic: Clinic,
    patient: Patient,
    indication: str,
    outcome: str,
    note: str = "",
) -> RecallContact:
    _require(actor, Perm.SCHEDULE_BOOK, clinic.pk)
    if patient.practice_id != clinic.practice_id:
        raise ValidationError({"patient_id": ["Choose a patient of this practice."]})
    if outcome not in ContactOutcome.values:
        raise ValidationError(
            {"outcome": ["Choose what happened: called, left a message or declined."]}
        )
    if not indication or len(indication) > 40:
        raise ValidationError({"indication": ["Choose the treatment the patient is due for."]})
    contact = RecallContact.objects.create(
        clinic=clinic,
        patient=patient,
        indication=indication,
        outcome=outcome,
        note=note.strip()[:300],
        contacted_by=actor,
    )
    audit.record(
        actor=actor,
        action="create",
        obj=contact,
        changes={
            "patient_id": [None, patient.pk],
            "indication": [None, indication],
            "outcome": [None, outcome],
            "note": [None, contact.note],
        },
        summary=f"Recall contact: {contact.get_outcome_display()}",
        clinic_id=clinic.pk,
        practice_id=clinic.practice_id,
    )
    return contact
