"""Demo consultations per indication, clinic-defined off-label protocols and a facial-pain patient
(issue 10 items 2, 10, 11 and the consultation stage of item 12).

At each clinic: one patient of every indication at the consultation stage (no session yet) with a
filled consultation note (a signed one with the decision to treat, or a draft), the cervical
dystonia patient with prior toxins in their own products' units and the posture at two visits; a
clinic-defined facial-pain protocol built by the clinic's physician, and a facial-pain patient with
an ordered off-label plan, a signed consultation and one signed session. The Northside facial-pain
patient has the portal login ``patient.pain``. Bulk rows, like the rest of the demo (one audit row
per seeding run).
"""

from __future__ import annotations

import random
import zoneinfo
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from bontrack.accounts.models import PortalAccount, User
from bontrack.accounts.roles import Role
from bontrack.core.models import Clinic, Practice
from bontrack.diaries.models import (
    ConsultationNote,
    PostureAssessment,
    PostureFinding,
    PriorToxinTreatment,
)
from bontrack.inventory.choices import VialStatus
from bontrack.inventory.models import Lot, Vial
from bontrack.ops.demo.signing import mark_signed
from bontrack.patients.models import Condition, Patient
from bontrack.treatments import facts
from bontrack.treatments.models import (
    OFF_LABEL_INDICATION,
    ClinicProtocol,
    ClinicProtocolLine,
    Injection,
    PlanLine,
    TreatmentPlan,
    TreatmentSession,
    VialUse,
)

PAIN_LOGIN = "patient.pain"
# (indication, child) pairs each clinic shows at the consultation stage.
NEEDED = [
    ("cervical_dystonia", False),
    ("blepharospasm", False),
    ("upper_limb_spasticity", False),
    ("lower_limb_spasticity", True),
    ("chronic_migraine", False),
]

