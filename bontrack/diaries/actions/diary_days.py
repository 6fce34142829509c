"""Logging headache diary days (one or many), validated the same way on every path."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.diaries.actions import actors
from bontrack.diaries.actions.actors import _require_patient_or
from bontrack.diaries.choices import (
    MEDICINES,
    AcuteClass,
    DiarySource,
    medicine_class,
    medicine_key,
)
from bontrack.diaries.models import (
    FEATURES,
    DiaryDay,
    DiaryDayRevision,
    DiaryMedication,
)
from bontrack.outcomes.services import mark as mark_outcomes
from bontrack.patients.models import Patient
from bontrack.patients.services import Conflict

# Product rule of the portal diary (not a clinical number): a patient may fill a missed day
# up to this many days back; older gaps stay missing.
BACKFILL_DAYS = 30
MAX_MEDICATIONS = 20
MAX_DOSES = 50
TRIPTAN_ERGOT = {AcuteClass.TRIPTAN.value, AcuteClass.ERGOT.value}


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
    values, meds = validate_day(data, today=actors.local_today(), earliest=earliest)
    mark_outcomes(patient.pk)  # dashboard rollup (bontrack.outcomes): refreshed by the worker
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
    earliest = actors.local_today() - timedelta(days=BACKFILL_DAYS) if source == "patient" else None
    return _upsert_day(actor=actor, patient=patient, data=data, source=source, earliest=earliest)


@transaction.atomic(durable=True)
def upsert_diary_days(
    *, actor: User, patient: Patient, days: list[DayInput], source: str = DiarySource.TRANSCRIBED
) -> dict[str, int]:
    """Bulk upsert by date (API). All or nothing; the same body twice leaves the same state."""
    own = _require_patient_or(actor, Perm.DIARY_EDIT, patient)
    if own:
        source = DiarySource.PATIENT
    earliest = actors.local_today() - timedelta(days=BACKFILL_DAYS) if own else None
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
