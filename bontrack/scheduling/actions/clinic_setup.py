"""Clinic configuration by clinic administrators: contact details, types, hours, exceptions,
rooms, settings.

Every create and update goes through one path, `_save` (set the fields, validate the model, save,
one audit row of what changed), and every removal through `_remove`; the use cases around them only
check the actor's permission for the clinic and what is particular to them."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction

from bontrack.accounts.access import require_clinic_perm as _require
from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.core.models import Clinic
from bontrack.patients.services import Conflict
from bontrack.scheduling.models import (
    AppointmentType,
    AvailabilityException,
    ProgramPage,
    Room,
    SchedulingSettings,
    WorkingHours,
)

M = TypeVar("M", bound=models.Model)


def _jsonable(changes: dict[str, list[Any]]) -> dict[str, list[Any]]:
    return {k: [str(v) if isinstance(v, time) else v for v in pair] for k, pair in changes.items()}


def _save(
    *,
    actor: User,
    obj: M,
    fields: dict[str, Any],
    clinic_id: int,
    summary: str,
    audited: list[str] | None = None,
) -> M:
    """The one create-or-update path of clinic set-up: set `fields` on `obj`, validate, save,
    and audit `create` (a new row) or `update` with {field: [before, after]} of `audited`
    (default: the fields set). Runs inside the caller's transaction."""
    names = audited if audited is not None else list(fields)
    creating = obj.pk is None
    before = {} if creating else audit.snapshot(obj, names)
    for key, value in fields.items():
        setattr(obj, key, value)
    obj.full_clean()
    obj.save()
    audit.record(
        actor=actor,
        action="create" if creating else "update",
        obj=obj,
        clinic_id=clinic_id,
        changes=_jsonable(audit.diff(before, audit.snapshot(obj, names))),
        summary=summary,
    )
    return obj


def _remove(
    *, actor: User, row: models.Model, clinic_id: int, fields: list[str], summary: str
) -> None:
    """The one removal path: audit what goes (`fields`, before -> None), then delete."""
    audit.record(
        actor=actor,
        action="delete",
        obj=row,
        clinic_id=clinic_id,
        changes=_jsonable({k: [v, None] for k, v in audit.snapshot(row, fields).items()}),
        summary=summary,
    )
    row.delete()


# --- Contact details (shown to patients on booking pages, e-mails and the portal) ----------

CONTACT_FIELDS = ["phone", "contact_email", "address"]
# Digits with the usual separators, an optional leading + and an optional extension.
_PHONE = re.compile(
    r"^(?P<main>\+?[0-9(][0-9 ().\-/]*[0-9])(?:\s*(?:ext\.?|x)\s*[0-9]{1,6})?$", re.IGNORECASE
)


def check_phone(phone: str) -> str:
    """The phone number as typed (spaces tidied), or a ValidationError in a sentence."""
    phone = " ".join(phone.split())
    if not phone:
        return ""
    match = _PHONE.match(phone)
    if match is None or not 7 <= sum(ch.isdigit() for ch in match["main"]) <= 15:
        raise ValidationError(
            {"phone": ["Enter a phone number of 7 to 15 digits, for example (555) 010-4477."]}
        )
    return phone


@transaction.atomic(durable=True)
def save_clinic_contact(
    *, actor: User, clinic: Clinic, phone: str, contact_email: str, address: str
) -> Clinic:
    """The clinic's phone, contact e-mail and address, edited by its administrators."""
    _require(actor, Perm.SCHEDULE_CONFIGURE, clinic.pk)
    locked = Clinic.objects.select_for_update().get(pk=clinic.pk)
    fields = {
        "phone": check_phone(phone),
        "contact_email": contact_email.strip(),
        "address": " ".join(address.split()),
    }
    return _save(
        actor=actor,
        obj=locked,
        fields=fields,
        clinic_id=clinic.pk,
        summary="Clinic contact details",
    )


# --- Configuration (clinic administrators) ------------------------------------------------

TYPE_FIELDS = [
    "name",
    "kind",
    "modality",
    "duration_minutes",
    "buffer_before_minutes",
    "buffer_after_minutes",
    "delivered_by",
    "self_bookable",
    "free_of_charge",
    "min_notice_minutes",
    "horizon_days",
    "description",
    "active",
]


@transaction.atomic(durable=True)
def save_appointment_type(
    *, actor: User, clinic: Clinic, instance: AppointmentType | None = None, **fields: Any
) -> AppointmentType:
    _require(actor, Perm.SCHEDULE_CONFIGURE, clinic.pk)
    if instance is not None and instance.clinic_id != clinic.pk:
        raise PermissionDenied("Not a type of this clinic.")
    obj = instance or AppointmentType(clinic=clinic)
    return _save(
        actor=actor,
        obj=obj,
        fields=fields,
        clinic_id=clinic.pk,
        summary=f"Appointment type {fields.get('name', obj.name)}",
        audited=TYPE_FIELDS,
    )


def clinic_clinicians(clinic: Clinic) -> Any:
    """Active physicians and nurses who work at the clinic (or across its practice)."""
    from django.db.models import Q

    from bontrack.accounts.roles import Role

    return (
        User.objects.filter(
            Q(memberships__clinic=clinic) | Q(memberships__clinic__isnull=True),
            memberships__practice_id=clinic.practice_id,
            memberships__role__in=[Role.PHYSICIAN, Role.NURSE],
            is_active=True,
        )
        .distinct()
        .order_by("last_name", "first_name", "id")
    )


def _check_clinician(clinic: Clinic, clinician: User) -> None:
    if not clinic_clinicians(clinic).filter(pk=clinician.pk).exists():
        raise ValidationError({"clinician": ["Choose a physician or nurse of this clinic."]})


