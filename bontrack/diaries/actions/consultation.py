"""Pre-visit and consultation notes, and the eligibility decision they lead to."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from bontrack.accounts.access import require_clinic_perm as _require
from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.diaries import facts
from bontrack.diaries.actions import actors
from bontrack.diaries.actions.actors import _is_patient_self
from bontrack.diaries.choices import (
    Decision,
)
from bontrack.diaries.models import (
    ConsultationNote,
    EligibilityAssessment,
)
from bontrack.outcomes.services import mark as mark_outcomes
from bontrack.patients.models import Patient

# ---- consultation ---------------------------------------------------------------------------

PATIENT_NOTE_FIELDS = [
    "patient_history",
    "patient_symptoms",
    "patient_previous_treatments",
    "patient_goals",
]
STAFF_NOTE_FIELDS = [
    "visit_date",
    "history",
    "symptoms",
    "previous_treatments",
    "goals",
    "examination",
    "plan",
]
NOTE_MAX = 5000


def open_consultation(patient: Patient) -> ConsultationNote | None:
    return ConsultationNote.objects.filter(patient=patient, signed_at__isnull=True).first()


def _check_texts(fields: dict[str, Any]) -> None:
    errors = {
        k: [f"At most {NOTE_MAX} characters."]
        for k, v in fields.items()
        if isinstance(v, str) and (len(v) > NOTE_MAX or "\x00" in v)
    }
    if errors:
        raise ValidationError(errors)


@transaction.atomic(durable=True)
def save_pre_visit(*, actor: User, patient: Patient, **fields: str) -> ConsultationNote:
    """The patient's own history, symptoms, previous treatments and goals before the visit."""
    if not _is_patient_self(actor, patient):
        raise PermissionDenied("Only the patient fills the pre-visit questions.")
    unknown = set(fields) - set(PATIENT_NOTE_FIELDS)
    if unknown:
        raise ValidationError({k: ["Unknown field."] for k in unknown})
    fields = {k: (v or "").strip() for k, v in fields.items()}
    _check_texts(fields)
    note = (
        ConsultationNote.objects.select_for_update()
        .filter(patient=patient, signed_at__isnull=True)
        .first()
    )
    created = note is None
    if note is None:
        note = ConsultationNote(patient=patient)
    before = audit.snapshot(note, PATIENT_NOTE_FIELDS)
    for k, v in fields.items():
        setattr(note, k, v)
    note.patient_submitted_at = timezone.now()
    note.save()
    audit.record(
        actor=actor,
        action="create" if created else "update",
        obj=note,
        clinic_id=patient.clinic_id,
        practice_id=patient.practice_id,
        changes=audit.diff(before, audit.snapshot(note, PATIENT_NOTE_FIELDS)),
        summary="Pre-visit questions answered in the portal",
    )
    return note


# What the eligibility decision reads from the note: it is signed only with each of them written.
SIGN_REQUIRED_TEXTS = ["history", "symptoms", "previous_treatments", "examination", "plan"]


def _check_signable(note: ConsultationNote) -> None:
    """A note is signed with its visit date (not ahead of today) and every field the decision
    needs; the refusal names each missing field (nothing is saved)."""
    errors: dict[str, list[str]] = {}
    if note.visit_date is None:
        errors["visit_date"] = ["Give the visit date before signing."]
    elif note.visit_date > actors.local_today():
        errors["visit_date"] = ["A note is signed on or after its visit: the date is ahead."]
    for field in SIGN_REQUIRED_TEXTS:
        if not (getattr(note, field) or "").strip():
            errors[field] = ["Write this before signing the note."]
    if errors:
        raise ValidationError(errors)


@transaction.atomic(durable=True)
def save_consultation(
    *, actor: User, patient: Patient, sign: bool = False, **fields: Any
) -> ConsultationNote:
    """The physician's note; pre-visit answers stay beside it. Signing makes it final."""
    _require(actor, Perm.CONSULTATION_EDIT, patient.clinic_id)
    unknown = set(fields) - set(STAFF_NOTE_FIELDS)
    if unknown:
        raise ValidationError({k: ["Unknown field."] for k in unknown})
    fields = {k: (v.strip() if isinstance(v, str) else v) for k, v in fields.items()}
    _check_texts(fields)
    visit = fields.get("visit_date")
    if visit is not None and visit > actors.local_today() + timedelta(days=366):
        raise ValidationError({"visit_date": ["The visit date is too far ahead."]})
    note = (
        ConsultationNote.objects.select_for_update()
        .filter(patient=patient, signed_at__isnull=True)
        .first()
    )
    created = note is None
    if note is None:
        note = ConsultationNote(patient=patient)
    before = audit.snapshot(note, STAFF_NOTE_FIELDS + ["signed_at"])
    for k, v in fields.items():
        setattr(note, k, v)
    note.author = actor
    if sign:
        _check_signable(note)
        note.signed_at = timezone.now()
    note.save()
    audit.record(
        actor=actor,
        action="create" if created else "update",
        obj=note,
        clinic_id=patient.clinic_id,
        practice_id=patient.practice_id,
        changes=audit.diff(before, audit.snapshot(note, STAFF_NOTE_FIELDS + ["signed_at"])),
        summary="Consultation note signed" if sign else "Consultation note saved",
    )
    return note


# ---- eligibility ----------------------------------------------------------------------------


@transaction.atomic(durable=True)
def record_eligibility_decision(
    *, actor: User, patient: Patient, decision: str, note: str = "", as_of: date | None = None
) -> EligibilityAssessment:
    """Store the clinic_rules assessment as of today with the physician's decision."""
    _require(actor, Perm.ELIGIBILITY_DECIDE, patient.clinic_id)
    if decision not in Decision.values:
        raise ValidationError({"decision": ["Choose eligible, not eligible or defer."]})
    note = (note or "").strip()
    _check_texts({"note": note})
    as_of = as_of or actors.local_today()
    if as_of > actors.local_today():
        raise ValidationError({"as_of": ["The assessment date cannot be in the future."]})
    if decision != Decision.ELIGIBLE.value and not note:
        raise ValidationError({"note": ["Say why (not eligible or deferred)."]})
    result, doc = facts.run_eligibility(patient, as_of)
    if decision == Decision.ELIGIBLE.value and result["status"] != "eligible" and not note:
        raise ValidationError(
            {"note": ["The rules do not find the patient eligible: write your reason."]}
        )
    mark_outcomes(patient.pk)
    row = EligibilityAssessment.objects.create(
        patient=patient,
        as_of=as_of,
        status=str(result["status"]),
        result=result,
        rule_set=str(result["rule_set"]),
        rule_sets=result.get("rule_sets", []),
        policy=doc.get("policy", {}),
        decision=decision,
        note=note,
        decided_by=actor,
        decided_at=timezone.now(),
    )
    audit.record(
        actor=actor,
        action="create",
        obj=row,
        clinic_id=patient.clinic_id,
        practice_id=patient.practice_id,
        changes={
            "decision": [None, decision],
            "status": [None, row.status],
            "rule_set": [None, row.rule_set],
        },
        summary=f"Eligibility decision: {decision} (rules: {row.status})",
    )
    return row
