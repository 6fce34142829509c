"""Booking an appointment from the desk: slot and interval checks, the one place rows are created.

Availability rules (working hours, notice, horizon) are checked against the same slot
computation the pages show.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from bontrack.accounts.access import require_clinic_perm as _require
from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.core.models import Clinic
from bontrack.patients.models import Condition, Patient
from bontrack.patients.services import Conflict
from bontrack.scheduling import facts, links, notify
from bontrack.scheduling.actions.clinic_setup import clinic_clinicians
from bontrack.scheduling.availability import find_slots, zone
from bontrack.scheduling.models import (
    HOLDING,
    Appointment,
    AppointmentType,
    AvailabilityException,
    ExceptionKind,
    Kind,
    Room,
    Source,
    Status,
    WorkingHours,
)

APPOINTMENT_FIELDS = [
    "clinic_id",
    "patient_id",
    "clinician_id",
    "room_id",
    "appointment_type_id",
    "starts_at",
    "ends_at",
    "status",
    "source",
]

OVERLAP_MESSAGES = {
    "appt_no_overlap_clinician": ("The clinician is already booked at that time.", "starts_at"),
    "appt_no_overlap_room": ("The room is already booked at that time.", "room_id"),
    "appt_no_overlap_patient": (
        "The patient already has an appointment at that time.",
        "patient_id",
    ),
}


# The one answer a public booker gets when a time cannot be booked, whatever the reason (taken,
# outside working hours, another clinic's clinician): it reveals nobody's schedule.
UNAVAILABLE = "That time is no longer available; please choose another."


OUTSIDE_HOURS = (
    "That time is outside the clinic's opening hours{who}: choose a time within them "
    "(the slot finder lists only times that fit)."
)
TAKEN = "That time is taken{who}: choose another (the slot finder lists the free times)."


def staff_unavailable(
    *,
    clinic: Clinic,
    appointment_type: AppointmentType,
    starts_at: datetime,
    clinician_id: int | None,
) -> Conflict:
    """For staff, why a time cannot be booked: outside opening hours, or taken (booked or on
    leave). The public booking pages keep the one answer `UNAVAILABLE` (no schedule revealed)."""
    tz = zone(clinic)
    local = starts_at.astimezone(tz)
    end = (starts_at + timedelta(minutes=appointment_type.duration_minutes)).astimezone(tz)
    who = ""
    hours = WorkingHours.objects.filter(
        clinic=clinic, weekday=local.weekday(), start__lte=local.time(), end__gte=end.time()
    ).filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=local.date()),
        Q(valid_until__isnull=True) | Q(valid_until__gte=local.date()),
    )
    extra = AvailabilityException.objects.filter(
        clinic=clinic, kind=ExceptionKind.EXTRA, starts_at__lte=starts_at, ends_at__gte=end
    )
    if clinician_id:
        hours = hours.filter(clinician_id=clinician_id)
        extra = extra.filter(clinician_id=clinician_id)
        found = User.objects.filter(pk=clinician_id).first()
        if found is not None:
            who = f" for {found.get_full_name() or found.username}"
    if end.date() != local.date() or not (hours.exists() or extra.exists()):
        return Conflict(OUTSIDE_HOURS.format(who=who), field="starts_at")
    return Conflict(TAKEN.format(who=who), field="starts_at")


def overlap_conflict(exc: IntegrityError) -> Conflict | None:
    text = str(exc)
    for name, (message, field) in OVERLAP_MESSAGES.items():
        if name in text:
            return Conflict(message, field=field)
    return None


def _minute(dt: datetime) -> datetime:
    if timezone.is_naive(dt):
        raise ValidationError({"starts_at": ["Give the time with its UTC offset."]})
    return dt.astimezone(UTC).replace(second=0, microsecond=0)


def _check_type(clinic: Clinic, appointment_type: AppointmentType) -> None:
    if appointment_type.clinic_id != clinic.pk or not appointment_type.active:
        raise ValidationError({"appointment_type": ["Choose an active type of this clinic."]})


def _free_slots_at(
    *,
    clinic: Clinic,
    appointment_type: AppointmentType,
    starts_at: datetime,
    clinician_id: int | None,
    apply_notice: bool,
    exclude_appointment_id: int | None = None,
) -> list[Any]:
    day = starts_at.astimezone(zone(clinic)).date()
    slots = find_slots(
        clinic=clinic,
        appointment_type=appointment_type,
        start=day,
        end=day,
        now=timezone.now(),
        clinician_ids=[clinician_id] if clinician_id else None,
        apply_notice=apply_notice,
        exclude_appointment_id=exclude_appointment_id,
    )
    return [s for s in slots if s.starts_at == starts_at]


def check_interval(
    *,
    patient: Patient,
    indication: str,
    starts_at: datetime,
    clinic: Clinic,
    actor: User | None,
    override_reason: str,
) -> dict[str, Any] | None:
    """Refuse a treatment before the minimum interval unless a physician overrides with a reason.

    Returns the override record to audit, or None when the interval is met.
    """
    last = facts.last_signed_session(patient.pk, indication)
    if last is None:
        return None
    tz = zone(clinic)
    day = starts_at.astimezone(tz).date()
    interval = facts.interval_for(
        indication, pediatric=facts.is_pediatric_on(patient.date_of_birth, day)
    )
    earliest, _, _ = facts.due_dates(last, interval, tz)
    if day >= earliest or not interval.enforce:
        return None
    if not override_reason.strip():
        raise ValidationError(
            {
                "starts_at": [
                    f"Too early: the last signed session was {last.astimezone(tz).date()}; "
                    f"{indication.replace('_', ' ')} may be re-treated from {earliest}. "
                    "A physician may override with a reason."
                ]
            }
        )
    if actor is None or not actor.has_clinic_perm(Perm.INTERVAL_OVERRIDE, clinic.pk):
        raise PermissionDenied("Only a physician may book a treatment before the minimum interval.")
    return {
        "rule_id": interval.rule_id,
        "earliest": earliest.isoformat(),
        "reason": override_reason.strip(),
    }


def future_treatment(patient: Patient, indication: str) -> Appointment | None:
    """The patient's first booked future treatment for the indication (None when there is none)."""
    return (
        Appointment.objects.filter(
            patient=patient,
            appointment_type__kind=Kind.TREATMENT,
            status=Status.BOOKED,
            indication=indication,
            starts_at__gte=timezone.now(),
        )
        .select_related("clinic")
        .order_by("starts_at")
        .first()
    )