def _check_room(clinic: Clinic, room: Room | None) -> None:
    if room is not None and room.clinic_id != clinic.pk:
        raise ValidationError({"room": ["Choose a room of this clinic."]})


@transaction.atomic(durable=True)
def add_working_hours(
    *,
    actor: User,
    clinic: Clinic,
    clinician: User,
    weekday: int,
    start: Any,
    end: Any,
    room: Room | None = None,
    valid_from: date | None = None,
    valid_until: date | None = None,
) -> WorkingHours:
    """A weekly block. Refused when it overlaps another block of the clinician on that
    weekday (at any clinic: nobody works in two places at once) for overlapping dates."""
    _require(actor, Perm.SCHEDULE_CONFIGURE, clinic.pk)
    _check_clinician(clinic, clinician)
    _check_room(clinic, room)
    if end <= start:
        raise ValidationError({"end": ["The end must be after the start."]})
    if valid_from and valid_until and valid_until < valid_from:
        raise ValidationError({"valid_until": ["The last day must not be before the first."]})
    fields = {
        "clinician": clinician,
        "weekday": weekday,
        "start": start,
        "end": end,
        "room": room,
        "valid_from": valid_from,
        "valid_until": valid_until,
    }
    # Lock the clinician's row so two administrators cannot add overlapping blocks at once.
    User.objects.select_for_update().filter(pk=clinician.pk).first()
    for other in WorkingHours.objects.filter(
        clinician=clinician, weekday=weekday, start__lt=end, end__gt=start
    ).select_related("clinic"):
        dates_overlap = (
            valid_until is None or other.valid_from is None or other.valid_from <= valid_until
        ) and (valid_from is None or other.valid_until is None or other.valid_until >= valid_from)
        if dates_overlap:
            raise ValidationError(
                {
                    "start": [
                        f"Overlaps {other.start:%H:%M}–{other.end:%H:%M} at {other.clinic.name}."
                    ]
                }
            )
    return _save(
        actor=actor,
        obj=WorkingHours(clinic=clinic),
        fields=fields,
        clinic_id=clinic.pk,
        summary=f"Working hours for {clinician.get_full_name() or clinician.username}",
        audited=["weekday", "start", "end", "room_id", "valid_from", "valid_until"],
    )


@transaction.atomic(durable=True)
def remove_working_hours(*, actor: User, row: WorkingHours) -> None:
    _require(actor, Perm.SCHEDULE_CONFIGURE, row.clinic_id)
    _remove(
        actor=actor,
        row=row,
        clinic_id=row.clinic_id,
        fields=["weekday", "start"],
        summary="Removed working hours",
    )


@transaction.atomic(durable=True)
def add_exception(
    *,
    actor: User,
    clinic: Clinic,
    clinician: User,
    kind: str,
    starts_at: datetime,
    ends_at: datetime,
    note: str = "",
    room: Room | None = None,
) -> AvailabilityException:
    _require(actor, Perm.SCHEDULE_CONFIGURE, clinic.pk)
    _check_clinician(clinic, clinician)
    _check_room(clinic, room)
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": ["The end must be after the start."]})
    row = AvailabilityException(clinic=clinic, kind=kind)
    return _save(
        actor=actor,
        obj=row,
        fields={
            "clinician": clinician,
            "kind": kind,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "note": note,
            "room": room,
        },
        clinic_id=clinic.pk,
        summary=f"{row.get_kind_display()} for {clinician.username}",
        audited=["kind", "starts_at", "ends_at"],
    )


@transaction.atomic(durable=True)
def remove_exception(*, actor: User, row: AvailabilityException) -> None:
    _require(actor, Perm.SCHEDULE_CONFIGURE, row.clinic_id)
    _remove(
        actor=actor,
        row=row,
        clinic_id=row.clinic_id,
        fields=["kind", "starts_at"],
        summary=f"Removed {row.get_kind_display().lower()}",
    )


@transaction.atomic(durable=True)
def save_room(
    *, actor: User, clinic: Clinic, name: str, room: Room | None = None, active: bool = True
) -> Room:
    """Add a room (`room` None) or rename / take out of use / bring back one of this clinic."""
    _require(actor, Perm.SCHEDULE_CONFIGURE, clinic.pk)
    if room is not None and room.clinic_id != clinic.pk:
        raise PermissionDenied("Not a room of this clinic.")
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["Give the room a name."]})
    same_name = Room.objects.filter(clinic=clinic, name__iexact=name)
    if room is not None:
        same_name = same_name.exclude(pk=room.pk)
    if same_name.exists():
        raise Conflict("A room of that name exists.", field="name")
    return _save(
        actor=actor,
        obj=room or Room(clinic=clinic),
        fields={"name": name, "active": active},
        clinic_id=clinic.pk,
        summary=f"Room {name}",
    )


@transaction.atomic(durable=True)
def save_program_page(
    *, actor: User, page: ProgramPage, title: str, summary: str, body: str, published: bool
) -> ProgramPage:
    _require(actor, Perm.SCHEDULE_CONFIGURE, page.clinic_id)
    return _save(
        actor=actor,
        obj=page,
        fields={"title": title, "summary": summary, "body": body, "published": published},
        clinic_id=page.clinic_id,
        summary=f"Program page {title}",
    )


@transaction.atomic(durable=True)
def save_settings(*, actor: User, clinic: Clinic, **fields: Any) -> SchedulingSettings:
    _require(actor, Perm.SCHEDULE_CONFIGURE, clinic.pk)
    obj = SchedulingSettings.objects.filter(clinic=clinic).first() or SchedulingSettings(
        clinic=clinic, reminder_offsets_minutes=[]
    )
    return _save(
        actor=actor, obj=obj, fields=fields, clinic_id=clinic.pk, summary="Scheduling settings"
    )
