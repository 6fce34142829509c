"""Every change to diaries, questionnaires, consultation notes and eligibility decisions.

One durable transaction per use case with its audit rows inside. The actor is a staff member
(checked against the patient's clinic) or the patient themself through the portal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from bontrack.accounts.access import require_clinic_perm as _require
from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.core.models import Practice, ProgramPolicy
from bontrack.core.policy import facts as policy_knobs
from bontrack.diaries import facts
from bontrack.diaries.choices import (
    MEDICINES,
    AcuteClass,
    AssignedFor,
    Decision,
    DiarySource,
    Instrument,
    medicine_class,
    medicine_key,
)
from bontrack.diaries.models import (
    FEATURES,
    ConsultationNote,
    DiaryDay,
    DiaryDayRevision,
    DiaryMedication,
    EligibilityAssessment,
    QuestionnaireResponse,
)
from bontrack.patients.models import Condition, Patient
from bontrack.patients.services import Conflict
from clinic_rules import contract

# Product rule of the portal diary (not a clinical number): a patient may fill a missed day
# up to this many days back; older gaps stay missing.
BACKFILL_DAYS = 30
MAX_MEDICATIONS = 20
MAX_DOSES = 50
TRIPTAN_ERGOT = {AcuteClass.TRIPTAN.value, AcuteClass.ERGOT.value}


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


@dataclass
class DayInput:
    """A diary day as entered, before validation."""

    date: date
    headache: bool
    hours: Decimal | None = None
    severity: int = 0
    unilateral: bool = False
    pulsating: bool = False
    worse_with_activity: bool = False
    nausea: bool = False
    vomiting: bool = False
    photophobia: bool = False
    phonophobia: bool = False
    aura: bool = False
    aura_minutes: int | None = None
    triptan_or_ergot_relief: bool = False
    note: str = ""
    medications: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> DayInput:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def normalise_medications(
    raw: list[dict[str, Any]], errors: dict[str, list[str]], prefix: str = "medications"
) -> list[tuple[str, str, int]]:
    """[(name, drug_class, doses)] from picklist keys, known names or a name with its class."""
    out: list[tuple[str, str, int]] = []
    if len(raw) > MAX_MEDICATIONS:
        errors.setdefault(prefix, []).append(f"At most {MAX_MEDICATIONS} medicines a day.")
        return out
    for i, item in enumerate(raw):
        name = str(item.get("name", "")).strip()
        cls = item.get("drug_class") or item.get("class")
        doses = item.get("doses", 1)
        key = medicine_key(name)
        if not name:
            errors.setdefault(f"{prefix}.{i}.name", []).append("Name the medicine.")
            continue
        if cls is None:
            if key is None:
                errors.setdefault(f"{prefix}.{i}.name", []).append(
                    f"{name[:40]} is not on the medicine list: give its class."
                )
                continue
            cls = medicine_class(name)
        if cls not in AcuteClass.values:
            errors.setdefault(f"{prefix}.{i}.drug_class", []).append("Unknown medicine class.")
            continue
        if not isinstance(doses, int) or isinstance(doses, bool) or not 1 <= doses <= MAX_DOSES:
            errors.setdefault(f"{prefix}.{i}.doses", []).append(
                f"Doses must be a whole number from 1 to {MAX_DOSES}."
            )
            continue
        label = MEDICINES[key][0] if key else name[:100]
        out.append((label, str(cls), doses))
    return out


def validate_day(
    data: DayInput, *, today: date, earliest: date | None
) -> tuple[dict[str, Any], list[tuple[str, str, int]]]:
    """Field values and medications of a valid day, or a ValidationError with field messages."""
    errors: dict[str, list[str]] = {}
    if data.date > today:
        errors.setdefault("date", []).append("A diary day cannot be in the future.")
    elif earliest is not None and data.date < earliest:
        errors.setdefault("date", []).append(
            f"Days more than {BACKFILL_DAYS} days ago can no longer be filled in; "
            "they stay missing."
        )
    hours: Decimal | None = None
    if data.hours is not None and data.hours != "":
        try:
            hours = Decimal(str(data.hours)).quantize(Decimal("0.1"))
        except (InvalidOperation, ValueError):
            errors.setdefault("hours", []).append("Enter the hours as a number.")
        else:
            if not Decimal(0) <= hours <= Decimal(24):
                errors.setdefault("hours", []).append("Hours must be between 0 and 24.")
    severity = data.severity
    if not isinstance(severity, int) or isinstance(severity, bool) or not 0 <= severity <= 3:
        errors.setdefault("severity", []).append("Severity is 0 (none) to 3 (severe).")
        severity = 0
    features = {f: bool(getattr(data, f)) for f in FEATURES}
    if data.headache:
        if not severity:
            errors.setdefault("severity", []).append(
                "Choose how bad the worst headache was (mild, moderate or severe)."
            )
    else:
        if hours:
            errors.setdefault("hours", []).append("A headache-free day has no headache hours.")
        if severity:
            errors.setdefault("severity", []).append("A headache-free day has no severity.")
        for f, on in features.items():
            if on:
                errors.setdefault(f, []).append("Only for a day with headache.")
        hours = None
    aura_minutes = data.aura_minutes
    if aura_minutes is not None:
        if not features["aura"]:
            errors.setdefault("aura_minutes", []).append("Aura minutes given without aura.")
        elif not isinstance(aura_minutes, int) or not 0 <= aura_minutes <= 1440:
            errors.setdefault("aura_minutes", []).append("Aura minutes must be 0 to 1440.")
    meds = normalise_medications(list(data.medications or []), errors)
    relief = bool(data.triptan_or_ergot_relief)
    if relief and not {m[1] for m in meds} & TRIPTAN_ERGOT:
        errors.setdefault("triptan_or_ergot_relief", []).append(
            "Relief by a triptan or ergot needs a triptan or ergot among the medicines."
        )
    note = (data.note or "").strip()
    if len(note) > 500 or "\x00" in note:
        errors.setdefault("note", []).append("The note is at most 500 characters.")
    if errors:
        raise ValidationError(errors)
    values = {
        "headache": bool(data.headache),
        "hours": hours,
        "severity": severity if data.headache else 0,
        **features,
        "aura_minutes": aura_minutes,
        "triptan_or_ergot_relief": relief,
        "note": note,
    }
    return values, meds


DAY_VALUE_FIELDS = [
    "headache",
    "hours",
    "severity",
    *FEATURES,
    "aura_minutes",
    "triptan_or_ergot_relief",
    "note",
]


def _day_snapshot(day: DiaryDay, meds: list[tuple[str, str, int]]) -> dict[str, Any]:
    snap = audit.snapshot(day, DAY_VALUE_FIELDS)
    snap["medications"] = [list(m) for m in meds]
    return snap


def _upsert_day(
    *, actor: User, patient: Patient, data: DayInput, source: str, earliest: date | None
) -> tuple[DiaryDay, str]:
    """Create or change one day inside the caller's transaction. Returns (day, created|updated|unchanged)."""
    values, meds = validate_day(data, today=local_today(), earliest=earliest)
    day = (
        DiaryDay.objects.select_for_update()
        .filter(patient=patient, date=data.date)
        .prefetch_related("medications")
        .first()
    )
    if day is None:
        day = DiaryDay(patient=patient, date=data.date, source=source, entered_by=actor, **values)
        try:
            with transaction.atomic():
                day.save()
        except IntegrityError as exc:  # a concurrent save of the same day
            raise Conflict("This day was saved at the same moment; try again.", "date") from exc
        DiaryMedication.objects.bulk_create(
            [DiaryMedication(day=day, name=n, drug_class=c, doses=d) for n, c, d in meds]
        )
        audit.record(
            actor=actor,
            action="create",
            obj=day,
            clinic_id=patient.clinic_id,
            practice_id=patient.practice_id,
            changes={k: [None, v] for k, v in _day_snapshot(day, meds).items()},
            summary=f"Diary {data.date.isoformat()} ({source})",
        )
        return day, "created"
    old_meds = [(m.name, m.drug_class, m.doses) for m in day.medications.all()]
    before = _day_snapshot(day, old_meds)
    for key, value in values.items():
        setattr(day, key, value)
    after = _day_snapshot(day, meds)
    changes = audit.diff(before, after)
    if not changes:
        return day, "unchanged"
    DiaryDayRevision.objects.create(
        day=day,
        version=day.version,
        data=before,
        source=day.source,
        entered_by_id=day.entered_by_id,
        replaced_by=actor if getattr(actor, "pk", None) else None,
    )
    day.version += 1
    day.source = source
    day.entered_by = actor
    day.save()
    if "medications" in changes:
        day.medications.all().delete()
        DiaryMedication.objects.bulk_create(
            [DiaryMedication(day=day, name=n, drug_class=c, doses=d) for n, c, d in meds]
        )
    audit.record(
        actor=actor,
        action="update",
        obj=day,
        clinic_id=patient.clinic_id,
        practice_id=patient.practice_id,
        changes=changes,
        summary=f"Diary {data.date.isoformat()} edited ({source}, v{day.version})",
    )
    return day, "updated"


