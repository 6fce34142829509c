"""Every change to patient data: one durable transaction, its audit row inside it."""

from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from bontrack.accounts.access import require_clinic_perm as _require
from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.core.errors import Conflict
from bontrack.core.models import Clinic
from bontrack.patients.facts import codes_for
from bontrack.patients.models import (
    Condition,
    Patient,
    PatientFlag,
    PriorTreatment,
    WeightMeasurement,
)

DEMOGRAPHIC_FIELDS = [
    "clinic_id",
    "mrn",
    "first_name",
    "last_name",
    "preferred_name",
    "date_of_birth",
    "sex",
    "phone",
    "email",
    "preferred_contact",
    "preferred_language",
    "status",
]


def _save_child(
    *, actor: User, patient: Patient, row: Any, changes: audit.Changes, summary: str
) -> Any:
    """Validate and insert a row of the patient's chart, with its audit event."""
    row.full_clean()
    row.save()
    audit.record(
        actor=actor,
        action="create",
        obj=row,
        clinic_id=patient.clinic_id,
        practice_id=patient.practice_id,
        changes=changes,
        summary=summary,
    )
    return row


def validate_demographics(data: dict[str, Any], *, today: date) -> None:
    errors: dict[str, list[str]] = {}
    dob = data.get("date_of_birth")
    if isinstance(dob, date):
        if dob > today:
            errors.setdefault("date_of_birth", []).append("Date of birth cannot be in the future.")
        elif dob.year < 1900:
            errors.setdefault("date_of_birth", []).append("Date of birth must be 1900 or later.")
    for field in ("first_name", "last_name"):
        if field in data and not str(data[field]).strip():
            errors.setdefault(field, []).append("This field is required.")
    if errors:
        raise ValidationError(errors)


def _new_mrn() -> str:
    return f"M{secrets.randbelow(10**8):08d}"


@transaction.atomic(durable=True)
def register_patient(*, actor: User, clinic: Clinic, **fields: Any) -> Patient:
    _require(actor, Perm.PATIENT_CREATE, clinic.pk)
    validate_demographics(fields, today=timezone.localdate())
    mrn = (fields.pop("mrn", "") or "").strip() or _new_mrn()
    if Patient.objects.filter(practice_id=clinic.practice_id, mrn__iexact=mrn).exists():
        raise Conflict(f"MRN {mrn} is already used in this practice.", field="mrn")
    patient = Patient(practice_id=clinic.practice_id, clinic=clinic, mrn=mrn, **fields)
    patient.full_clean()
    try:
        with transaction.atomic():
            patient.save()
    except IntegrityError as exc:  # a concurrent registration took the MRN
        raise Conflict(f"MRN {mrn} is already used in this practice.", field="mrn") from exc
    audit.record(
        actor=actor,
        action="create",
        obj=patient,
        changes={k: [None, v] for k, v in audit.snapshot(patient, DEMOGRAPHIC_FIELDS).items()},
        summary=f"Registered {patient.full_name}",
    )
    return patient


@transaction.atomic(durable=True)
def update_patient(*, actor: User, patient: Patient, **fields: Any) -> Patient:
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    _require(actor, Perm.PATIENT_EDIT, locked.clinic_id)
    if "clinic" in fields:
        new_clinic: Clinic = fields.pop("clinic")
        if new_clinic.practice_id != locked.practice_id:
            raise ValidationError({"clinic": ["Choose a clinic of this practice."]})
        _require(actor, Perm.PATIENT_EDIT, new_clinic.pk)
        fields["clinic_id"] = new_clinic.pk
    validate_demographics(fields, today=timezone.localdate())
    before = audit.snapshot(locked, DEMOGRAPHIC_FIELDS)
    for key, value in fields.items():
        setattr(locked, key, value)
    if "mrn" in fields:
        locked.mrn = locked.mrn.strip()
        clash = Patient.objects.filter(
            practice_id=locked.practice_id, mrn__iexact=locked.mrn
        ).exclude(pk=locked.pk)
        if clash.exists():
            raise Conflict(f"MRN {locked.mrn} is already used in this practice.", field="mrn")
    locked.full_clean()
    changes = audit.diff(before, audit.snapshot(locked, DEMOGRAPHIC_FIELDS))
    if changes:
        locked.save()
        audit.record(
            actor=actor,
            action="update",
            obj=locked,
            changes=changes,
            summary="Updated " + ", ".join(sorted(changes)),
        )
    return locked


def record_chart_view(*, actor: User, patient: Patient, what: str = "chart") -> None:
    """A read of a patient's record leaves an audit row (its own small transaction, opened by
    audit.record: see chain.append's `reads_only`)."""
    audit.record(actor=actor, action="view", obj=patient, summary=f"Viewed {what}")


def record_search(*, actor: User, practice_id: int, rows: int, query: str = "") -> None:
    """A patient list or search shows names and dates of birth: one audit row per request."""
    audit.record(
        actor=actor,
        action="search",
        object_type="patients.patient",
        practice_id=practice_id,
        summary=f"Patient search {query[:100]!r} ({rows} rows)"
        if query
        else f"Patient list ({rows} rows)",
    )


