"""Clinic configuration by clinic administrators: types, hours, exceptions, rooms, settings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

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
    obj = instance or AppointmentType(clinic=clinic)
    if instance is not None and instance.clinic_id != clinic.pk:
        raise PermissionDenied("Not a type of this clinic.")
    before = audit.snapshot(obj, TYPE_FIELDS) if instance else {}
    for key, value in fields.items():
        setattr(obj, key, value)
    obj.full_clean()
    obj.save()
    audit.record(
        actor=actor,
        action="update" if instance else "create",
        obj=obj,
        changes=audit.diff(before, audit.snapshot(obj, TYPE_FIELDS)),
        summary=f"Appointment type {obj.name}",
    )
    return obj


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
    row = WorkingHours(
        clinic=clinic,
        clinician=clinician,
        weekday=weekday,
        start=start,
        end=end,
        room=room,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    row.full_clean()
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
    row.save()
    audit.record(
        actor=actor,
        action="create",
        obj=row,
        clinic_id=clinic.pk,
        changes={
            "weekday": [None, weekday],
            "start": [None, str(start)],
            "end": [None, str(end)],
            "room_id": [None, room.pk if room else None],
            "valid_from": [None, str(valid_from) if valid_from else None],
            "valid_until": [None, str(valid_until) if valid_until else None],
        },
        summary=f"Working hours for {clinician.get_full_name() or clinician.username}",
    )
    return row


@transaction.atomic(durable=True)
def remove_working_hours(*, actor: User, row: WorkingHours) -> None:
    _require(actor, Perm.SCHEDULE_CONFIGURE, row.clinic_id)
    audit.record(
        actor=actor,
        action="delete",
        obj=row,
        clinic_id=row.clinic_id,
        changes={"weekday": [row.weekday, None], "start": [str(row.start), None]},
        summary="Removed working hours",
    )
    row.delete()


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
    row = AvailabilityException(
        clinic=clinic,
        clinician=clinician,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        note=note,
        room=room,
    )
    row.full_clean()
    row.save()
    audit.record(
        actor=actor,
        action="create",
        obj=row,
        clinic_id=clinic.pk,
        changes={"kind": [None, kind], "starts_at": [None, starts_at], "ends_at": [None, ends_at]},
        summary=f"{row.get_kind_display()} for {clinician.username}",
    )
    return row


@transaction.atomic(durable=True)
def remove_exception(*, actor: User, row: AvailabilityException) -> None:
    _require(actor, Perm.SCHEDULE_CONFIGURE, row.clinic_id)
    audit.record(
        actor=actor,
        action="delete",
        obj=row,
        clinic_id=row.clinic_id,
        changes={"kind": [row.kind, None], "starts_at": [row.starts_at, None]},
        summary=f"Removed {row.get_kind_display().lower()}",
    )
    row.delete()


@transaction.atomic(durable=True)
def update_room(*, actor: User, room: Room, name: str, active: bool) -> Room:
    _require(actor, Perm.SCHEDULE_CONFIGURE, room.clinic_id)
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["Give the room a name."]})
    if (
        Room.objects.filter(clinic_id=room.clinic_id, name__iexact=name)
        .exclude(pk=room.pk)
        .exists()
    ):
        raise Conflict("A room of that name exists.", field="name")
    before = audit.snapshot(room, ["name", "active"])
    room.name, room.active = name, active
    room.full_clean()
    room.save()
    audit.record(
        actor=actor,
        action="update",
        obj=room,
        clinic_id=room.clinic_id,
        changes=audit.diff(before, audit.snapshot(room, ["name", "active"])),
        summary=f"Room {room.name}",
    )
    return room


@transaction.atomic(durable=True)
def add_room(*, actor: User, clinic: Clinic, name: str) -> Room:
    _require(actor, Perm.SCHEDULE_CONFIGURE, clinic.pk)
    if not name.strip():
        raise ValidationError({"name": ["Give the room a name."]})
    if Room.objects.filter(clinic=clinic, name__iexact=name.strip()).exists():
        raise Conflict("A room of that name exists.", field="name")
    room = Room.objects.create(clinic=clinic, name=name.strip())
    audit.record(
        actor=actor,
        action="create",
        obj=room,
        changes={"name": [None, room.name]},
        summary=f"Room {room.name}",
    )
    return room


@transaction.atomic(durable=True)
def save_program_page(
    *, actor: User, page: ProgramPage, title: str, summary: str, body: str, published: bool
) -> ProgramPage:
    _require(actor, Perm.SCHEDULE_CONFIGURE, page.clinic_id)
    fields = ["title", "summary", "body", "published"]
    before = audit.snapshot(page, fields)
    page.title, page.summary, page.body, page.published = title, summary, body, published
    page.full_clean()
    page.save()
    audit.record(
        actor=actor,
        action="update",
        obj=page,
        changes=audit.diff(before, audit.snapshot(page, fields)),
        summary=f"Program page {page.title}",
    )
    return page


@transaction.atomic(durable=True)
def save_settings(*, actor: User, clinic: Clinic, **fields: Any) -> SchedulingSettings:
    _require(actor, Perm.SCHEDULE_CONFIGURE, clinic.pk)
    obj, _ = SchedulingSettings.objects.get_or_create(
        clinic=clinic, defaults={"reminder_offsets_minutes": []}
    )
    names = list(fields)
    before = audit.snapshot(obj, names)
    for k, v in fields.items():
        setattr(obj, k, v)
    obj.full_clean()
    obj.save()
    audit.record(
        actor=actor,
        action="update",
        obj=obj,
        clinic_id=clinic.pk,
        changes=audit.diff(before, audit.snapshot(obj, names)),
        summary="Scheduling settings",
    )
    return obj