def _diary_source(actor: User, patient: Patient, perm: str = Perm.DIARY_EDIT) -> str:
    if _require_patient_or(actor, perm, patient):
        return DiarySource.PATIENT
    return DiarySource.TRANSCRIBED


@transaction.atomic(durable=True)
def save_diary_day(*, actor: User, patient: Patient, data: DayInput) -> tuple[DiaryDay, str]:
    """The patient's own entry (back-fill limited) or a staff transcription of a paper diary."""
    source = _diary_source(actor, patient)
    earliest = local_today() - timedelta(days=BACKFILL_DAYS) if source == "patient" else None
    return _upsert_day(actor=actor, patient=patient, data=data, source=source, earliest=earliest)


@transaction.atomic(durable=True)
def upsert_diary_days(
    *, actor: User, patient: Patient, days: list[DayInput], source: str = DiarySource.TRANSCRIBED
) -> dict[str, int]:
    """Bulk upsert by date (API). All or nothing; the same body twice leaves the same state."""
    own = _require_patient_or(actor, Perm.DIARY_EDIT, patient)
    if own:
        source = DiarySource.PATIENT
    earliest = local_today() - timedelta(days=BACKFILL_DAYS) if own else None
    seen: set[date] = set()
    errors: dict[str, list[str]] = {}
    for i, d in enumerate(days):
        if d.date in seen:
            errors.setdefault(f"days.{i}.date", []).append("This date appears twice.")
        seen.add(d.date)
    if errors:
        raise ValidationError(errors)
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for i, d in enumerate(days):
        try:
            _, outcome = _upsert_day(
                actor=actor, patient=patient, data=d, source=source, earliest=earliest
            )
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors.setdefault(f"days.{i}.{key}", []).extend(messages)
            continue
        counts[outcome] += 1
    if errors:
        raise ValidationError(errors)
    return counts