# Demo wording per indication: (history, symptoms, previous treatments, goals, examination, plan,
# decision reasons). Plain clinical prose, no doses.
NOTES: dict[str, tuple[str, ...]] = {
    "cervical_dystonia": (
        "Involuntary turning of the head to the left for four years, worse with stress and "
        "fatigue. No family history of dystonia. No neuroleptic exposure.",
        "Head turns to the left with a tilt to the right; jerky head tremor; neck and shoulder "
        "pain most evenings. Touching the chin helps briefly.",
        "Trihexyphenidyl stopped for dry mouth and confusion. Two courses of another toxin "
        "elsewhere (see prior toxin treatments), last one helped for about ten weeks.",
        "\u201cI want to drive and look over my shoulder without my head pulling, and sleep "
        "without neck pain.\u201d",
        "Left rotation with right laterocollis, left shoulder elevated, irregular tremor. "
        "Hypertrophy of the right sternocleidomastoid and left splenius capitis.",
        "Start BOTOX for cervical dystonia; EMG guidance; review at 4-6 weeks with TWSTRS and "
        "Tsui scores.",
        "Disabling, painful cervical dystonia with good earlier response to a toxin and "
        "intolerance of oral drugs.",
    ),
    "blepharospasm": (
        "Increasing blinking and forced eye closure for two years; stopped driving last winter.",
        "Eyes squeeze shut several times a minute, worse in bright light and when reading.",
        "Tinted glasses help a little. No earlier toxin treatment.",
        "\u201cTo read the newspaper and cross the road safely.\u201d",
        "Bilateral orbicularis oculi spasms, normal eye movements and lid elevation between "
        "spasms.",
        "Start with the labelled initial pattern around each eye; Jankovic and BDI at baseline "
        "and review.",
        "Functional blindness from blepharospasm without an earlier toxin.",
    ),
    "upper_limb_spasticity": (
        "Left hemiparesis after a right middle cerebral artery stroke 14 months ago.",
        "Clenched left hand and flexed elbow; hygiene of the palm is difficult; pain at night.",
        "Stretching programme and a resting splint; baclofen caused drowsiness.",
        "\u201cOpen my hand enough to wash it and put my arm through a sleeve.\u201d",
        "Modified Ashworth elbow flexors 2, wrist flexors 3, finger flexors 3.",
        "Treat elbow, wrist and finger flexors with ultrasound guidance; goal attainment "
        "scaling with the therapist.",
        "Focal spasticity interfering with care and dressing; clear goals agreed.",
    ),
    "lower_limb_spasticity": (
        "Spastic diplegia (cerebral palsy); toe walking has increased with growth.",
        "Walks on tiptoes, trips at school, calf cramps at night.",
        "Night splints and daily stretching; serial casting last year helped for a while.",
        "\u201cTo keep up with my friends at football without falling.\u201d",
        "Modified Ashworth ankle plantarflexors 2 both sides; passive dorsiflexion to neutral.",
        "Treat both calves after a new weight; physiotherapy and casting after the session.",
        "Dynamic equinus limiting walking despite splints and stretching.",
    ),
    "chronic_migraine": (
        "Migraine since her teens, daily or near-daily headache for the last two years.",
        "Throbbing headache with nausea and light sensitivity on most days.",
        "Topiramate and propranolol not tolerated; amitriptyline ineffective.",
        "\u201cWork full days again and be there for my children in the evenings.\u201d",
        "Normal neurological examination.",
        "Keep the headache diary for the eligibility assessment.",
        "",
    ),
    OFF_LABEL_INDICATION: (
        "Constant burning pain over the left temple and brow for three years after a dental "
        "procedure; worse with chewing and cold wind.",
        "Daily pain, 7 out of 10 most days; allodynia over the left forehead.",
        "Carbamazepine and gabapentin not tolerated; nerve blocks helped for a few days.",
        "\u201cTo get through a working day without pain and to stop avoiding going out.\u201d",
        "Tender left temporalis and frontalis; normal cranial nerves; imaging normal.",
        "Off-label BOTOX following the clinic's facial pain protocol; pain score before each "
        "session and at the review; consent explains that the treatment is off-label.",
        "Refractory facial pain after oral treatments; the patient accepts off-label treatment.",
    ),
}
PRIOR_TOXINS = [
    (
        "abobotulinumtoxinA",
        Decimal("500"),
        230,
        "Left SCM, right splenius capitis",
        "Helped about ten weeks; mild trouble swallowing for a week",
    ),
    (
        "incobotulinumtoxinA",
        Decimal("120"),
        330,
        "Left SCM, right splenius capitis, left trapezius",
        "Partial benefit",
    ),
]
POSTURES = [
    (
        0,
        [
            ("rotation", "left"),
            ("laterocollis", "right"),
            ("shoulder_elevation", "left"),
            ("tremor", "left"),
        ],
        "Sensory trick: hand on the chin",
    ),
    (
        35,
        [("rotation", "left"), ("laterocollis", "right"), ("tremor", "left")],
        "Before the consultation, at the referral visit",
    ),
]
PROTOCOLS: dict[str, tuple[str, str, list[tuple[str, int]]]] = {
    "northside": (
        "Facial pain, temple and brow",
        "Persistent facial pain over the temple and brow (one side)",
        [("temporalis", 4), ("frontalis", 2), ("corrugator", 1), ("occipitalis", 2)],
    ),
    "riverside": (
        "Facial pain, temple and neck",
        "Persistent facial and upper neck pain (one side)",
        [("temporalis", 4), ("splenius_capitis", 2), ("trapezius", 2)],
    ),
}


def _at(day: date, zone: zoneinfo.ZoneInfo, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=zone)


def _physician(practice: Practice, clinic: Clinic) -> User | None:
    qs = User.objects.filter(practice=practice, memberships__role=Role.PHYSICIAN)
    return qs.filter(memberships__clinic=clinic).first() or qs.first()


def _age(patient: Patient, today: date) -> int:
    dob = patient.date_of_birth
    return today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))


def _note(
    patient: Patient, indication: str, doctor: User | None, visit: date, signed: bool
) -> ConsultationNote:
    history, symptoms, previous, goals, exam, plan, reasons = NOTES[indication]
    decision = "treat" if reasons else ""
    return ConsultationNote.objects.create(
        patient=patient,
        indication=indication,
        visit_date=visit,
        patient_history=history,
        patient_symptoms=symptoms,
        patient_goals=goals,
        patient_submitted_at=_at(
            visit - timedelta(days=3), zoneinfo.ZoneInfo(patient.clinic.time_zone), 19
        ),
        history=history,
        symptoms=symptoms,
        previous_treatments=previous,
        goals=goals,
        examination=exam,
        plan=plan,
        decision=decision if signed else "",
        decision_reasons=reasons if signed else "",
        author=doctor,
        signed_at=_at(visit, zoneinfo.ZoneInfo(patient.clinic.time_zone), 12) if signed else None,
    )


