"""Public online booking: rate limits, matching a visitor to a patient, prospective patients."""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from bontrack.audit import audit
from bontrack.core.models import Clinic
from bontrack.patients.choices import PatientStatus
from bontrack.patients.models import Patient, name_key
from bontrack.patients.services import Conflict
from bontrack.scheduling.actions.booking import UNAVAILABLE, _create
from bontrack.scheduling.availability import zone
from bontrack.scheduling.models import (
    Appointment,
    AppointmentType,
    MatchStatus,
    PendingMatch,
    PublicHit,
    Source,
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
    first_name, last_name = first_name.strip(), last_name.strip()
    email, phone = email.strip(), phone.strip()
    match = find_match(
        practice_id=clinic.practice_id,
        first_name=first_name,
        last_name=last_name,
        date_of_birth=date_of_birth,
        email=email,
        phone=phone,
    )
    patient = _create_prospective(
        clinic=clinic,
        first_name=first_name,
        last_name=last_name,
        date_of_birth=date_of_birth,
        email=email,
        phone=phone,
    )
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
