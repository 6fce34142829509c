"""Demo claims: the practice's billing profile (with a demo fee schedule), insurance for most
treated patients, a claim for every signed session, EMG guidance on some cervical dystonia claims,
two exported batches (one per clinic) with paid and denied claims, recent claims left ready and
the ones with something missing in "needs attention"."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

from bontrack.accounts.models import User
from bontrack.claims import registration
from bontrack.claims.actions.export import export_in_transaction
from bontrack.claims.actions.generate import apply, build, coverage_attention, create_claim
from bontrack.claims.actions.payer import denied_in_transaction, paid_in_transaction
from bontrack.claims.choices import ClaimStatus, FilingIndicator, Guidance
from bontrack.claims.models import BillingProfile, Claim, Coverage
from bontrack.core.models import Practice
from bontrack.inventory.choices import VialStatus
from bontrack.inventory.models import Lot, Vial
from bontrack.ops.demo.signing import mark_signed
from bontrack.ops.demo.treatment_history import _per_tenth_ml
from bontrack.patients.models import Patient
from bontrack.treatments import facts
from bontrack.treatments.models import Injection, TreatmentSession, VialUse

# Demo prices per unit of each code (a practice's own price list, not clinical numbers).
DEMO_FEES = {
    "64612": "210.00",
    "64615": "350.00",
    "64616": "300.00",
    "64617": "320.00",
    "64642": "280.00",
    "64643": "190.00",
    "64644": "320.00",
    "64645": "220.00",
    "64646": "260.00",
    "64647": "300.00",
    "95873": "110.00",
    "95874": "120.00",
    "76942": "95.00",
    "J0585": "6.50",
}
# Billing's own payer directory (electronic payer ID and claim filing indicator) for the payers
# the demo registrations name: what billing adds to the registration's insurance.
PAYER_DIRECTORY = {
    "Medicare Part B": ("00952", FilingIndicator.MEDICARE_B),
    "Blue Cross Blue Shield": ("00621", FilingIndicator.BLUE_CROSS),
    "Aetna": ("60054", FilingIndicator.COMMERCIAL),
    "UnitedHealthcare": ("87726", FilingIndicator.COMMERCIAL),
    "Cigna": ("62308", FilingIndicator.COMMERCIAL),
    "Humana": ("61101", FilingIndicator.COMMERCIAL),
}
DENIALS = [
    "CO-197: precertification or authorization absent.",
    "CO-16: the claim lacks information needed for adjudication (NDC quantity).",
]


CD, ULS = "cervical_dystonia", "upper_limb_spasticity"


def _signed(
    patient: Patient,
    sites: list[tuple[str, str, str, str]],
    sizes: list[int],
    day: date,
    signer: User | None,
    guidance: str = "",
) -> TreatmentSession:
    """A signed session (sites: indication, muscle, side, units) from single-dose vials of these
    sizes, settled as signing settles them."""
    from datetime import datetime, time, timedelta
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(patient.clinic.time_zone)
    performed = datetime.combine(day, time(10, 30), zone)
    indications = list(dict.fromkeys(x[0] for x in sites))
    session = TreatmentSession.objects.create(
        patient=patient,
        clinic=patient.clinic,
        indication=indications[0],
        indications=indications,
        performed_at=performed,
        consent_obtained=True,
        medication_guide_offered=True,
        created_by=signer,
    )
    Injection.objects.bulk_create(
        [
            Injection(
                session=session,
                indication=i,
                muscle=m,
                side=side,
                units=Decimal(u),
                position=n,
                guidance=guidance,
                dilution=_per_tenth_ml(i) if guidance else None,
            )
            for n, (i, m, side, u) in enumerate(sites)
        ]
    )
    lots = {
        lot.size_units: lot
        for lot in Lot.objects.filter(practice=patient.practice).order_by("-expiry")
    }
    vials = [
        Vial.objects.create(
            lot=lots[size], clinic=patient.clinic, status=VialStatus.USED, patient=patient
        )
        for size in sizes
    ]
    given = sum((Decimal(x[3]) for x in sites), Decimal(0))
    uses = []
    for vial, (used, wasted) in zip(vials, facts.vial_use(vials, given), strict=True):
        uses.append(
            VialUse(
                vial=vial,
                session=session,
                reconstituted_at=performed - timedelta(minutes=30),
                diluent_ml=Decimal("4"),
                units_used=used,
                units_wasted=wasted,
                opened_by=signer,
            )
        )
    VialUse.objects.bulk_create(uses)
    return mark_signed(session, signer, performed + timedelta(minutes=25), fallback_rule_set="demo")


def _untreated(practice: Practice, indication: str, n: int, around: date) -> list[Patient]:
    """Patients of the indication with no session within 12 weeks of `around` (so the example
    session keeps its interval), untreated ones first."""
    from datetime import timedelta

    from django.db.models import Count, Exists, OuterRef

    near = TreatmentSession.objects.filter(
        patient=OuterRef("pk"),
        performed_at__date__gt=around - timedelta(days=84),
        performed_at__date__lt=around + timedelta(days=84),
    )
    return list(
        Patient.objects.filter(
            practice=practice,
            status="active",
            conditions__indication=indication,
            conditions__active=True,
        )
        .exclude(Exists(near))
        .annotate(n_sessions=Count("treatment_sessions", distinct=True))
        .select_related("clinic", "practice")
        .order_by("n_sessions", "id")
        .distinct()[:n]
    )


def seed_coding_examples(practice: Practice, today: date) -> list[TreatmentSession]:
    """Sessions that show the coding cases: bilateral cervical dystonia with no waste (JZ) and EMG
    guidance, and upper limb spasticity in both arms (base and add-on code), no waste either."""
    from datetime import timedelta

    doctor = User.objects.filter(practice=practice, memberships__role="physician").first()
    made: list[TreatmentSession] = []
    cd = _untreated(practice, CD, 1, today - timedelta(days=9))
    if cd:
        s = _signed(
            cd[0],
            [
                (CD, "sternocleidomastoid", "left", "40"),
                (CD, "splenius_capitis", "left", "40"),
                (CD, "splenius_capitis", "right", "40"),
                (CD, "trapezius", "right", "40"),
                (CD, "levator_scapulae", "left", "40"),
            ],
            [200],
            today - timedelta(days=9),
            doctor,
            guidance="emg",
        )
        made.append(s)
    uls = _untreated(practice, ULS, 1, today - timedelta(days=6))
    if uls:
        # Both arms: five muscles on the right (base 64644), two on the left (add-on 64643).
        arm = ["biceps_brachii", "brachialis", "brachioradialis", "flexor_carpi_radialis"]
        sites = [(ULS, m, "right", "40") for m in [*arm, "flexor_carpi_ulnaris"]]
        sites += [(ULS, m, "left", "50") for m in arm[:2]]
        made.append(
            _signed(uls[0], sites, [200, 100], today - timedelta(days=6), doctor, guidance="estim")
        )
    return made


def coverage_from_registration(patient: Patient) -> Coverage:
    """The coverage billing saves after checking the registration (nothing typed twice): the
    registration's values plus billing's payer ID and filing indicator."""
    values = registration.values(patient)
    payer_id, filing = PAYER_DIRECTORY.get(
        values["payer_name"], ("99999", FilingIndicator.COMMERCIAL)
    )
    return Coverage(
        patient=patient,
        payer_id=payer_id,
        filing_indicator=filing,
        registration=values,
        **values,
    )


def seed_demo_claims(*, practice: Practice, rng: random.Random, today: date) -> dict[str, int]:
    billing = User.objects.filter(practice=practice, memberships__role="billing").first()
    examples = seed_coding_examples(practice, today)
    BillingProfile.objects.create(
        practice=practice,
        name="Lakeside Neurology Associates",
        npi="1234567893",
        tax_id="361234567",
        address="120 Maple Ave",
        city="Springfield",
        state="IL",
        zip_code="627011234",
        phone="5552011000",
        contact="Henry Wu",
        submitter_id="LAKESIDE01",
        receiver_name="Demo Clearinghouse",
        receiver_id="DEMOCLEAR",
        usage="T",
        fees=DEMO_FEES,
    )
    sessions = list(
        TreatmentSession.objects.claimable()
        .filter(patient__practice=practice)
        .select_related("patient", "clinic")
        .order_by("performed_at", "id")
    )
    patients = sorted({s.patient_id for s in sessions})
    # Every seventh treated patient's insurance is not checked by billing yet (their claims need
    # attention; the insurance page starts from the registration).
    treated = list(Patient.objects.filter(pk__in=patients).order_by("pk"))
    # The children on a parent's plan (registration subscriber filled): the first is checked by
    # billing, so its claim goes out in a batch as the subscriber's dependent.
    children = [p.pk for p in treated if p.subscriber_relationship not in ("", "self")]
    unchecked = set(patients[3::7]) - set(children[:1])
    covers = [
        coverage_from_registration(p)
        for p in treated
        if p.pk not in unchecked and p.insurance_payer
    ]
    Coverage.objects.bulk_create(covers)
    claims = [c for c in (create_claim(s, None) for s in sessions) if c is not None]
    # The procedure notes of some cervical dystonia sessions document needle EMG guidance.
    cd = [c for c in claims if c.indications == [CD]]
    emg = {c.pk: c for c in cd[::2]}
    emg.update({c.pk: c for c in claims if examples and c.session_id == examples[0].pk})
    for claim in emg.values():
        claim.guidance = Guidance.EMG
        apply(claim, build(claim.session, Guidance.EMG), practice.pk, [])
        reasons = coverage_attention(claim.patient)
        if reasons:
            claim.attention = [*claim.attention, *reasons]
            claim.status = ClaimStatus.NEEDS_ATTENTION
        claim.save()
    counts = {"claims": len(claims)}
    if billing is None:
        return counts
    ready = list(
        Claim.objects.filter(clinic__practice=practice, status=ClaimStatus.READY).order_by(
            "service_date", "id"
        )
    )
    # The older two thirds went out in two batches (one per clinic); recent ones stay ready.
    cut = ready[: (len(ready) * 2) // 3]
    # The dependent child's oldest ready claim goes out too (an 837P with a 2000C patient loop).
    cut += [c for c in ready if c.patient_id in children[:1] and c not in cut][:1]
    batches = 0
    for clinic_id in sorted({c.clinic_id for c in cut}):
        only = [c.pk for c in cut if c.clinic_id == clinic_id]
        export_in_transaction(actor=billing, clinic_id=clinic_id, only=only)
        batches += 1
    exported = list(
        Claim.objects.filter(clinic__practice=practice, status=ClaimStatus.EXPORTED)
        .select_related("clinic")
        .order_by("service_date", "id")
    )
    answered = exported[: (len(exported) * 3) // 4]
    denied = answered[5::9][: len(DENIALS) + 2]
    for n, claim in enumerate(denied):
        denied_in_transaction(actor=billing, claim=claim, reason=DENIALS[n % len(DENIALS)])
    for claim in answered:
        if claim in denied:
            continue
        total = sum((x.charge for x in claim.lines.all()), Decimal(0))
        paid_in_transaction(
            actor=billing, claim=claim, amount=(total * Decimal("0.8")).quantize(Decimal("0.01"))
        )
    counts.update(batches=batches, denied=len(denied), paid=len(answered) - len(denied))
    return counts