def day_history(day: DiaryDay) -> list[DiaryDayRevision]:
    return list(day.revisions.select_related("entered_by", "replaced_by").order_by("-version"))


# ---- questionnaires -------------------------------------------------------------------------


def has_active_program(patient: Patient) -> bool:
    return Condition.objects.filter(
        patient=patient, indication="chronic_migraine", active=True
    ).exists()


@transaction.atomic(durable=True)
def assign_baseline(patient: Patient, *, actor: User | None = None) -> list[QuestionnaireResponse]:
    """Assign MIDAS and HIT-6 at the start of the chronic migraine program (idempotent)."""
    if not has_active_program(patient):
        return []
    made = []
    for instrument in Instrument.values:
        if QuestionnaireResponse.objects.filter(
            patient=patient, instrument=instrument, assigned_for=AssignedFor.BASELINE
        ).exists():
            continue
        row = QuestionnaireResponse.objects.create(
            patient=patient,
            instrument=instrument,
            assigned_for=AssignedFor.BASELINE,
            due_date=local_today(),
        )
        audit.record(
            actor=actor,
            action="create",
            obj=row,
            clinic_id=patient.clinic_id,
            practice_id=patient.practice_id,
            changes={"instrument": [None, instrument], "assigned_for": [None, "baseline"]},
            summary=f"Assigned baseline {instrument}",
        )
        made.append(row)
    return made


def assign_pre_treatment(
    patient: Patient, due_date: date, *, actor: User | None = None
) -> list[QuestionnaireResponse]:
    """Assign MIDAS and HIT-6 before a treatment on ``due_date`` (idempotent).

    For the scheduling and treatments apps: call when a treatment appointment or session is
    booked. Runs in its own transaction, or joins the caller's when there is one.
    """
    with transaction.atomic():
        made = []
        for instrument in Instrument.values:
            row, created = QuestionnaireResponse.objects.get_or_create(
                patient=patient,
                instrument=instrument,
                assigned_for=AssignedFor.PRE_TREATMENT,
                due_date=due_date,
            )
            if created:
                audit.record(
                    actor=actor,
                    action="create",
                    obj=row,
                    clinic_id=patient.clinic_id,
                    practice_id=patient.practice_id,
                    changes={
                        "instrument": [None, instrument],
                        "assigned_for": [None, "pre_treatment"],
                        "due_date": [None, due_date],
                    },
                    summary=f"Assigned {instrument} before treatment on {due_date.isoformat()}",
                )
                made.append(row)
        return made


def score_answers(instrument: str, answers: dict[str, Any]) -> dict[str, object]:
    try:
        return contract.run("questionnaire", {"instrument": instrument, "answers": answers})
    except contract.InputError as exc:
        raise ValidationError(
            {
                (k.removeprefix("answers.") or "answers"): v
                for k, v in exc.errors.items()
                if isinstance(v, list)
            }
        ) from exc


