"""Demo data for front desk and patient access (issue 11): insurance and addresses on the demo
charts, the practice's MRN format, a likely-duplicate pair for the front desk to merge (both charts
with a given session),
waitlist offers sent through the outbox, and a video visit for dr.lee that can be joined now."""

from __future__ import annotations

import random
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction

from bontrack.accounts.models import User
from bontrack.accounts.roles import Role
from bontrack.core.models import Clinic, Practice
from bontrack.inventory.choices import VialStatus
from bontrack.inventory.models import Vial
from bontrack.patients.models import MrnFormat, Patient
from bontrack.scheduling import links, notify
from bontrack.scheduling.availability import find_slots
from bontrack.scheduling.models import (
    Appointment,
    AppointmentType,
    Source,
    Status,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)
from bontrack.treatments import facts
from bontrack.treatments.actions.orders import order_deviations
from bontrack.treatments.choices import SessionStatus
from bontrack.treatments.models import Injection, TreatmentSession, VialUse

PAYERS = [
    ("Blue Cross Blue Shield", "BCB"),
    ("Aetna", "AET"),
    ("UnitedHealthcare", "UHC"),
    ("Cigna", "CIG"),
    ("Humana", "HUM"),
    ("Medicare Part B", "MCR"),
]
STREETS = ["Maple Avenue", "Oak Street", "Elm Road", "Lakeview Drive", "Cedar Lane", "Main Street"]
CITIES = [("Springfield", "IL", "627"), ("Riverton", "IL", "625"), ("Lincoln", "IL", "626")]


def _insure(practice: Practice, rng: random.Random, today: date) -> None:
    patients = list(Patient.objects.filter(practice=practice).order_by("id"))
    for p in patients:
        payer, code = rng.choice(PAYERS)
        city, state, zip3 = rng.choice(CITIES)
        age = today.year - p.date_of_birth.year
        p.address_line1 = f"{rng.randint(10, 2999)} {rng.choice(STREETS)}"
        p.city, p.state, p.postal_code = city, state, f"{zip3}{rng.randint(10, 99)}"
        p.insurance_payer = payer
        p.insurance_member_id = f"{code}{rng.randint(10**7, 10**8 - 1)}"
        p.insurance_group = "" if code == "MCR" else f"G{rng.randint(1000, 9999)}"
        if age < 18:
            p.subscriber_name = f"{rng.choice(['Ana', 'Mark', 'Lena', 'Omar'])} {p.last_name}"
            p.subscriber_relationship = "parent"
        else:
            p.subscriber_name, p.subscriber_relationship = p.full_name, "self"
    Patient.objects.bulk_update(
        patients,
        [
            "address_line1",
            "city",
            "state",
            "postal_code",
            "insurance_payer",
            "insurance_member_id",
            "insurance_group",
            "subscriber_name",
            "subscriber_relationship",
        ],
        batch_size=500,
    )


def _mrn_format(practice: Practice) -> MrnFormat:
    numbers = [
        int(m.group(1))
        for mrn in Patient.objects.filter(practice=practice, mrn__startswith="LN").values_list(
            "mrn", flat=True
        )
        if (m := re.fullmatch(r"LN([0-9]{7})", mrn))
    ]
    fmt, _ = MrnFormat.objects.update_or_create(
        practice=practice,
        defaults={"prefix": "LN", "digits": 7, "next_number": max(numbers, default=0) + 1},
    )
    return fmt


ACCENTED = {"a": "á", "e": "é", "i": "í", "o": "ó", "u": "ú"}


def _accented(name: str) -> str:
    for plain, accent in ACCENTED.items():
        if plain in name[1:]:
            i = name.index(plain, 1)
            return name[:i] + accent + name[i + 1 :]
    return name


def _duplicate_pair(clinic: Clinic, fmt: MrnFormat) -> tuple[Patient, Patient] | None:
    """A second chart of an existing Northside patient, made at the desk months later: the
    first name with an accent, the last name in capitals, the same date of birth and phone."""
    original = Patient.objects.filter(clinic=clinic, status="active").order_by("id")[20:21].first()
    if original is None:
        return None
    duplicate = Patient.objects.create(
        practice_id=clinic.practice_id,
        clinic=clinic,
        mrn=fmt.format(fmt.next_number),
        first_name=_accented(original.first_name),
        last_name=original.last_name.upper(),
        date_of_birth=original.date_of_birth,
        sex=original.sex,
        phone=original.phone,
        email="",
        preferred_contact="sms",
        status="active",
        insurance_payer=original.insurance_payer,
        insurance_member_id=original.insurance_member_id,
    )
    fmt.next_number += 1
    fmt.save(update_fields=["next_number"])
    return original, duplicate


