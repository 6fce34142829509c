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
    POSTURE_DIRECTIONS,
    Decision,
    PostureComponent,
    PostureDirection,
    ToxinProduct,
    TreatDecision,
)
from bontrack.diaries.models import (
    ConsultationNote,
    EligibilityAssessment,
    PostureAssessment,
    PostureFinding,
    PriorToxinTreatment,
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
    "decision",
    "decision_reasons",
]
NOTE_MAX = 5000
DEFAULT_INDICATION = "chronic_migraine"


def _indication(indication: str) -> str:
    if indication not in facts.consultation_indications():
        raise ValidationError({"indication": ["Choose one of the program's indications."]})
    return indication


def primary_indication(patient: Patient) -> str:
    """The indication of the patient's first active condition in protocol order (chronic
    migraine when none is on file): where the portal's pre-visit answers go."""
    from bontrack.patients.models import Condition

    active = set(
        Condition.objects.filter(patient=patient, active=True).values_list("indication", flat=True)
    )
    return next((c for c in facts.consultation_indications() if c in active), DEFAULT_INDICATION)


def open_consultation(
    patient: Patient, indication: str = DEFAULT_INDICATION
) -> ConsultationNote | None:
    """The draft note of one indication (at most one: a partial unique constraint)."""
    return ConsultationNote.objects.filter(
        patient=patient, indication=indication, signed_at__isnull=True
    ).first()


def _locked_draft(patient: Patient, indication: str) -> tuple[ConsultationNote, bool]:
    note = (
        ConsultationNote.objects.select_for_update()
        .filter(patient=patient, indication=indication, signed_at__isnull=True)
        .first()
    )
    if note is None:
        return ConsultationNote(patient=patient, indication=indication), True
    return note, False


def _check_texts(fields: dict[str, Any]) -> None:
    errors = {
        k: [f"At most {NOTE_MAX} characters."]
        for k, v in fields.items()
        if isinstance(v, str) and (len(v) > NOTE_MAX or "\x00" in v)
    }
    if errors:
        raise ValidationError(errors)


@transaction.atomic(durable=True)
def save_pre_visit(
    *, actor: User, patient: Patient, indication: str = DEFAULT_INDICATION, **fields: str
) -> ConsultationNote:
    """The patient's own history, symptoms, previous treatments and goals (in their own words)
    before the visit, for one indication."""
    if not _is_patient_self(actor, patient):
        raise PermissionDenied("Only the patient fills the pre-visit questions.")
    _indication(indication)
    unknown = set(fields) - set(PATIENT_NOTE_FIELDS)
    if unknown:
        raise ValidationError({k: ["Unknown field."] for k in unknown})
    fields = {k: (v or "").strip() for k, v in fields.items()}
    _check_texts(fields)
    note, created = _locked_draft(patient, indication)
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


def _check_decision(fields: dict[str, Any]) -> None:
    decision = fields.get("decision")
    if decision and decision not in TreatDecision.values:
        raise ValidationError({"decision": ["Choose treat, do not treat or defer."]})
    if decision and not (fields.get("decision_reasons") or "").strip():
        raise ValidationError({"decision_reasons": ["Give the reasons for the decision."]})


@transaction.atomic(durable=True)
def save_consultation(
    *,
    actor: User,
    patient: Patient,
    sign: bool = False,
    indication: str = DEFAULT_INDICATION,
    **fields: Any,
) -> ConsultationNote:
    """The physician's note for one indication; pre-visit answers stay beside it. The decision
    to treat carries its reasons. Signing makes it final."""
    _require(actor, Perm.CONSULTATION_EDIT, patient.clinic_id)
    _indication(indication)
    unknown = set(fields) - set(STAFF_NOTE_FIELDS)
    if unknown:
        raise ValidationError({k: ["Unknown field."] for k in unknown})
    fields = {k: (v.strip() if isinstance(v, str) else v) for k, v in fields.items()}
    if "decision" in fields and fields["decision"] is None:
        fields["decision"] = ""
    _check_texts(fields)
    _check_decision(fields)
    visit = fields.get("visit_date")
    if visit is not None and visit > actors.local_today() + timedelta(days=366):
        raise ValidationError({"visit_date": ["The visit date is too far ahead."]})
    note, created = _locked_draft(patient, indication)
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
        summary=(
            f"Consultation note ({facts.indication_label(indication)}) "
            + ("signed" if sign else "saved")
        ),
    )
    return note


# ---- prior toxin treatments (each in its own product's units, never converted) ---------------

PRIOR_TOXIN_FIELDS = ["product", "units", "last_given_on", "muscles", "response"]