@transaction.atomic(durable=True)
def submit_questionnaire(
    *, actor: User, response: QuestionnaireResponse, answers: dict[str, Any]
) -> QuestionnaireResponse:
    locked = (
        QuestionnaireResponse.objects.select_for_update()
        .select_related("patient")
        .get(pk=response.pk)
    )
    by_patient = _require_patient_or(actor, Perm.DIARY_EDIT, locked.patient)
    if locked.completed_at is not None:
        raise Conflict("This questionnaire has already been answered.")
    result = score_answers(locked.instrument, answers)
    score = result.get("score")
    locked.answers = answers
    locked.result = result
    locked.score = Decimal(str(score)) if isinstance(score, int | float) else None
    locked.band = str(result.get("band") or "")[:120]
    locked.valid = bool(result.get("valid"))
    locked.rule_set = str(result.get("rule_set", ""))[:60]
    locked.completed_at = timezone.now()
    locked.completed_by = actor
    locked.entered_by_staff = not by_patient
    locked.save()
    audit.record(
        actor=actor,
        action="update",
        obj=locked,
        clinic_id=locked.patient.clinic_id,
        practice_id=locked.patient.practice_id,
        changes={
            "score": [None, locked.score],
            "band": [None, locked.band],
            "valid": [None, locked.valid],
            "rule_set": [None, locked.rule_set],
            "entered_by_staff": [None, locked.entered_by_staff],
        },
        summary=f"{locked.get_instrument_display()} answered: {locked.score}"
        + (" (entered by staff for the patient)" if locked.entered_by_staff else ""),
    )
    return locked


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
    if visit is not None and visit > local_today() + timedelta(days=366):
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
        if not (note.history or note.examination or note.plan):
            raise ValidationError({"plan": ["Write the note before signing it."]})
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
    as_of = as_of or local_today()
    if as_of > local_today():
        raise ValidationError({"as_of": ["The assessment date cannot be in the future."]})
    if decision != Decision.ELIGIBLE.value and not note:
        raise ValidationError({"note": ["Say why (not eligible or deferred)."]})
    result, doc = facts.run_eligibility(patient, as_of)
    if decision == Decision.ELIGIBLE.value and result["status"] != "eligible" and not note:
        raise ValidationError(
            {"note": ["The rules do not find the patient eligible: write your reason."]}
        )
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


# ---- practice policy ------------------------------------------------------------------------

POLICY_FIELDS = policy_knobs.FIELDS


@transaction.atomic(durable=True)
def update_program_policy(*, actor: User, practice: Practice, **fields: Any) -> ProgramPolicy:
    """Set the practice's policy knobs (``None`` or ``""``: clinic_rules' default).

    Only the given fields change. clinic_rules judges the values (its policy schema: allowed
    values and bounds); a refusal names the field. Saving the same values writes nothing."""
    scope = actor.scope(Perm.PROGRAM_POLICY_EDIT) if actor.practice_id == practice.pk else None
    if scope is None:
        raise PermissionDenied("Your role does not allow this.")
    if not scope.all_clinics:
        raise PermissionDenied("The program policy is set across the practice.")
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationError({k: ["Unknown field."] for k in sorted(unknown)})
    policy, created = ProgramPolicy.objects.select_for_update().get_or_create(practice=practice)
    before = audit.snapshot(policy, POLICY_FIELDS)
    for k, v in fields.items():
        field = ProgramPolicy._meta.get_field(k)
        if v is None and not field.null:
            v = ""
        setattr(policy, k, v)
    # clinic_rules is the judge of the values: refuse what its policy schema refuses.
    try:
        contract.parse(
            "diary-summary",
            {"as_of": "2000-01-01", "days": [], "policy": policy_knobs.policy_document_of(policy)},
        )
    except contract.InputError as exc:
        errors: dict[str, list[str]] = {}
        for key, messages in exc.errors.items():
            knob = policy_knobs.BY_KEY.get(key.removeprefix("policy."))
            errors.setdefault(knob.field if knob else "__all__", []).extend(messages)
        raise ValidationError(errors) from exc
    except (TypeError, ValueError) as exc:
        raise ValidationError({"__all__": ["A value is not of the right type."]}) from exc
    policy.full_clean(exclude=["practice"])
    changes = audit.diff(before, audit.snapshot(policy, POLICY_FIELDS))
    if not changes and not created:
        return policy
    policy.save()
    audit.record(
        actor=actor,
        action="create" if created else "update",
        obj=policy,
        object_type="diaries.programpolicy",  # its audit name from before the move to core
        practice_id=practice.pk,
        changes=changes,
        summary="Program policy updated",
    )
    return policy