def session_on_duplicate(pair: tuple[Patient, Patient] | None) -> None:
    """The second chart already holds a treatment: the cycle before the original chart's first
    one, charted by the clinic's nurse on the new chart by mistake (same sites and vial). The new
    chart has no order, so the session awaits a physician's co-signature (not billed yet, no
    insurance coverage of its own). Merging the charts moves it to the original chart with
    everything else. Seeded after the claims demo."""
    if pair is None:
        return
    original, duplicate = pair
    nurse = (
        User.objects.filter(memberships__role=Role.NURSE, memberships__clinic=duplicate.clinic)
        .order_by("pk")
        .first()
    )
    if nurse is None:
        return
    first = (
        TreatmentSession.objects.filter(patient=original, status=SessionStatus.SIGNED)
        .select_related("signed_by")
        .order_by("performed_at")
        .first()
    )
    if first is None:
        return
    performed = first.performed_at - timedelta(weeks=12)
    session = TreatmentSession.objects.create(
        patient=duplicate,
        clinic=duplicate.clinic,
        indication=first.indication,
        indications=first.indications,
        product=first.product,
        performed_at=performed,
        plan=None,
        consent_obtained=True,
        medication_guide_offered=True,
        diluent=first.diluent,
        note="Charted on a second chart made at the front desk.",
        created_by=nurse,
    )
    Injection.objects.bulk_create(
        Injection(
            session=session,
            indication=i.indication,
            muscle=i.muscle,
            side=i.side,
            sites=i.sites,
            units=i.units,
            status=i.status,
            position=i.position,
            dilution=i.dilution,
            guidance=i.guidance,
        )
        for i in first.injections.all()
    )
    use = first.vial_uses.select_related("vial").first()
    if use is not None:
        VialUse.objects.create(
            vial=Vial.objects.create(
                lot_id=use.vial.lot_id,
                clinic=duplicate.clinic,
                status=VialStatus.USED,
                patient=duplicate,
            ),
            session=session,
            reconstituted_at=performed - timedelta(minutes=30),
            diluent_ml=use.diluent_ml,
            units_used=use.units_used,
            units_wasted=use.units_wasted,
            opened_by=nurse,
        )
    # Signed by the clinic's nurse off an order (this chart has no plan): it awaits co-signature
    # (the reasons in words, as signing stores them), so it is not billed yet.
    injections = list(session.injections.all())
    result = facts.run_dose_check(
        session, injections, list(session.vial_uses.select_related("vial__lot"))
    )
    TreatmentSession.objects.filter(pk=session.pk).update(
        status=SessionStatus.AWAITING_COSIGN,
        signed_at=performed + timedelta(minutes=30),
        signed_by=nurse,
        cosign_reasons=[r.as_dict() for r in order_deviations(session, injections)],
        findings=result["findings"],
        totals=result.get("totals", {}),
        rule_set=",".join(result.get("rule_sets") or [result.get("rule_set", "")]),
    )


def _waitlist_offers(clinic: Clinic, today: date) -> int:
    """Offer the earliest free treatment time to the first two waiting patients (through the
    outbox, as a cancellation would)."""
    treatment = AppointmentType.objects.get(clinic=clinic, code="treatment")
    entries = list(
        WaitlistEntry.objects.filter(
            clinic=clinic, appointment_type=treatment, status=WaitlistStatus.WAITING
        )
        .select_related("patient")
        .order_by("id")[:2]
    )
    slots = find_slots(
        clinic=clinic,
        appointment_type=treatment,
        start=today + timedelta(days=2),
        end=today + timedelta(days=9),
        now=datetime.now(UTC),
        limit=1,
    )
    if not entries or not slots:
        return 0
    slot = slots[0]
    when = slot.starts_at.astimezone(ZoneInfo(clinic.time_zone)).strftime(
        "%A %d %B %Y at %H:%M (%Z)"
    )
    with transaction.atomic():
        for entry in entries:
            offer = WaitlistOffer.objects.create(
                entry=entry,
                clinician_id=slot.clinician_id,
                room_id=slot.room_id,
                starts_at=slot.starts_at,
                expires_at=min(datetime.now(UTC) + timedelta(hours=12), slot.starts_at),
            )
            notify.waitlist_offer(
                patient=entry.patient,
                clinic=clinic,
                when=when,
                url=f"{links.public_base_url()}/book/offer/{links.offer_token(offer.pk)}/",
                offer_id=offer.pk,
            )
    return len(entries)


def _video_now(clinic: Clinic, doctor: User, today: date) -> Appointment | None:
    """A video follow-up with dr.lee starting in a few minutes (whatever the day or the hours, like
    the demo's other video visit): "Join video" is live on the calendar and the chart."""
    video = AppointmentType.objects.filter(clinic=clinic, code="follow-up-video").first()
    if video is None:
        return None
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start = now + timedelta(minutes=5 - now.minute % 5)
    for attempt in range(8):
        s = start + timedelta(minutes=30 * attempt)
        e = s + timedelta(minutes=video.duration_minutes)
        busy = Appointment.objects.filter(
            status__in=[Status.BOOKED, Status.CHECKED_IN, Status.COMPLETED],
            starts_at__lt=e,
            ends_at__gt=s,
        ).values("patient_id")
        patient = (
            Patient.objects.filter(clinic=clinic, status="active")
            .exclude(pk__in=busy)
            .order_by("id")[30:31]
            .first()
        )
        if patient is None:
            return None
        try:
            with transaction.atomic():
                return Appointment.objects.create(
                    practice_id=clinic.practice_id,
                    clinic=clinic,
                    patient=patient,
                    clinician=doctor,
                    appointment_type=video,
                    starts_at=s,
                    ends_at=e,
                    block_start=s - timedelta(minutes=video.buffer_before_minutes),
                    block_end=e + timedelta(minutes=video.buffer_after_minutes),
                    status=Status.BOOKED,
                    source=Source.STAFF,
                    video_token=links.new_video_token(),
                    reason="Video follow-up four weeks after the treatment",
                    contact_consent=True,
                )
        except IntegrityError:  # the clinician is busy then: try half an hour later
            continue
    return None


def seed_demo_access(
    *, practice: Practice, rng: random.Random, today: date
) -> tuple[Patient, Patient] | None:
    """Returns the likely-duplicate pair (original, second chart) for `session_on_duplicate`."""
    _insure(practice, rng, today)
    fmt = _mrn_format(practice)
    north = Clinic.objects.filter(practice=practice, slug="northside").first()
    if north is None:
        return None
    pair = _duplicate_pair(north, fmt)
    _waitlist_offers(north, today)
    doctor = User.objects.filter(practice=practice, username="dr.lee").first()
    if doctor is not None:
        _video_now(north, doctor, today)
    return pair
