"""Every change to the schedule: one durable transaction, its audit row and its outbox rows inside.

Double booking is refused by the database (exclusion constraints / triggers, migration 0002);
the services translate the violation into `Conflict` (HTTP 409). Availability rules (working
hours, notice, horizon) are checked against the same slot computation the pages show.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from bontrack.accounts.access import require_clinic_perm as _require
from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.core.models import Clinic, OutboxMessage
from bontrack.patients.choices import PatientStatus
from bontrack.patients.models import Condition, Patient, name_key
from bontrack.patients.services import Conflict
from bontrack.scheduling import facts, links, notify
from bontrack.scheduling.availability import find_slots, settings_for, zone
from bontrack.scheduling.models import (
    HOLDING,
    Appointment,
    AppointmentType,
    AvailabilityException,
    CalendarFeed,
    CancelReason,
    Kind,
    MatchStatus,
    NoShowReason,
    PendingMatch,
    ProgramPage,
    PublicHit,
    Room,
    SchedulingSettings,
    Source,
    Status,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
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
        indication, pediatric=facts.is_pediatric(facts.age_on(patient.date_of_birth, day))
    )
    earliest, _, _ = facts.due_dates(last, interval, tz)
    if day >= earliest or not interval.enforce:
        return None
    if not override_reason.strip():
        raise ValidationError(
            {
                "starts_at": [
                    f"Too early: the last signed session was {last.astimezone(tz).date()}; "
                    f"{indication.replace('_', ' ')} may be re-treated from {earliest} "
                    f"({interval.rule_id}). A physician may override with a reason."
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


def _default_indication(patient: Patient) -> str:
    cond = Condition.objects.filter(patient=patient, active=True).order_by("id").first()
    return cond.indication if cond else ""


def _assign_questionnaires(appointment: Appointment, *, actor: User | None) -> None:
    """A treatment for a patient with active chronic migraine: assign the pre-treatment
    questionnaires (diaries app) for the appointment's local date, in the booking's transaction
    (so a refused booking assigns nothing). Idempotent; skipped if the diaries app is absent."""
    if appointment.appointment_type.kind != Kind.TREATMENT or not facts.diaries_ready():
        return
    if not Condition.objects.filter(
        patient_id=appointment.patient_id, indication="chronic_migraine", active=True
    ).exists():
        return
    from bontrack.diaries.services import assign_pre_treatment

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


# --- Public online booking ----------------------------------------------------------------

RATE_LIMIT = {"book": (10, timedelta(hours=1)), "manage": (30, timedelta(hours=1))}


def rate_limited(*, ip: str | None, action: str) -> bool:
    """Record one public write from `ip`; True when it is over the limit (in its own transaction)."""
    if not ip:
        return False
    limit, period = RATE_LIMIT[action]
    now = timezone.now()
    with transaction.atomic():
        recent = PublicHit.objects.filter(ip=ip, action=action, at__gte=now - period).count()
        if recent >= limit:
            return True
        PublicHit.objects.create(ip=ip, action=action, at=now)
        PublicHit.objects.filter(at__lt=now - timedelta(days=1)).delete()
    return False


def find_match(
    *,
    practice_id: int,
    first_name: str,
    last_name: str,
    date_of_birth: date,
    email: str,
    phone: str,
) -> tuple[Patient, list[str]] | None:
    """The existing chart these booking details point at, and which details matched.

    A match is the same name and date of birth, the same e-mail, or the same phone number. Charts
    that were themselves created by an online booking still awaiting a decision are not candidates.
    """
    from django.db.models import Q

    key = name_key(last_name, first_name)
    query = Q(name_key=key, date_of_birth=date_of_birth)
    if email:
        query |= Q(email__iexact=email)
    if phone:
        query |= Q(phone=phone)
    awaiting = PendingMatch.objects.filter(
        status=MatchStatus.PENDING, booked_patient__isnull=False
    ).values("booked_patient_id")
    candidates = list(
        Patient.objects.filter(query, practice_id=practice_id)
        .exclude(pk__in=awaiting)
        .order_by("id")[:20]
    )
    best: tuple[Patient, list[str]] | None = None
    for candidate in candidates:
        matched = []
        if candidate.name_key == key and candidate.date_of_birth == date_of_birth:
            matched.append("name_and_birth_date")
        if email and candidate.email.lower() == email.lower():
            matched.append("email")
        if phone and candidate.phone == phone:
            matched.append("phone")
        if matched and (best is None or len(matched) > len(best[1])):
            best = (candidate, matched)
    return best


def _create_prospective(
    *,
    clinic: Clinic,
    first_name: str,
    last_name: str,
    date_of_birth: date,
    email: str,
    phone: str,
) -> Patient:
    patient = Patient(
        practice_id=clinic.practice_id,
        clinic=clinic,
        mrn=f"W{secrets.randbelow(10**8):08d}",
        first_name=first_name,
        last_name=last_name,
        date_of_birth=date_of_birth,
        email=email,
        phone=phone,
        status=PatientStatus.PROSPECTIVE,
    )
    patient.full_clean()
    patient.save()
    audit.record(
        actor=None,
        action="create",
        obj=patient,
        changes={"status": [None, PatientStatus.PROSPECTIVE], "source": [None, "online booking"]},
        summary="Prospective patient from online booking (to verify)",
    )
    return patient


@transaction.atomic(durable=True)
def book_online(
    *,
    clinic: Clinic,
    appointment_type: AppointmentType,
    starts_at: datetime,
    first_name: str,
    last_name: str,
    date_of_birth: date,
    email: str,
    phone: str = "",
    reason: str = "",
    consent: bool,
    base_url: str,
) -> Appointment:
    """A member of the public books a self-bookable type (no account).

    The booking is always made on a new prospective chart. When its details match an existing
    chart, a `PendingMatch` waits for the front desk (`confirm_match` / `reject_match`); the booker
    sees the same confirmation either way and nothing of the existing chart.
    """
    if not appointment_type.self_bookable:
        raise ValidationError({"appointment_type": ["This type cannot be booked online."]})
    if not consent:
        raise ValidationError({"consent": ["Please agree to be contacted about this booking."]})
    today = timezone.now().astimezone(zone(clinic)).date()
    if date_of_birth >= today or date_of_birth.year < 1900:
        raise ValidationError({"date_of_birth": ["Enter your real date of birth."]})
    details = {
        "first_name": first_name.strip(),
        "last_name": last_name.strip(),
        "date_of_birth": date_of_birth,
        "email": email.strip(),
        "phone": phone.strip(),
    }
    match = find_match(practice_id=clinic.practice_id, **details)
    patient = _create_prospective(clinic=clinic, **details)
    try:
        appointment = _create(
            actor=None,
            clinic=clinic,
            patient=patient,
            appointment_type=appointment_type,
            starts_at=starts_at,
            clinician_id=None,
            room_id=None,
            reason=reason,
            source=Source.ONLINE,
            override_reason="",
            indication="",
            contact_consent=True,
            apply_notice=True,
            base_url=base_url,
        )
    except Conflict as exc:
        raise Conflict(UNAVAILABLE, field="starts_at") from exc
    if match is not None:
        pending = PendingMatch.objects.create(
            practice_id=clinic.practice_id,
            clinic=clinic,
            appointment=appointment,
            booked_patient=patient,
            matched_patient=match[0],
            matched_on=match[1],
        )
        audit.record(
            actor=None,
            action="create",
            obj=pending,
            patient_id=match[0].pk,
            changes={"matched_on": [None, match[1]], "booked_patient_id": [None, patient.pk]},
            summary="Online booking matches an existing chart: awaiting the front desk",
        )
    return appointment


def _decidable(actor: User, match: PendingMatch) -> PendingMatch:
    locked = (
        PendingMatch.objects.select_for_update(of=("self",))
        .select_related("matched_patient", "booked_patient")
        .get(pk=match.pk)
    )
    _require(actor, Perm.PATIENT_EDIT, locked.clinic_id)
    _require(actor, Perm.PATIENT_EDIT, locked.matched_patient.clinic_id)
    if locked.status != MatchStatus.PENDING:
        raise Conflict("This booking was already decided.", field="status")
    return locked


@transaction.atomic(durable=True)
def confirm_match(*, actor: User, match: PendingMatch) -> PendingMatch:
    """Same person: the booking's appointments move to the existing chart and the chart the
    booking created is removed, so that no duplicate is left."""
    from django.db.models import ProtectedError

    m = _decidable(actor, match)
    existing, booked = m.matched_patient, m.booked_patient
    if booked is not None:
        for appointment in Appointment.objects.select_for_update().filter(patient=booked):
            appointment.patient = existing
            try:
                with transaction.atomic():
                    appointment.save(update_fields=["patient"])
            except IntegrityError as exc:
                if overlap_conflict(exc) is None:
                    raise
                raise Conflict(
                    "The existing patient already has an appointment at that time. "
                    "Move one of them first.",
                    field="appointment",
                ) from exc
            audit.record(
                actor=actor,
                action="update",
                obj=appointment,
                changes={"patient_id": [booked.pk, existing.pk]},
                summary="Online booking moved to the existing chart",
            )
        OutboxMessage.objects.filter(patient=booked).update(patient=existing)
        WaitlistEntry.objects.filter(patient=booked).update(patient=existing)
        audit.record(
            actor=actor,
            action="delete",
            obj=booked,
            changes={"merged_into": [None, existing.pk]},
            summary="Removed the duplicate chart created by an online booking",
        )
        m.booked_patient = None
        m.save(update_fields=["booked_patient"])
        try:
            with transaction.atomic():
                booked.delete()
        except ProtectedError as exc:
            raise Conflict(
                "The chart created by the booking already holds other records; "
                "it cannot be removed here.",
                field="status",
            ) from exc
    m.status = MatchStatus.CONFIRMED
    m.decided_by = actor
    m.decided_at = timezone.now()
    m.save(update_fields=["status", "decided_by", "decided_at"])
    audit.record(
        actor=actor,
        action="update",
        obj=m,
        patient_id=existing.pk,
        changes={"status": [MatchStatus.PENDING, MatchStatus.CONFIRMED]},
        summary="Confirmed an online booking as an existing patient",
    )
    return m


@transaction.atomic(durable=True)
def reject_match(*, actor: User, match: PendingMatch) -> PendingMatch:
    """Different person: the booking keeps its new chart."""
    m = _decidable(actor, match)
    m.status = MatchStatus.REJECTED
    m.decided_by = actor
    m.decided_at = timezone.now()
    m.save(update_fields=["status", "decided_by", "decided_at"])
    audit.record(
        actor=actor,
        action="update",
        obj=m,
        patient_id=m.booked_patient_id,
        changes={"status": [MatchStatus.PENDING, MatchStatus.REJECTED]},
        summary="Kept an online booking as a new patient",
    )
    return m


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
    allowed = {
        Status.CHECKED_IN: {Status.BOOKED},
        Status.COMPLETED: {Status.BOOKED, Status.CHECKED_IN},
        Status.NO_SHOW: {Status.BOOKED},
    }
    if status not in allowed:
        raise ValidationError({"status": ["Choose check-in, completed or no-show."]})
    if locked.status not in allowed[status]:
        raise Conflict(f"The appointment is {locked.get_status_display().lower()}.", field="status")
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


# --- Waitlist ---------------------------------------------------------------------------


@transaction.atomic(durable=True)
def join_waitlist(
    *,
    actor: User,
    patient: Patient,
    appointment_type: AppointmentType,
    earliest: date,
    latest: date,
    current_appointment: Appointment | None = None,
) -> WaitlistEntry:
    _require(actor, Perm.SCHEDULE_BOOK, appointment_type.clinic_id)
    if latest < earliest:
        raise ValidationError({"latest": ["The last date must be on or after the first."]})
    if patient.practice_id != appointment_type.clinic.practice_id:
        raise ValidationError({"patient": ["Choose a patient of this practice."]})
    if WaitlistEntry.objects.filter(
        patient=patient,
        appointment_type=appointment_type,
        status=WaitlistStatus.WAITING,
        earliest__lte=latest,
        latest__gte=earliest,
    ).exists():
        raise Conflict("The patient is already waiting for these dates.", field="earliest")
    entry = WaitlistEntry.objects.create(
        clinic_id=appointment_type.clinic_id,
        patient=patient,
        appointment_type=appointment_type,
        earliest=earliest,
        latest=latest,
        current_appointment=current_appointment,
    )
    audit.record(
        actor=actor,
        action="create",
        obj=entry,
        clinic_id=entry.clinic_id,
        changes={"earliest": [None, earliest], "latest": [None, latest]},
        summary="Joined the waitlist",
    )
    return entry


@transaction.atomic(durable=True)
def leave_waitlist(*, actor: User, entry: WaitlistEntry) -> WaitlistEntry:
    """Staff take a patient off the waitlist (kept as cancelled, with its audit row)."""
    _require(actor, Perm.SCHEDULE_BOOK, entry.clinic_id)
    locked = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
    if locked.status != WaitlistStatus.WAITING:
        raise Conflict("This entry is no longer waiting.", field="status")
    locked.status = WaitlistStatus.CANCELLED
    locked.save(update_fields=["status"])
    audit.record(
        actor=actor,
        action="update",
        obj=locked,
        clinic_id=locked.clinic_id,
        changes={"status": [WaitlistStatus.WAITING, WaitlistStatus.CANCELLED]},
        summary="Removed from the waitlist",
    )
    return locked


def offer_freed_slot(appointment: Appointment, *, base_url: str) -> int:
    """Offer a just-freed slot to every matching waiting patient (inside the cancel's transaction)."""
    if appointment.starts_at <= timezone.now():
        return 0
    day = appointment.starts_at.astimezone(zone(appointment.clinic)).date()
    entries = list(
        WaitlistEntry.objects.filter(
            clinic_id=appointment.clinic_id,
            appointment_type_id=appointment.appointment_type_id,
            status=WaitlistStatus.WAITING,
            earliest__lte=day,
            latest__gte=day,
        )
        .exclude(patient_id=appointment.patient_id)
        .select_related("patient")[:20]
    )
    minutes = settings_for(appointment.clinic).waitlist_offer_minutes
    expires = min(timezone.now() + timedelta(minutes=minutes), appointment.starts_at)
    offers = WaitlistOffer.objects.bulk_create(
        [
            WaitlistOffer(
                entry=e,
                clinician_id=appointment.clinician_id,
                room_id=appointment.room_id,
                starts_at=appointment.starts_at,
                expires_at=expires,
            )
            for e in entries
        ]
    )
    for offer, entry in zip(offers, entries, strict=True):
        notify.waitlist_offer(
            patient=entry.patient,
            clinic=appointment.clinic,
            when=notify.local_time(appointment),
            url=f"{base_url}/book/offer/{links.offer_token(offer.pk)}/",
            key=f"offer:{offer.pk}",
        )
    return len(offers)


@transaction.atomic(durable=True)
def accept_offer(*, offer: WaitlistOffer, base_url: str) -> Appointment:
    """The patient confirms an offer: first confirmed wins (the overlap guard decides)."""
    offer = (
        WaitlistOffer.objects.select_for_update(of=("self",))
        .select_related("entry__patient", "entry__appointment_type", "entry__clinic")
        .get(pk=offer.pk)
    )
    if offer.accepted_at is not None:
        raise Conflict("You have already taken this slot.", field="offer")
    if offer.expires_at <= timezone.now():
        raise Conflict("This offer has expired.", field="offer")
    entry = offer.entry
    if entry.status != WaitlistStatus.WAITING:
        raise Conflict("This waitlist request is closed.", field="offer")
    appointment = _create(
        actor=None,
        clinic=entry.clinic,
        patient=entry.patient,
        appointment_type=entry.appointment_type,
        starts_at=offer.starts_at,
        clinician_id=offer.clinician_id,
        room_id=offer.room_id,
        reason="Earlier slot from the waitlist",
        source=Source.WAITLIST,
        override_reason="",
        indication="",
        contact_consent=True,
        apply_notice=False,
        base_url=base_url,
    )
    offer.accepted_at = timezone.now()
    offer.save(update_fields=["accepted_at"])
    entry.status = WaitlistStatus.BOOKED
    entry.save(update_fields=["status"])
    if entry.current_appointment_id:
        current = _locked(entry.current_appointment)
        if current.status == Status.BOOKED:
            _cancel(
                current,
                actor=None,
                reason=CancelReason.PATIENT_REQUEST,
                note="Moved earlier from the waitlist",
                base_url=base_url,
            )
    return appointment


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


# --- Calendar feeds -----------------------------------------------------------------------


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic(durable=True)
def create_feed(*, actor: User) -> str:
    """A new feed URL token for the actor's own calendar; earlier feeds stay until revoked."""
    if actor is None or actor.scope(Perm.SCHEDULE_VIEW) is None:
        raise PermissionDenied("Calendar feeds are for clinic staff.")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(24)
    feed = CalendarFeed.objects.create(clinician=actor, key_id=key_id, secret_hash=_hash(secret))
    audit.record(actor=actor, action="create", obj=feed, summary="Calendar feed created")
    return f"{key_id}.{secret}"


@transaction.atomic(durable=True)
def revoke_feed(*, actor: User, feed: CalendarFeed) -> None:
    if feed.clinician_id != actor.pk:
        raise PermissionDenied("Only the owner may revoke a feed.")
    feed.revoked_at = timezone.now()
    feed.save(update_fields=["revoked_at"])
    audit.record(
        actor=actor,
        action="update",
        obj=feed,
        changes={"revoked_at": [None, feed.revoked_at]},
        summary="Calendar feed revoked",
    )


def feed_for_token(token: str) -> CalendarFeed | None:
    key_id, _, secret = token.partition(".")
    feed = (
        CalendarFeed.objects.filter(key_id=key_id, revoked_at__isnull=True)
        .select_related("clinician")
        .first()
    )
    if feed is None or not secrets.compare_digest(feed.secret_hash, _hash(secret)):
        return None
    return feed


def feed_owner_is_active(feed: CalendarFeed) -> bool:
    owner = feed.clinician
    return owner.is_staff_member and owner.scope(Perm.SCHEDULE_VIEW) is not None


def record_feed_read(*, feed: CalendarFeed, appointments: int) -> None:
    """A feed read shows the owner's appointments (patient initials): one `export` row."""
    audit.record(
        actor=feed.clinician,
        action="export",
        obj=feed,
        practice_id=feed.clinician.practice_id,
        summary=f"Calendar feed read: {appointments} appointments",
    )


def record_feed_refused(*, feed: CalendarFeed) -> None:
    """A feed whose owner is no longer active answers 404 and leaves one (rate-limited) denied row."""
    from bontrack.audit.hooks import record_refusal

    record_refusal(
        key=f"feed:{feed.pk}",
        obj=feed,
        practice_id=feed.clinician.practice_id,
        summary=f"Calendar feed {feed.key_id} refused: its owner's account is not active",
    )


def record_read(*, actor: User | None, what: str, obj: Any = None, **ids: Any) -> None:
    """Audit a read of patient data (its own small transaction)."""
    with transaction.atomic():
        audit.record(actor=actor, action="view", obj=obj, summary=what, **ids)