@transaction.atomic(durable=True)
def add_weight(
    *, actor: User, patient: Patient, measured_on: date, weight_kg: Decimal
) -> WeightMeasurement:
    _require(actor, Perm.PATIENT_CLINICAL_EDIT, patient.clinic_id)
    if measured_on > timezone.localdate():
        raise ValidationError({"measured_on": ["A measurement cannot be in the future."]})
    if measured_on < patient.date_of_birth:
        raise ValidationError({"measured_on": ["A measurement cannot predate the date of birth."]})
    row = WeightMeasurement(
        patient=patient, measured_on=measured_on, weight_kg=weight_kg, recorded_by=actor
    )
    return _save_child(
        actor=actor,
        patient=patient,
        row=row,
        changes={"weight_kg": [None, weight_kg], "measured_on": [None, measured_on]},
        summary=f"Weight {weight_kg} kg on {measured_on}",
    )


@transaction.atomic(durable=True)
def add_condition(
    *,
    actor: User,
    patient: Patient,
    indication: str,
    icd10_code: str,
    diagnosed_on: date | None = None,
    note: str = "",
) -> Condition:
    _require(actor, Perm.PATIENT_CLINICAL_EDIT, patient.clinic_id)
    icd10_code = icd10_code.strip().upper()
    if icd10_code not in codes_for(indication):
        raise ValidationError(
            {"icd10_code": [f"{icd10_code or 'This code'} is not a code for this indication."]}
        )
    if Condition.objects.filter(
        patient=patient, indication=indication, icd10_code=icd10_code, active=True
    ).exists():
        raise Conflict("This condition is already on the chart.", field="icd10_code")
    row = Condition(
        patient=patient,
        indication=indication,
        icd10_code=icd10_code,
        diagnosed_on=diagnosed_on,
        note=note,
        recorded_by=actor,
    )
    return _save_child(
        actor=actor,
        patient=patient,
        row=row,
        changes={"indication": [None, indication], "icd10_code": [None, icd10_code]},
        summary=f"Condition {icd10_code}",
    )


@transaction.atomic(durable=True)
def add_flag(
    *, actor: User, patient: Patient, flag: str, noted_on: date, note: str = ""
) -> PatientFlag:
    _require(actor, Perm.PATIENT_CLINICAL_EDIT, patient.clinic_id)
    if noted_on > timezone.localdate():
        raise ValidationError({"noted_on": ["The date cannot be in the future."]})
    if PatientFlag.objects.filter(patient=patient, flag=flag, active=True).exists():
        raise Conflict("This flag is already active on the chart.", field="flag")
    row = PatientFlag(patient=patient, flag=flag, noted_on=noted_on, note=note, recorded_by=actor)
    return _save_child(
        actor=actor,
        patient=patient,
        row=row,
        changes={"flag": [None, flag]},
        summary=f"Flag {flag}",
    )


@transaction.atomic(durable=True)
def resolve_flag(*, actor: User, flag: PatientFlag, resolved_on: date) -> PatientFlag:
    locked = PatientFlag.objects.select_for_update().select_related("patient").get(pk=flag.pk)
    _require(actor, Perm.PATIENT_CLINICAL_EDIT, locked.patient.clinic_id)
    if not locked.active:
        raise Conflict("This flag is already resolved.")
    if resolved_on < locked.noted_on:
        raise ValidationError({"resolved_on": ["The flag cannot be resolved before it was noted."]})
    locked.active = False
    locked.resolved_on = resolved_on
    locked.save(update_fields=["active", "resolved_on"])
    audit.record(
        actor=actor,
        action="update",
        obj=locked,
        clinic_id=locked.patient.clinic_id,
        practice_id=locked.patient.practice_id,
        changes={"active": [True, False], "resolved_on": [None, resolved_on]},
        summary=f"Resolved flag {locked.flag}",
    )
    return locked


@transaction.atomic(durable=True)
def add_prior_treatment(
    *,
    actor: User,
    patient: Patient,
    drug: str,
    drug_class: str,
    outcome: str,
    started_on: date | None = None,
    stopped_on: date | None = None,
    note: str = "",
) -> PriorTreatment:
    _require(actor, Perm.PATIENT_CLINICAL_EDIT, patient.clinic_id)
    if started_on and stopped_on and stopped_on < started_on:
        raise ValidationError({"stopped_on": ["The stop date must be on or after the start date."]})
    row = PriorTreatment(
        patient=patient,
        drug=drug.strip(),
        drug_class=drug_class,
        outcome=outcome,
        started_on=started_on,
        stopped_on=stopped_on,
        note=note,
        recorded_by=actor,
    )
    return _save_child(
        actor=actor,
        patient=patient,
        row=row,
        changes={
            "drug": [None, row.drug],
            "drug_class": [None, drug_class],
            "outcome": [None, outcome],
        },
        summary=f"Prior treatment {row.drug}",
    )
