"""Public online booking: rate limits, matching a visitor to a patient, prospective patients."""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from bontrack.accounts.services import invite_to_portal
from bontrack.audit import audit
from bontrack.core.models import Clinic
from bontrack.patients.choices import Indication, PatientStatus
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

# A second free consultation by the same person within this many days is offered as a move of
# the first one instead (program policy, not a clinical number; setting FREE_CONSULT_REPEAT_DAYS).
FREE_CONSULT_REPEAT_DAYS_DEFAULT = 30


def free_consult_repeat_days() -> int:
    from django.conf import settings

    return int(getattr(settings, "FREE_CONSULT_REPEAT_DAYS", 0) or FREE_CONSULT_REPEAT_DAYS_DEFAULT)


class RepeatFreeConsultation(Conflict):
    """The booker already has a free consultation (booked, or held within the period)."""

    def __init__(self, earlier: Appointment) -> None:
        super().__init__(
            "You already have a free consultation with us. We have e-mailed you a link to move "
            "it to the time you chose instead.",
            field="starts_at",
        )
        self.earlier = earlier


def earlier_free_consultation(
    *,
    clinic: Clinic,
    first_name: str,
    last_name: str,
    date_of_birth: date,
    email: str,
) -> Appointment | None:
    """The same person's free consultation of this practice that is booked, or took place within
    the period: same e-mail, or same name and date of birth."""
    from django.db.models import Q

    from bontrack.scheduling.models import HOLDING

    since = timezone.now() - timedelta(days=free_consult_repeat_days())
    same = Q(
        patient__name_key=name_key(last_name, first_name), patient__date_of_birth=date_of_birth
    )
    if email:
        same |= Q(patient__email__iexact=email)
    return (
        Appointment.objects.filter(
            same,
            practice_id=clinic.practice_id,
            appointment_type__free_of_charge=True,
            status__in=HOLDING,
            starts_at__gte=since,
        )
        .select_related("clinic", "appointment_type", "patient")
        .order_by("-starts_at")
        .first()
    )


@transaction.atomic(durable=True)
def send_move_link(*, earlier: Appointment, wanted: datetime, base_url: str) -> None:
    """E-mail the earlier booking's own address a link that proposes moving it to `wanted`
    (the booker sees nothing of the earlier booking on the page)."""
    from bontrack.core.messaging.outbox import enqueue_message
    from bontrack.scheduling import links, notify

    if not earlier.patient.email:
        return
    slot = wanted.strftime("%Y%m%dT%H%MZ")
    url = f"{base_url}/book/manage/{links.manage_token(earlier.pk, earlier.sequence)}/?slot={slot}"
    enqueue_message(
        channel="email",
        to=earlier.patient.email,
        subject="Move your free consultation?",
        body=(
            f"Hello {earlier.patient.first_name},\n\nYou tried to book another free "
            f"consultation. You already have one: {notify.local_time(earlier)}.\n\n"
            f"To move it to the time you chose, open:\n{url}\n\nIf this was not you, "
            "ignore this message; nothing was changed.\n"
        ),
        dedupe_key=f"repeat-consult:{earlier.pk}:{earlier.sequence}:{slot}",
        send_after=timezone.now(),
        patient=earlier.patient,
    )


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

    from bontrack.patients.duplicates import digits, fold

    # Names compare with accents and case folded ("José MÜLLER" = "Jose Muller"), phones by digits.
    key = (fold(first_name), fold(last_name))
    number = digits(phone)
    query = Q(date_of_birth=date_of_birth)
    if email:
        query |= Q(email__iexact=email)
    if len(number) >= 7:
        query |= Q(phone__endswith=number[-4:])
    awaiting = PendingMatch.objects.filter(
        status=MatchStatus.PENDING, booked_patient__isnull=False
    ).values("booked_patient_id")
    candidates = list(
        Patient.objects.filter(query, practice_id=practice_id)
        .exclude(pk__in=awaiting)
        .exclude(status=PatientStatus.MERGED)
        .order_by("id")[:50]
    )
    best: tuple[Patient, list[str]] | None = None
    for candidate in candidates:
        matched = []
        if (
            fold(candidate.first_name),
            fold(candidate.last_name),
        ) == key and candidate.date_of_birth == date_of_birth:
            matched.append("name_and_birth_date")
        if email and candidate.email.lower() == email.lower():
            matched.append("email")
        if len(number) >= 7 and digits(candidate.phone) == number:
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
    indication: str = "",
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
    if appointment_type.free_of_charge:
        earlier = earlier_free_consultation(
            clinic=clinic,
            first_name=first_name,
            last_name=last_name,
            date_of_birth=date_of_birth,
            email=email,
        )
        if earlier is not None:
            raise RepeatFreeConsultation(earlier)
    if indication not in Indication.values:
        indication = ""
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
            indication=indication,
            contact_consent=True,
            apply_notice=True,
            base_url=base_url,
        )
    except Conflict as exc:
        raise Conflict(UNAVAILABLE, field="starts_at") from exc
    if match is None:
        # A new person: their portal, so that the diary and questionnaires start before the
        # visit. (A booking that matches a chart waits for the front desk, who may move it to
        # the existing chart; that patient is invited from there.)
        invite_to_portal(patient=patient, base_url=base_url)
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
