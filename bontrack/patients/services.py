"""Every change to patient data: one durable transaction, its audit row inside it."""

from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import UniqueConstraint
from django.dispatch import Signal
from django.utils import timezone

from bontrack.accounts.access import require_clinic_perm as _require
from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.core.errors import Conflict
from bontrack.core.models import Clinic
from bontrack.patients.choices import MergeStatus, PatientStatus
from bontrack.patients.facts import codes_for
from bontrack.patients.models import (
    Condition,
    MrnFormat,
    Patient,
    PatientFlag,
    PatientMerge,
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
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "insurance_payer",
    "insurance_member_id",
    "insurance_group",
    "subscriber_name",
    "subscriber_relationship",
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
    if data.get("status") == PatientStatus.MERGED:
        errors.setdefault("status", []).append(
            "A chart is marked merged only by merging it into another chart."
        )
    for field in ("first_name", "last_name"):
        if field in data and not str(data[field]).strip():
            errors.setdefault(field, []).append("This field is required.")
    if errors:
        raise ValidationError(errors)


def _new_mrn() -> str:
    return f"M{secrets.randbelow(10**8):08d}"


def _practice_mrn(practice_id: int, typed: str) -> str:
    """The MRN for a new chart: the typed one (checked against the practice's format) or, when
    blank, the next number of the practice's sequence (the format row is locked meanwhile)."""
    fmt = MrnFormat.objects.select_for_update().filter(practice_id=practice_id).first()
    if fmt is None:
        return typed or _new_mrn()
    if typed:
        if not fmt.matches(typed):
            raise ValidationError(
                {
                    "mrn": [
                        f"This practice's record numbers look like {fmt.example} "
                        f"({fmt.prefix or 'no prefix'} and {fmt.digits} digits); "
                        "leave it empty to assign the next one."
                    ]
                }
            )
        return typed
    number = fmt.next_number
    while Patient.objects.filter(practice_id=practice_id, mrn=fmt.format(number)).exists():
        number += 1  # a number typed by hand earlier: skip it (rare)
    fmt.next_number = number + 1
    fmt.save(update_fields=["next_number"])
    return fmt.format(number)


def next_mrn_example(practice_id: int) -> str:
    fmt = MrnFormat.objects.filter(practice_id=practice_id).first()
    return fmt.example if fmt else ""


@transaction.atomic(durable=True)
def set_mrn_format(*, actor: User, practice_id: int, prefix: str, digits: int) -> MrnFormat:
    """The practice's MRN format (clinic administrators of the whole practice)."""
    scope = actor.scope(Perm.PROGRAM_POLICY_EDIT)
    if scope is None or not scope.all_clinics or scope.practice_id != practice_id:
        raise PermissionDenied("Only a practice administrator sets the record number format.")
    prefix = prefix.strip().upper()
    errors: dict[str, list[str]] = {}
    if len(prefix) > 6 or not all(c.isascii() and c.isalnum() for c in prefix):
        errors["prefix"] = ["Use up to six letters or digits (A-Z, 0-9)."]
    if not 4 <= digits <= 10:
        errors["digits"] = ["Use between 4 and 10 digits."]
    if errors:
        raise ValidationError(errors)
    fmt, created = MrnFormat.objects.select_for_update().get_or_create(
        practice_id=practice_id, defaults={"prefix": prefix, "digits": digits}
    )
    before = {"prefix": "" if created else fmt.prefix, "digits": None if created else fmt.digits}
    fmt.prefix, fmt.digits = prefix, digits
    fmt.save()
    audit.record(
        actor=actor,
        action="create" if created else "update",
        obj=fmt,
        practice_id=practice_id,
        changes={"prefix": [before["prefix"], prefix], "digits": [before["digits"], digits]},
        summary=f"Record number format {fmt.example}",
    )
    return fmt


@transaction.atomic(durable=True)
def register_patient(*, actor: User, clinic: Clinic, **fields: Any) -> Patient:
    _require(actor, Perm.PATIENT_CREATE, clinic.pk)
    validate_demographics(fields, today=timezone.localdate())
    mrn = _practice_mrn(clinic.practice_id, (fields.pop("mrn", "") or "").strip())
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


# ---------------------------------------------------------------------------------------------
# One patient, one chart: merging a duplicate chart (pending, undoable, then confirmed).

# Fired after a merge is started or undone (survivor, duplicate): apps above patients keep their
# derived data in step (the outcomes rollup marks both charts for a refresh).
charts_merged = Signal()

# Relations that never move: the audit trail is append-only (the surviving chart's access log
# reads the merged chart's rows through the merge), and the merge rows themselves.
NEVER_MOVED = {"audit.auditevent", "patients.patientmerge"}
# Derived rows an app above rebuilds for both charts when `charts_merged` fires (the outcomes
# rollup): never moved, so a one-to-one row on both charts does not hold the confirmation up.
# Filled by the owning app's AppConfig.ready() through `rebuilt_after_merge`.
REBUILT_AFTER_MERGE: set[str] = set()


def rebuilt_after_merge(*labels: str) -> None:
    """Name models (``app.model``) whose rows about a patient are derived and rebuilt by a
    `charts_merged` receiver: a merge leaves them where they are."""
    REBUILT_AFTER_MERGE.update(label.lower() for label in labels)


def patient_relations() -> list[Any]:
    """Every foreign key and one-to-one field that points at Patient, found through Django's meta
    API (hidden reverse relations included), so a new model is merged without a code change."""
    rels = []
    for rel in Patient._meta.get_fields(include_hidden=True):
        if not (rel.is_relation and rel.auto_created and not rel.concrete):
            continue
        if rel.related_model is None:
            continue
        if rel.related_model._meta.label_lower in NEVER_MOVED | REBUILT_AFTER_MERGE:
            continue
        rels.append(rel)
    return sorted(rels, key=lambda r: (r.related_model._meta.label_lower, r.field.name))


def _key(rel: Any) -> str:
    return f"{rel.related_model._meta.label_lower}.{rel.field.name}"


def _move(model: Any, field: str, ids: list[Any], target_id: int) -> tuple[list[Any], list[Any]]:
    """Point rows at `target_id`: all at once, else row by row (a row that would break a rule,
    e.g. the same active condition twice or two overlapping appointments, stays). A signed
    session moves only between the two charts of a pending merge (its database guard checks)."""
    if not ids:
        return [], []
    try:
        with transaction.atomic():
            model._base_manager.filter(pk__in=ids).update(**{field: target_id})
        return ids, []
    except DatabaseError:
        pass
    moved, stayed = [], []
    for pk in ids:
        try:
            with transaction.atomic():
                model._base_manager.filter(pk=pk).update(**{field: target_id})
            moved.append(pk)
        except DatabaseError:
            stayed.append(pk)
    return moved, stayed


# Key suffix in PatientMerge.stayed for rows that stayed because the surviving chart already holds
# the same one (the same active condition or flag): nothing is lost, so they do not block confirming.
SAME = "#same"


def _same_on_survivor(model: Any, field: str, ids: list[Any], keep_id: int) -> list[Any]:
    """Of the rows that could not move, those the surviving chart already has: a unique constraint
    over the patient and other fields (e.g. one active condition per indication and code) finds
    the same values on the survivor. One query per constraint and row; only rows that stayed."""
    same = []
    constraints = [
        c
        for c in model._meta.constraints
        if isinstance(c, UniqueConstraint) and field in c.fields and len(c.fields) > 1
    ]
    for row in model._base_manager.filter(pk__in=ids):
        for c in constraints:
            values = {f: getattr(row, model._meta.get_field(f).attname) for f in c.fields}
            values[field + "_id"] = keep_id
            values.pop(field, None)
            matches = model._base_manager.filter(**values)
            if c.condition is not None:
                if not model._base_manager.filter(c.condition, pk=row.pk).exists():
                    continue
                matches = matches.filter(c.condition)
            if matches.exists():
                same.append(row.pk)
                break
    return same


def blocking(stayed: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """The rows that stayed and keep a merge from being confirmed."""
    return {k: v for k, v in stayed.items() if not k.endswith(SAME)}


def _require_merge(actor: User, *charts: Patient) -> None:
    for chart in charts:
        _require(actor, Perm.PATIENT_MERGE, chart.clinic_id)


@transaction.atomic(durable=True)
def start_merge(*, actor: User, survivor: Patient, duplicate: Patient) -> PatientMerge:
    """Move everything of `duplicate` to `survivor`; the duplicate chart is marked merged. The
    merge stays pending (undo puts every moved row back) until someone confirms it."""
    pair = {
        p.pk: p
        for p in Patient.objects.select_for_update().filter(pk__in=[survivor.pk, duplicate.pk])
    }
    if survivor.pk == duplicate.pk or len(pair) != 2:
        raise ValidationError({"duplicate": ["Choose two different charts."]})
    keep, dup = pair[survivor.pk], pair[duplicate.pk]
    _require_merge(actor, keep, dup)
    if keep.practice_id != dup.practice_id:
        raise ValidationError({"duplicate": ["Choose a chart of the same practice."]})
    if dup.status == PatientStatus.MERGED or keep.status == PatientStatus.MERGED:
        raise Conflict("One of these charts is already merged into another.", field="duplicate")
    if PatientMerge.objects.filter(status=MergeStatus.PENDING, survivor_id__in=[dup.pk]).exists():
        raise Conflict(
            "Another chart is being merged into this one: confirm or undo that merge first.",
            field="duplicate",
        )
    # The pending merge row exists before any row moves: the signed-session guard lets a signed
    # session change its patient only between the two charts of a pending merge.
    merge = PatientMerge.objects.create(
        practice_id=keep.practice_id,
        survivor=keep,
        duplicate=dup,
        duplicate_status=dup.status,
        requested_by=actor,
        requested_at=timezone.now(),
    )
    moved: dict[str, list[Any]] = {}
    stayed: dict[str, list[Any]] = {}
    for rel in patient_relations():
        model, field = rel.related_model, rel.field.name
        ids = list(model._base_manager.filter(**{field: dup.pk}).values_list("pk", flat=True))
        if not ids:
            continue
        if rel.one_to_one and model._base_manager.filter(**{field: keep.pk}).exists():
            stayed[_key(rel)] = ids  # e.g. both charts have a portal account: keep the survivor's
            continue
        done, kept = _move(model, field + "_id", ids, keep.pk)
        if done:
            moved[_key(rel)] = done
        if kept:
            same = _same_on_survivor(model, field, kept, keep.pk)
            if same:
                stayed[_key(rel) + SAME] = same
            if rest := [pk for pk in kept if pk not in same]:
                stayed[_key(rel)] = rest
    merge.moved, merge.stayed = moved, stayed
    merge.save(update_fields=["moved", "stayed"])
    dup.status = PatientStatus.MERGED
    dup.save(update_fields=["status", "updated_at"])
    counts = {k: len(v) for k, v in moved.items()}
    for chart, text in (
        (keep, f"Merge started: chart {dup.mrn} moved into this chart"),
        (dup, f"Merge started: this chart moved into chart {keep.mrn}"),
    ):
        audit.record(
            actor=actor,
            action="update",
            obj=chart,
            changes={"merge": [None, merge.pk], "moved": [None, counts], "stayed": [None, stayed]},
            summary=text,
        )
    charts_merged.send(sender=PatientMerge, survivor_id=keep.pk, duplicate_id=dup.pk)
    return merge


def _locked_merge(merge: PatientMerge) -> PatientMerge:
    locked = (
        PatientMerge.objects.select_for_update()
        .select_related("survivor", "duplicate")
        .get(pk=merge.pk)
    )
    if locked.status != MergeStatus.PENDING:
        raise Conflict(f"This merge is already {locked.get_status_display().lower()}.")
    return locked


@transaction.atomic(durable=True)
def undo_merge(*, actor: User, merge: PatientMerge) -> PatientMerge:
    """Put every moved row back on the duplicate chart and restore its status."""
    locked = _locked_merge(merge)
    _require_merge(actor, locked.survivor, locked.duplicate)
    rels = {_key(rel): rel for rel in patient_relations()}
    failed: list[str] = []
    for key, ids in locked.moved.items():
        rel = rels.get(key)
        if rel is None:
            continue
        done, kept = _move(rel.related_model, rel.field.name + "_id", ids, locked.duplicate_id)
        if kept:
            failed.append(f"{len(kept)} {rel.related_model._meta.verbose_name_plural}")
    if failed:
        raise Conflict(
            "This merge cannot be undone any more: "
            + ", ".join(failed)
            + " changed since. Nothing was changed.",
        )
    dup = locked.duplicate
    dup.status = locked.duplicate_status
    dup.save(update_fields=["status", "updated_at"])
    locked.status = MergeStatus.UNDONE
    locked.decided_by, locked.decided_at = actor, timezone.now()
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    for chart in (locked.survivor, dup):
        audit.record(
            actor=actor,
            action="update",
            obj=chart,
            changes={"merge": [locked.pk, None]},
            summary=f"Merge undone: charts {locked.survivor.mrn} and {dup.mrn} are separate again",
        )
    charts_merged.send(sender=PatientMerge, survivor_id=locked.survivor_id, duplicate_id=dup.pk)
    return locked


@transaction.atomic(durable=True)
def confirm_merge(*, actor: User, merge: PatientMerge) -> PatientMerge:
    """The merge is final: the duplicate chart stays as a pointer (status merged, no rows)."""
    locked = _locked_merge(merge)
    _require_merge(actor, locked.survivor, locked.duplicate)
    if blocked := blocking(locked.stayed):
        labels = {
            _key(rel): str(rel.related_model._meta.verbose_name_plural)
            for rel in patient_relations()
        }
        kinds = ", ".join(sorted({labels.get(k, "other records") for k in blocked}))
        raise Conflict(
            f"Some records could not move ({kinds}): undo the merge, have them resolved on either "
            "chart, then merge again.",
        )
    locked.status = MergeStatus.CONFIRMED
    locked.decided_by, locked.decided_at = actor, timezone.now()
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    for chart in (locked.survivor, locked.duplicate):
        audit.record(
            actor=actor,
            action="update",
            obj=chart,
            changes={"merge_confirmed": [None, locked.pk]},
            summary=f"Merge confirmed: chart {locked.duplicate.mrn} is now part of "
            f"chart {locked.survivor.mrn}",
        )
    return locked


def merged_chart_ids(patient_id: int) -> list[int]:
    """The chart and the charts merged into it (pending or confirmed): its access log reads
    their audit rows too, since the audit trail is append-only and never moves."""
    return [patient_id] + list(
        PatientMerge.objects.filter(
            survivor_id=patient_id, status__in=[MergeStatus.PENDING, MergeStatus.CONFIRMED]
        ).values_list("duplicate_id", flat=True)
    )
