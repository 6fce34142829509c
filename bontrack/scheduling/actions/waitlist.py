"""The waitlist: joining, leaving, offering a freed slot and accepting an offer."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from bontrack.accounts.access import require_clinic_perm as _require
from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.patients.models import Patient
from bontrack.patients.services import Conflict
from bontrack.scheduling import links, notify
from bontrack.scheduling.availability import settings_for, zone
from bontrack.scheduling.models import (
    Appointment,
    AppointmentType,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)

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
            offer_id=offer.pk,
        )
    return len(offers)