def refuse_second_treatment(patient: Patient, indication: str) -> None:
    """A treatment is refused (409) while the patient has a future treatment booked for the same
    indication: move that appointment instead of booking a second one."""
    if not indication:
        return
    existing = future_treatment(patient, indication)
    if existing is None:
        return
    day = existing.starts_at.astimezone(zone(existing.clinic))
    raise Conflict(
        f"{patient.first_name} {patient.last_name} already has a treatment booked for "
        f"{facts.indication_label(indication).lower()} on {day:%A %d %B %Y at %H:%M}. "
        "Move that appointment instead of booking a second one.",
        field="starts_at",
    )


def _default_indication(patient: Patient) -> str:
    cond = Condition.objects.filter(patient=patient, active=True).order_by("id").first()
    return cond.indication if cond else ""


def _assign_questionnaires(appointment: Appointment, *, actor: User | None) -> None:
    """A treatment for a patient with active chronic migraine: assign the pre-treatment
    questionnaires (diaries app) for the appointment's local date, in the booking's transaction
    (so a refused booking assigns nothing). Idempotent."""
    if appointment.appointment_type.kind != Kind.TREATMENT:
        return
    if not Condition.objects.filter(
        patient_id=appointment.patient_id, indication="chronic_migraine", active=True
    ).exists():
        return
    from bontrack.diaries.actions.questionnaires import assign_pre_treatment

    day = appointment.starts_at.astimezone(zone(appointment.clinic)).date()
    assign_pre_treatment(appointment.patient, day, actor=actor)


