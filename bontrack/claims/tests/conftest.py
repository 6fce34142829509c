"""Fixtures for the claims tests: signed sessions built row by row (vials settled as signing
settles them), coverage and the practice's billing profile."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from bontrack.claims.models import BillingProfile, Coverage
from bontrack.inventory.choices import VialStatus
from bontrack.inventory.models import Lot, Vial
from bontrack.patients.models import Condition
from bontrack.treatments import facts as treatment_facts
from bontrack.treatments.choices import SessionStatus
from bontrack.treatments.models import Injection, TreatmentSession, VialUse

NDC = {100: "0023-1145-01", 200: "0023-3921-02"}
FEES = {
    "64612": "210.00",
    "64615": "350.00",
    "64616": "300.00",
    "64642": "280.00",
    "64643": "190.00",
    "64644": "320.00",
    "64645": "220.00",
    "95874": "120.00",
    "95873": "110.00",
    "J0585": "6.50",
}


def profile(practice) -> BillingProfile:  # type: ignore[no-untyped-def]
    return BillingProfile.objects.get_or_create(
        practice=practice,
        defaults={
            "name": "Lakeside Neurology Associates",
            "npi": "1234567893",
            "tax_id": "123456789",
            "address": "120 Maple Ave",
            "city": "Springfield",
            "state": "IL",
            "zip_code": "627011234",
            "phone": "5552011000",
            "contact": "Henry Wu",
            "submitter_id": "LAKESIDE01",
            "receiver_name": "Demo Clearinghouse",
            "receiver_id": "CLEARHOUSE01",
            "fees": FEES,
        },
    )[0]


def cover(patient) -> Coverage:  # type: ignore[no-untyped-def]
    return Coverage.objects.get_or_create(
        patient=patient,
        defaults={
            "payer_name": "Medicare Part B",
            "payer_id": "12345",
            "member_id": "1EG4TE5MK73",
            "address": "14 Elm St",
            "city": "Springfield",
            "state": "IL",
            "zip_code": "62701",
        },
    )[0]


def diagnose(patient, indication: str, code: str) -> None:  # type: ignore[no-untyped-def]
    Condition.objects.get_or_create(patient=patient, indication=indication, icd10_code=code)


def lot(practice, size: int) -> Lot:  # type: ignore[no-untyped-def]
    return Lot.objects.get_or_create(
        practice=practice,
        product="onabotulinumtoxinA",
        lot_number=f"T{size}",
        defaults={
            "ndc": NDC[size],
            "expiry": timezone.localdate() + timedelta(days=300),
            "size_units": size,
        },
    )[0]


def session(  # type: ignore[no-untyped-def]
    patient,
    sites: list[tuple[str, str, str, float]],
    vials: list[int],
    *,
    status: str = SessionStatus.SIGNED,
    performed_at: datetime | None = None,
    signer=None,
    amends: TreatmentSession | None = None,
    guidance: list[str] | None = None,
) -> TreatmentSession:
    """A session with sites (indication, muscle, side, units) drawn from vials of these sizes,
    settled as signing settles them (clinic_rules' vial use), stored as signed."""
    performed_at = performed_at or timezone.now() - timedelta(days=1)
    if signer is None:
        from bontrack.accounts.models import User

        signer = User.objects.filter(memberships__role="physician").order_by("id").first()
    indications = list(dict.fromkeys(s[0] for s in sites))
    s = TreatmentSession.objects.create(
        patient=patient,
        clinic=patient.clinic,
        indication=indications[0],
        indications=indications,
        performed_at=performed_at,
        consent_obtained=True,
        medication_guide_offered=True,
        amends=amends,
        amendment_reason="Side corrected" if amends else "",
    )
    Injection.objects.bulk_create(
        [
            Injection(
                session=s,
                indication=ind,
                muscle=m,
                side=side,
                units=Decimal(str(u)),
                position=i,
                guidance=(guidance or [""] * len(sites))[i],
            )
            for i, (ind, m, side, u) in enumerate(sites)
        ]
    )
    made = [
        Vial.objects.create(
            lot=lot(patient.practice, size),
            clinic=patient.clinic,
            status=VialStatus.USED,
            patient=patient,
        )
        for size in vials
    ]
    given = sum((Decimal(str(x[3])) for x in sites), Decimal(0))
    uses = [
        VialUse(
            vial=v,
            session=s,
            reconstituted_at=performed_at - timedelta(minutes=30),
            diluent_ml=Decimal("4"),
        )
        for v in made
    ]
    for use, (used, wasted) in zip(uses, treatment_facts.vial_use(made, given), strict=True):
        use.units_used, use.units_wasted = used, wasted
    VialUse.objects.bulk_create(uses)
    TreatmentSession.objects.filter(pk=s.pk).update(
        status=status,
        signed_at=performed_at + timedelta(minutes=20),
        signed_by=signer,
        rule_set="test",
    )
    s.refresh_from_db()
    return s