@transaction.atomic(durable=True)
def add_prior_toxin(
    *,
    actor: User,
    patient: Patient,
    indication: str,
    product: str,
    units: Any,
    last_given_on: date | None = None,
    muscles: str = "",
    response: str = "",
) -> PriorToxinTreatment:
    """A botulinum toxin the patient had before, on the indication's draft consultation. Its
    units are that product's units: they are stored and shown as such, never converted."""
    _require(actor, Perm.CONSULTATION_EDIT, patient.clinic_id)
    _indication(indication)
    errors: dict[str, list[str]] = {}
    if product not in ToxinProduct.values:
        errors["product"] = ["Choose the product."]
    if units is None or units <= 0 or units >= 100000:
        errors["units"] = ["Give the units given (a positive number, in that product's units)."]
    if last_given_on is not None and last_given_on > actors.local_today():
        errors["last_given_on"] = ["The date is in the future."]
    muscles, response = (muscles or "").strip(), (response or "").strip()
    if len(muscles) > 300:
        errors["muscles"] = ["At most 300 characters."]
    if len(response) > 500:
        errors["response"] = ["At most 500 characters."]
    if errors:
        raise ValidationError(errors)
    note, created = _locked_draft(patient, indication)
    if created:
        note.author = actor
        note.save()
    row = PriorToxinTreatment.objects.create(
        consultation=note,
        product=product,
        units=units,
        last_given_on=last_given_on,
        muscles=muscles,
        response=response,
        recorded_by=actor,
    )
    audit.record(
        actor=actor,
        action="create",
        obj=row,
        clinic_id=patient.clinic_id,
        practice_id=patient.practice_id,
        changes={
            "product": [None, product],
            "units": [None, str(units)],
            "last_given_on": [None, last_given_on.isoformat() if last_given_on else None],
        },
        summary=f"Prior toxin treatment recorded ({row.get_product_display()}, its own units)",
    )
    return row


@transaction.atomic(durable=True)
def remove_prior_toxin(*, actor: User, patient: Patient, row_id: int) -> None:
    _require(actor, Perm.CONSULTATION_EDIT, patient.clinic_id)
    row = (
        PriorToxinTreatment.objects.select_for_update()
        .filter(pk=row_id, consultation__patient=patient, consultation__signed_at__isnull=True)
        .first()
    )
    if row is None:
        raise ValidationError({"row": ["This entry is not on a draft consultation."]})
    audit.record(
        actor=actor,
        action="delete",
        obj=row,
        clinic_id=patient.clinic_id,
        practice_id=patient.practice_id,
        changes={"product": [row.product, None], "units": [str(row.units), None]},
        summary="Prior toxin treatment removed from the consultation",
    )
    row.delete()


# ---- cervical dystonia posture, at each visit ----------------------------------------------


@transaction.atomic(durable=True)
def record_posture(
    *,
    actor: User,
    patient: Patient,
    visit_date: date,
    findings: list[tuple[str, str]],
    note: str = "",
) -> PostureAssessment:
    """The head and neck posture seen at a visit: each component with its direction (rotation
    to the left, head forward, ...). Linked to the cervical dystonia draft consultation when one
    is open."""
    _require(actor, Perm.PATIENT_CLINICAL_EDIT, patient.clinic_id)
    errors: dict[str, list[str]] = {}
    if visit_date > actors.local_today():
        errors["visit_date"] = ["The visit date is in the future."]
    pairs = list(dict.fromkeys(findings))
    if not pairs:
        errors["findings"] = ["Choose at least one posture component and its direction."]
    for component, direction in pairs:
        if component not in PostureComponent.values or direction not in PostureDirection.values:
            errors["findings"] = ["Choose components and directions from the lists."]
            break
        if direction not in POSTURE_DIRECTIONS[component]:
            label = PostureComponent(component).label
            errors["findings"] = [
                f"{label} cannot go {PostureDirection(direction).label.removeprefix('to the ')}."
            ]
            break
    note = (note or "").strip()
    if len(note) > 500:
        errors["note"] = ["At most 500 characters."]
    if errors:
        raise ValidationError(errors)
    consultation = open_consultation(patient, "cervical_dystonia")
    assessment = PostureAssessment.objects.create(
        patient=patient,
        consultation=consultation,
        visit_date=visit_date,
        note=note,
        recorded_by=actor,
    )
    PostureFinding.objects.bulk_create(
        PostureFinding(assessment=assessment, component=c, direction=d) for c, d in pairs
    )
    audit.record(
        actor=actor,
        action="create",
        obj=assessment,
        clinic_id=patient.clinic_id,
        practice_id=patient.practice_id,
        changes={
            "visit_date": [None, visit_date.isoformat()],
            "findings": [None, [f"{c}:{d}" for c, d in pairs]],
        },
        summary="Cervical dystonia posture recorded",
    )
    return assessment


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