def seed_demo_consultations(
    *, practice: Practice, rng: random.Random, today: date, exclude: set[str]
) -> dict[str, Any]:
    clinics = list(Clinic.objects.filter(practice=practice).order_by("pk"))
    treated = set(
        TreatmentSession.objects.filter(patient__practice=practice).values_list(
            "patient_id", flat=True
        )
    ) | set(
        TreatmentPlan.objects.filter(patient__practice=practice).values_list(
            "patient_id", flat=True
        )
    )
    conditions = (
        Condition.objects.filter(patient__practice=practice, active=True)
        .select_related("patient", "patient__clinic")
        .order_by("patient__mrn")
    )
    from bontrack.patients.facts import adult_age as _adult_age

    adult_age = _adult_age()
    chosen: dict[tuple[int, str, bool], Patient] = {}
    for c in conditions:
        p = c.patient
        if p.pk in treated or p.mrn in exclude or p.status != "active":
            continue
        child = _age(p, today) < adult_age
        key = (p.clinic_id, c.indication, child)
        if child and not c.indication.endswith("limb_spasticity"):
            continue
        chosen.setdefault(key, p)
    # Every indication at each clinic: when the random population has no untreated patient of
    # one, an untreated patient of the right age gets that condition.
    from bontrack.patients.facts import codes_for

    taken = {p.pk for p in chosen.values()}
    for clinic in clinics:
        for indication, child in NEEDED:
            if (clinic.pk, indication, child) in chosen:
                continue
            pool = list(
                Patient.objects.filter(clinic=clinic, status="active")
                .exclude(pk__in=treated | taken)
                .exclude(mrn__in=exclude)
                .order_by("-mrn")
            )
            patient = next((p for p in pool if (_age(p, today) < adult_age) == child), None)
            if patient is None and child:  # no untreated child at this clinic: an adult leg
                patient = next((p for p in pool if _age(p, today) >= adult_age), None)
            if patient is None:
                continue
            Condition.objects.create(
                patient=patient, indication=indication, icd10_code=codes_for(indication)[0]
            )
            chosen[(clinic.pk, indication, child)] = patient
            taken.add(patient.pk)
    counts: dict[str, Any] = {"consultations": 0, "postures": 0, "protocols": 0, "logins": []}
    used: set[int] = set()
    for clinic in clinics:
        doctor = _physician(practice, clinic)
        zone = zoneinfo.ZoneInfo(clinic.time_zone)
        for (clinic_id, indication, child), patient in sorted(
            chosen.items(), key=lambda kv: (kv[0][1], kv[0][2])
        ):
            if clinic_id != clinic.pk or patient.pk in used:
                continue
            if indication == "lower_limb_spasticity" and not child:
                continue  # one lower-limb patient per clinic: the child
            used.add(patient.pk)
            visit = today - timedelta(days=rng.randint(2, 12))
            signed = indication != "chronic_migraine"
            note = _note(patient, indication, doctor, visit, signed)
            counts["consultations"] += 1
            if indication == "cervical_dystonia":
                for product, units, days_ago, injected, response in PRIOR_TOXINS:
                    PriorToxinTreatment.objects.create(
                        consultation=note,
                        product=product,
                        units=units,
                        last_given_on=today - timedelta(days=days_ago),
                        muscles=injected,
                        response=response,
                        recorded_by=doctor,
                    )
                for days_before, findings, text in POSTURES:
                    a = PostureAssessment.objects.create(
                        patient=patient,
                        consultation=note,
                        visit_date=visit - timedelta(days=days_before),
                        note=text,
                        recorded_by=doctor,
                    )
                    PostureFinding.objects.bulk_create(
                        PostureFinding(assessment=a, component=c, direction=d) for c, d in findings
                    )
                    counts["postures"] += 1
        # The clinic's off-label facial pain protocol and one patient on it.
        name, condition, muscles = PROTOCOLS.get(clinic.slug, PROTOCOLS["northside"])
        if doctor is None:
            continue
        per_site = facts.units_per_site()  # the demo's per-site dose: the rules' PREEMPT one
        protocol = ClinicProtocol.objects.create(
            clinic=clinic,
            name=name,
            condition=condition,
            rationale=(
                "Off-label: no labelled protocol exists. Built from the head, face and neck "
                "muscles for patients whose facial pain resisted oral treatment and nerve blocks."
            ),
            created_by=doctor,
        )
        side = "left" if clinic.slug == "northside" else "right"
        ClinicProtocolLine.objects.bulk_create(
            ClinicProtocolLine(
                protocol=protocol, muscle=m, side=side, sites=n, units=per_site * n, position=i
            )
            for i, (m, n) in enumerate(muscles)
        )
        counts["protocols"] += 1
        candidate = (
            Patient.objects.filter(clinic=clinic, status="active")
            .exclude(pk__in=treated | used | taken)
            .exclude(mrn__in=exclude)
            .filter(date_of_birth__lte=today - timedelta(days=365 * 30))
            .order_by("mrn")
            .first()
        )
        if candidate is None:
            continue
        used.add(candidate.pk)
        _note(candidate, OFF_LABEL_INDICATION, doctor, today - timedelta(days=40), True)
        counts["consultations"] += 1
        plan = TreatmentPlan.objects.create(
            patient=candidate,
            clinic=clinic,
            indication=OFF_LABEL_INDICATION,
            clinic_protocol=protocol,
            note="Off-label: clinic-defined facial pain protocol",
            created_by=doctor,
            ordered_by=doctor,
            ordered_at=timezone.now(),
        )
        PlanLine.objects.bulk_create(
            PlanLine(plan=plan, muscle=m, side=side, sites=n, units=per_site * n, position=i)
            for i, (m, n) in enumerate(muscles)
        )
        _signed_session(candidate, plan, doctor, _at(today - timedelta(days=30), zone, 10))
        if clinic.slug == "northside" and not User.objects.filter(username=PAIN_LOGIN).exists():
            from bontrack.ops.seed import DEMO_PASSWORD

            user = User(
                username=PAIN_LOGIN,
                first_name=candidate.first_name,
                last_name=candidate.last_name,
                email=candidate.email,
            )
            user.set_password(DEMO_PASSWORD)
            user.save()
            PortalAccount.objects.create(user=user, patient=candidate)
            counts["logins"].append(
                (
                    PAIN_LOGIN,
                    f"Patient portal — {candidate.full_name} (facial pain, off-label)",
                    "/portal/",
                )
            )
    return counts