def _create(
    *,
    actor: User | None,
    clinic: Clinic,
    patient: Patient,
    appointment_type: AppointmentType,
    starts_at: datetime,
    clinician_id: int | None,
    room_id: int | None,
    reason: str,
    source: str,
    override_reason: str,
    indication: str,
    contact_consent: bool,
    apply_notice: bool,
    base_url: str,
) -> Appointment:
    _check_type(clinic, appointment_type)
    if patient.practice_id != clinic.practice_id:
        raise ValidationError({"patient_id": ["Choose a patient of this practice."]})
    starts_at = _minute(starts_at)
    candidates = _free_slots_at(
        clinic=clinic,
        appointment_type=appointment_type,
        starts_at=starts_at,
        clinician_id=clinician_id,
        apply_notice=apply_notice,
    )
    if room_id is not None:
        if not Room.objects.filter(pk=room_id, clinic=clinic, active=True).exists():
            raise ValidationError({"room_id": ["Choose an active room of this clinic."]})
        candidates = [type(s)(s.starts_at, s.ends_at, s.clinician_id, room_id) for s in candidates]
    if not candidates:
        if (
            clinician_id
            and clinic_clinicians(clinic).filter(pk=clinician_id).exists()
            and Appointment.objects.filter(
                clinician_id=clinician_id,
                status__in=HOLDING,
                block_start__lt=starts_at + timedelta(minutes=appointment_type.duration_minutes),
                block_end__gt=starts_at,
            ).exists()
        ):
            raise Conflict("The clinician is already booked at that time.", field="starts_at")
        if source == Source.STAFF:
            raise staff_unavailable(
                clinic=clinic,
                appointment_type=appointment_type,
                starts_at=starts_at,
                clinician_id=clinician_id,
            )
        raise Conflict(UNAVAILABLE, field="starts_at")
    override = None
    indication = indication or _default_indication(patient)
    if appointment_type.kind == Kind.TREATMENT and indication:
        override = check_interval(
            patient=patient,
            indication=indication,
            starts_at=starts_at,
            clinic=clinic,
            actor=actor,
            override_reason=override_reason,
        )
    before = timedelta(minutes=appointment_type.buffer_before_minutes)
    after = timedelta(minutes=appointment_type.buffer_after_minutes)
    last_error: Conflict | None = None
    for slot in candidates:
        appointment = Appointment(
            practice_id=clinic.practice_id,
            clinic=clinic,
            patient=patient,
            clinician_id=slot.clinician_id,
            room_id=slot.room_id,
            appointment_type=appointment_type,
            indication=indication,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            block_start=slot.starts_at - before,
            block_end=slot.ends_at + after,
            source=source,
            reason=reason[:500],
            video_token=links.new_video_token() if appointment_type.is_video else None,
            interval_override_reason=override["reason"] if override else "",
            interval_override_by=actor if override else None,
            booked_by=actor,
            contact_consent=contact_consent,
        )
        try:
            with transaction.atomic():
                appointment.save()
        except IntegrityError as exc:
            conflict = overlap_conflict(exc)
            if conflict is None:
                raise
            last_error = conflict
            if conflict.field == "patient_id":
                break
            continue
        changes = {k: [None, v] for k, v in audit.snapshot(appointment, APPOINTMENT_FIELDS).items()}
        if override:
            changes["interval_override"] = [None, override]
        audit.record(
            actor=actor,
            action="create",
            obj=appointment,
            changes=changes,
            summary=f"Booked {appointment_type.name}"
            + (" (interval override)" if override else ""),
        )
        notify.booking_confirmed(appointment, base_url=base_url)
        _assign_questionnaires(appointment, actor=actor)
        return appointment
    raise last_error or Conflict(UNAVAILABLE, field="starts_at")


@transaction.atomic(durable=True)
def book_appointment(
    *,
    actor: User,
    clinic: Clinic,
    patient: Patient,
    appointment_type: AppointmentType,
    starts_at: datetime,
    clinician: User | None = None,
    room: Room | None = None,
    reason: str = "",
    source: str = Source.STAFF,
    override_reason: str = "",
    indication: str = "",
    base_url: str = "",
) -> Appointment:
    """Staff (UI or API) book a patient into a free slot. Notice does not apply to staff."""
    _require(actor, Perm.SCHEDULE_BOOK, clinic.pk)
    if patient.clinic.practice_id != clinic.practice_id:
        raise ValidationError({"patient_id": ["Choose a patient of this practice."]})
    if appointment_type.kind == Kind.TREATMENT:
        refuse_second_treatment(patient, indication or _default_indication(patient))
    return _create(
        actor=actor,
        clinic=clinic,
        patient=patient,
        appointment_type=appointment_type,
        starts_at=starts_at,
        clinician_id=clinician.pk if clinician else None,
        room_id=room.pk if room else None,
        reason=reason,
        source=source,
        override_reason=override_reason,
        indication=indication,
        contact_consent=True,
        apply_notice=False,
        base_url=base_url or links.public_base_url(),
    )
