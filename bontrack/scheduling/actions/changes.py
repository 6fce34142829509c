"""Changes to an appointment: cancel, reschedule (desk and emailed link) and status."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from bontrack.accounts.access import require_clinic_perm as _require
from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.outcomes.services import mark as mark_outcomes
from bontrack.patients.services import Conflict
from bontrack.scheduling import links, notify
from bontrack.scheduling.actions.booking import (
    APPOINTMENT_FIELDS,
    UNAVAILABLE,
    _assign_questionnaires,
    _free_slots_at,
    _minute,
    check_interval,
    overlap_conflict,
    staff_unavailable,
)
from bontrack.scheduling.actions.waitlist import offer_freed_slot
from bontrack.scheduling.availability import zone
from bontrack.scheduling.models import (
    Appointment,
    CancelReason,
    Kind,
    NoShowReason,
    Room,
    Status,
)

# --- Changes to an appointment ----------------------------------------------------------


def _locked(appointment: Appointment) -> Appointment:
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("clinic", "patient", "appointment_type")
        .get(pk=appointment.pk)
    )


def _cancel(
    locked: Appointment, *, actor: User | None, reason: str, note: str, base_url: str
) -> Appointment:
    if locked.status != Status.BOOKED:
        raise Conflict(f"The appointment is {locked.get_status_display().lower()}.", field="status")
    if reason not in CancelReason.values:
        raise ValidationError({"reason": ["Choose a cancellation reason."]})
    locked.status = Status.CANCELLED
    locked.cancel_reason = reason
    locked.status_note = note[:300]
    locked.save(update_fields=["status", "cancel_reason", "status_note", "updated_at"])
    audit.record(
        actor=actor,
        action="update",
        obj=locked,
        changes={"status": [Status.BOOKED, Status.CANCELLED], "cancel_reason": [None, reason]},
        summary=f"Cancelled {locked.appointment_type.name} ({reason})",
    )
    notify.booking_cancelled(locked)
    offer_freed_slot(locked, base_url=base_url)
    return locked


@transaction.atomic(durable=True)
def cancel_appointment(
    *, actor: User, appointment: Appointment, reason: str, note: str = "", base_url: str = ""
) -> Appointment:
    locked = _locked(appointment)
    _require(actor, Perm.SCHEDULE_BOOK, locked.clinic_id)
    return _cancel(
        locked, actor=actor, reason=reason, note=note, base_url=base_url or links.public_base_url()
    )


@transaction.atomic(durable=True)
def cancel_by_link(*, appointment: Appointment, base_url: str) -> Appointment:
    """The patient cancels through the signed link of their email (the token was checked)."""
    locked = _locked(appointment)
    if locked.starts_at <= timezone.now():
        raise Conflict("This appointment has already started.", field="status")
    return _cancel(
        locked, actor=None, reason=CancelReason.PATIENT_ONLINE, note="", base_url=base_url
    )


def _move(
    locked: Appointment,
    *,
    actor: User | None,
    starts_at: datetime,
    clinician_id: int | None,
    room_id: int | None,
    apply_notice: bool,
    base_url: str,
) -> Appointment:
    if locked.status != Status.BOOKED:
        raise Conflict(f"The appointment is {locked.get_status_display().lower()}.", field="status")
    starts_at = _minute(starts_at)
    atype = locked.appointment_type
    candidates = _free_slots_at(
        clinic=locked.clinic,
        appointment_type=atype,
        starts_at=starts_at,
        clinician_id=clinician_id,
        apply_notice=apply_notice,
        exclude_appointment_id=locked.pk,
    )
    if not candidates:
        if not apply_notice:  # staff: tell "outside opening hours" from "taken"
            raise staff_unavailable(
                clinic=locked.clinic,
                appointment_type=atype,
                starts_at=starts_at,
                clinician_id=clinician_id,
            )
        raise Conflict(UNAVAILABLE, field="starts_at")
    if atype.kind == Kind.TREATMENT and locked.indication:
        check_interval(
            patient=locked.patient,
            indication=locked.indication,
            starts_at=starts_at,
            clinic=locked.clinic,
            actor=actor,
            override_reason=locked.interval_override_reason,
        )
    before_snapshot = audit.snapshot(locked, APPOINTMENT_FIELDS)
    slot = candidates[0]
    locked.starts_at = slot.starts_at
    locked.ends_at = slot.ends_at
    locked.block_start = slot.starts_at - timedelta(minutes=atype.buffer_before_minutes)
    locked.block_end = slot.ends_at + timedelta(minutes=atype.buffer_after_minutes)
    locked.clinician_id = slot.clinician_id
    locked.room_id = room_id or slot.room_id
    locked.sequence += 1
    try:
        with transaction.atomic():
            locked.save()
    except IntegrityError as exc:
        conflict = overlap_conflict(exc)
        if conflict is None:
            raise
        raise conflict from exc
    audit.record(
        actor=actor,
        action="update",
        obj=locked,
        changes=audit.diff(before_snapshot, audit.snapshot(locked, APPOINTMENT_FIELDS)),
        summary=f"Rescheduled {atype.name}",
    )
    notify.booking_moved(locked, base_url=base_url)
    _assign_questionnaires(locked, actor=actor)
    return locked


@transaction.atomic(durable=True)
def reschedule_appointment(
    *,
    actor: User,
    appointment: Appointment,
    starts_at: datetime,
    clinician: User | None = None,
    room: Room | None = None,
    base_url: str = "",
) -> Appointment:
    locked = _locked(appointment)
    _require(actor, Perm.SCHEDULE_BOOK, locked.clinic_id)
    if room is not None and room.clinic_id != locked.clinic_id:
        raise ValidationError({"room_id": ["Choose a room of this clinic."]})
    return _move(
        locked,
        actor=actor,
        starts_at=starts_at,
        clinician_id=clinician.pk if clinician else None,
        room_id=room.pk if room else None,
        apply_notice=False,
        base_url=base_url or links.public_base_url(),
    )


@transaction.atomic(durable=True)
def reschedule_by_link(
    *, appointment: Appointment, starts_at: datetime, base_url: str
) -> Appointment:
    locked = _locked(appointment)
    if not locked.appointment_type.self_bookable:
        raise ValidationError({"starts_at": ["Please call the clinic to move this appointment."]})
    return _move(
        locked,
        actor=None,
        starts_at=starts_at,
        clinician_id=None,
        room_id=None,
        apply_notice=True,
        base_url=base_url,
    )


@transaction.atomic(durable=True)
def set_status(
    *, actor: User, appointment: Appointment, status: str, reason: str = "", note: str = ""
) -> Appointment:
    """Check in, complete, or record a no-show (with its reason)."""
    locked = _locked(appointment)
    _require(actor, Perm.SCHEDULE_BOOK, locked.clinic_id)
    allowed: dict[str, set[str]] = {
        Status.CHECKED_IN: {Status.BOOKED},
        Status.COMPLETED: {Status.BOOKED, Status.CHECKED_IN},
        Status.NO_SHOW: {Status.BOOKED},
    }
    if status not in allowed:
        raise ValidationError({"status": ["Choose check-in, completed or no-show."]})
    if locked.status not in allowed[status]:
        raise Conflict(f"The appointment is {locked.get_status_display().lower()}.", field="status")
    if status == Status.CHECKED_IN:
        tz = zone(locked.clinic)
        day = locked.starts_at.astimezone(tz).date()
        if day != timezone.now().astimezone(tz).date():
            raise ValidationError(
                {
                    "status": [
                        f"Check-in is only possible on the day of the appointment "
                        f"({day:%A %d %B %Y})."
                    ]
                }
            )
    if status == Status.NO_SHOW:
        if reason not in NoShowReason.values:
            raise ValidationError({"reason": ["Choose a no-show reason."]})
        if locked.starts_at > timezone.now():
            raise ValidationError({"status": ["A no-show can only be recorded after the start."]})
        locked.no_show_reason = reason
    before = locked.status
    locked.status = status
    locked.status_note = note[:300]
    locked.save(update_fields=["status", "no_show_reason", "status_note", "updated_at"])
    mark_outcomes(locked.patient_id)
    changes: dict[str, list[Any]] = {"status": [before, status]}
    if reason:
        changes["no_show_reason"] = [None, reason]
    audit.record(
        actor=actor,
        action="update",
        obj=locked,
        changes=changes,
        summary=f"{locked.get_status_display()}: {locked.appointment_type.name}",
    )
    if status == Status.NO_SHOW:
        notify.cancel_pending(topic=notify.topic(locked))
    return locked