def _signed_session(
    patient: Patient, plan: TreatmentPlan, doctor: User, performed: datetime
) -> None:
    """One signed session from the off-label plan, checked by the rules like every demo session."""
    session = TreatmentSession.objects.create(
        patient=patient,
        clinic=patient.clinic,
        indication=OFF_LABEL_INDICATION,
        indications=[OFF_LABEL_INDICATION],
        performed_at=performed,
        plan=plan,
        consent_obtained=True,
        medication_guide_offered=True,
        note="Off-label treatment explained; consent for off-label use signed.",
        created_by=doctor,
    )
    Injection.objects.bulk_create(
        Injection(
            session=session,
            indication=OFF_LABEL_INDICATION,
            muscle=ln.muscle,
            side=ln.side,
            sites=ln.sites,
            units=ln.units,
            position=i,
        )
        for i, ln in enumerate(plan.lines.all())
    )
    units = sum((ln.units for ln in plan.lines.all()), Decimal(0))
    lot = Lot.objects.filter(practice=patient.practice, size_units=100).first()
    if lot is not None:
        VialUse.objects.create(
            vial=Vial.objects.create(
                lot=lot, clinic=patient.clinic, status=VialStatus.USED, patient=patient
            ),
            session=session,
            reconstituted_at=performed - timedelta(minutes=30),
            diluent_ml=facts.cm_diluent_ml(lot.size_units),
            units_used=units,
            units_wasted=Decimal(lot.size_units) - units,
            opened_by=doctor,
        )
    mark_signed(session, doctor, performed + timedelta(minutes=30))
