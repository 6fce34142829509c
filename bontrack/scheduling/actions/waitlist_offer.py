"""A patient takes a slot offered from the waitlist: book it, close the request, cancel the later visit."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from bontrack.patients.services import Conflict
from bontrack.scheduling.actions.booking import _create
from bontrack.scheduling.actions.changes import _cancel, _locked
from bontrack.scheduling.models import (
    Appointment,
    CancelReason,
    Source,
    Status,
    WaitlistOffer,
    WaitlistStatus,
)


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
    if entry.current_appointment is not None:
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
