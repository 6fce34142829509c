"""Deciding a pending match from online booking: confirm or reject."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from bontrack.accounts.access import require_clinic_perm as _require
from bontrack.accounts.models import User
from bontrack.accounts.roles import Perm
from bontrack.audit import audit
from bontrack.core.models import OutboxMessage
from bontrack.patients.services import Conflict
from bontrack.scheduling.actions.booking import overlap_conflict
from bontrack.scheduling.models import (
    Appointment,
    MatchStatus,
    PendingMatch,
    WaitlistEntry,
)


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
