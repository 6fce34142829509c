"""Deterministic demo and benchmark data. Bulk inserts; one audit row per seeding run."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from bontrack.accounts.models import Membership, PortalAccount, User
from bontrack.accounts.roles import Role
from bontrack.audit import audit
from bontrack.core.models import Clinic, Practice
from bontrack.patients.choices import (
    ContactChannel,
    Flag,
    Indication,
    Language,
    PatientStatus,
    PreventiveClass,
    PriorOutcome,
    Sex,
)
from bontrack.patients.models import (
    Condition,
    Patient,
    PatientFlag,
    PriorTreatment,
    WeightMeasurement,
    name_key,
)

FEMALE = [
    "Olivia",
    "Emma",
    "Ava",
    "Sophia",
    "Isabella",
    "Mia",
    "Amelia",
    "Harper",
    "Evelyn",
    "Abigail",
    "Emily",
    "Ella",
    "Grace",
    "Chloe",
    "Camila",
    "Lucia",
    "Maria",
    "Aisha",
    "Priya",
    "Mei",
    "Fatima",
    "Hannah",
    "Nora",
    "Zoe",
    "Leah",
    "Ingrid",
    "Rosa",
    "Yara",
    "Keiko",
    "Ana",
    "Julia",
    "Claire",
    "Naomi",
    "Sara",
    "Elena",
]
MALE = [
    "Liam",
    "Noah",
    "Oliver",
    "Elijah",
    "James",
    "William",
    "Benjamin",
    "Lucas",
    "Henry",
    "Theodore",
    "Mateo",
    "Daniel",
    "Samuel",
    "David",
    "Joseph",
    "Omar",
    "Arjun",
    "Wei",
    "Hiroshi",
    "Carlos",
    "Ahmed",
    "Ivan",
    "Felix",
    "Marcus",
    "Thomas",
    "Andre",
    "Kofi",
    "Diego",
    "Rafael",
    "Jonah",
    "Leo",
    "Adam",
    "Paul",
    "Victor",
]
LAST = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Patel",
    "Kim",
    "Chen",
    "Okafor",
    "Haddad",
    "Novak",
    "Kowalski",
    "Schmidt",
    "Rossi",
    "Dubois",
    "Yamamoto",
    "Singh",
    "Cohen",
    "O'Brien",
    "Murphy",
    "Costa",
    "Silva",
    "Ivanova",
    "Larsen",
    "Mensah",
]
STREETS = [
    "Maple Ave",
    "Oak St",
    "Cedar Rd",
    "Elm St",
    "Lakeview Dr",
    "Hillcrest Blvd",
    "Riverside Dr",
]

# (indication, share of patients, ICD-10-CM codes, adult?)
CASE_MIX = [
    (Indication.CHRONIC_MIGRAINE, 0.50, ["G43.709", "G43.719", "G43.E09", "G43.701"], True),
    (Indication.CERVICAL_DYSTONIA, 0.15, ["G24.3"], True),
    (Indication.BLEPHAROSPASM, 0.08, ["G24.5"], True),
    (
        Indication.UPPER_LIMB_SPASTICITY,
        0.15,
        ["I69.351", "I69.352", "I69.353", "I69.354", "G81.11", "G35"],
        True,
    ),
    (Indication.LOWER_LIMB_SPASTICITY, 0.07, ["I69.351", "I69.354", "G35"], True),
    (
        Indication.LOWER_LIMB_SPASTICITY,
        0.05,
        ["G80.0", "G80.1", "G80.2"],
        False,
    ),  # pediatric cerebral palsy
]
MIGRAINE_PREVENTIVES = [
    ("Topiramate", PreventiveClass.ANTICONVULSANT),
    ("Propranolol", PreventiveClass.BETA_BLOCKER),
    ("Amitriptyline", PreventiveClass.TRICYCLIC),
    ("Candesartan", PreventiveClass.ARB_ACE),
    ("Venlafaxine", PreventiveClass.SNRI),
    ("Metoprolol", PreventiveClass.BETA_BLOCKER),
    ("Sodium valproate", PreventiveClass.ANTICONVULSANT),
    ("Erenumab", PreventiveClass.CGRP_ANTIBODY),
    ("Flunarizine", PreventiveClass.CALCIUM_CHANNEL_BLOCKER),
]
FLAG_RATES = [
    (Flag.NEUROMUSCULAR_DISORDER, 0.02),
    (Flag.PREGNANCY_OR_BREASTFEEDING, 0.02),
    (Flag.AMINOGLYCOSIDE_USE, 0.01),
    (Flag.DYSPHAGIA_OR_BREATHING, 0.03),
    (Flag.BOTULINUM_HYPERSENSITIVITY, 0.005),
    (Flag.INJECTION_SITE_INFECTION, 0.005),
    (Flag.OTHER_TOXIN_LAST_4_MONTHS, 0.01),
]

DEMO_PASSWORD = "demo-pass-2026"
# Fixed TOTP keys so the demo's physician and administrator can add them to an authenticator app.
DEMO_TOTP_HEX = "3132333435363738393031323334353637383930"


@dataclass
class SeedResult:
    practice: Practice
    clinics: list[Clinic]
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # (username, role label, note)
    patients: int = 0


def _pick_case(rng: random.Random) -> tuple[str, list[str], bool]:
    r = rng.random()
    acc = 0.0
    for indication, share, codes, adult in CASE_MIX:
        acc += share
        if r < acc:
            return indication, codes, adult
    indication, _, codes, adult = CASE_MIX[0]
    return indication, codes, adult


def _pediatric_weight(rng: random.Random, age: int) -> Decimal:
    # Plausible growth-curve-like demo weights; demographic filler, not a clinical rule.
    base = 3.5 + age * 2.6 + (max(age - 9, 0) * 2.2)
    return Decimal(str(round(base * rng.uniform(0.85, 1.2), 1)))


def build_patients(
    *,
    practice: Practice,
    clinics: list[Clinic],
    count: int,
    rng: random.Random,
    today: date,
    mrn_prefix: str,
    batch_size: int = 2000,
    progress: object = None,
) -> int:
    """Bulk-create `count` patients with weights, conditions, flags and prior treatments."""
    made = 0
    while made < count:
        n = min(batch_size, count - made)
        patients: list[Patient] = []
        plans: list[tuple[str, list[str], bool]] = []
        for i in range(made, made + n):
            indication, codes, adult = _pick_case(rng)
            age = rng.randint(19, 82) if adult else rng.randint(2, 17)
            dob = today - timedelta(days=age * 365 + rng.randint(0, 364))
            sex = rng.choices([Sex.FEMALE, Sex.MALE, Sex.OTHER], weights=[64, 35, 1])[0]
            if indication == Indication.CHRONIC_MIGRAINE:
                sex = rng.choices([Sex.FEMALE, Sex.MALE], weights=[78, 22])[0]
            first = rng.choice(
                FEMALE if sex == Sex.FEMALE else MALE if sex == Sex.MALE else FEMALE + MALE
            )
            last = rng.choice(LAST)
            patients.append(
                Patient(
                    practice=practice,
                    clinic=clinics[i % len(clinics)],
                    mrn=f"{mrn_prefix}{i + 1:07d}",
                    first_name=first,
                    last_name=last,
                    date_of_birth=dob,
                    sex=sex,
                    phone=f"+1-555-{rng.randint(200, 999):03d}-{rng.randint(0, 9999):04d}",
                    email=f"{first}.{last}{i}@example.org".lower().replace("'", ""),
                    preferred_contact=rng.choices(
                        list(ContactChannel.values), weights=[60, 20, 15, 5]
                    )[0],
                    preferred_language=rng.choices(
                        [Language.EN, Language.ES, Language.ZH, Language.VI, Language.FR],
                        weights=[80, 12, 3, 3, 2],
                    )[0],
                    status=PatientStatus.ACTIVE if rng.random() > 0.04 else PatientStatus.INACTIVE,
                    name_key=name_key(last, first),
                )
            )
            plans.append((indication, codes, adult))
        Patient.objects.bulk_create(patients, batch_size=batch_size)
        weights, conditions, flags, priors = [], [], [], []
        for patient, (indication, codes, adult) in zip(patients, plans, strict=True):
            age = (today - patient.date_of_birth).days // 365
            visits = rng.randint(1, 3) if adult else rng.randint(2, 4)
            base = (
                Decimal(str(round(rng.uniform(52, 105), 1)))
                if adult
                else _pediatric_weight(rng, age)
            )
            for v in range(visits):
                measured = today - timedelta(days=v * rng.randint(60, 120) + rng.randint(0, 20))
                drift = Decimal(str(round(rng.uniform(-1.5, 1.5), 1)))
                weights.append(
                    WeightMeasurement(
                        patient=patient,
                        measured_on=max(measured, patient.date_of_birth),
                        weight_kg=max(base + drift, Decimal("8.0")),
                    )
                )
            conditions.append(
                Condition(
                    patient=patient,
                    indication=indication,
                    icd10_code=rng.choice(codes),
                    diagnosed_on=today - timedelta(days=rng.randint(120, 3000))
                    if adult
                    else patient.date_of_birth + timedelta(days=rng.randint(200, 700)),
                )
            )
            for flag, rate in FLAG_RATES:
                if flag == Flag.PREGNANCY_OR_BREASTFEEDING and (
                    patient.sex != Sex.FEMALE or not adult or age > 48
                ):
                    continue
                if rng.random() < rate:
                    flags.append(
                        PatientFlag(
                            patient=patient,
                            flag=flag,
                            noted_on=today - timedelta(days=rng.randint(0, 400)),
                        )
                    )
            if indication == Indication.CHRONIC_MIGRAINE:
                start = today - timedelta(days=rng.randint(900, 2500))
                for drug, drug_class in rng.sample(MIGRAINE_PREVENTIVES, rng.randint(1, 4)):
                    stop = start + timedelta(days=rng.randint(60, 300))
                    priors.append(
                        PriorTreatment(
                            patient=patient,
                            drug=drug,
                            drug_class=drug_class,
                            started_on=start,
                            stopped_on=stop,
                            outcome=rng.choices(
                                [
                                    PriorOutcome.INEFFECTIVE,
                                    PriorOutcome.NOT_TOLERATED,
                                    PriorOutcome.CONTRAINDICATED,
                                ],
                                weights=[60, 35, 5],
                            )[0],
                        )
                    )
                    start = stop + timedelta(days=rng.randint(14, 120))
        WeightMeasurement.objects.bulk_create(weights, batch_size=batch_size)
        Condition.objects.bulk_create(conditions, batch_size=batch_size)
        PatientFlag.objects.bulk_create(flags, batch_size=batch_size)
        PriorTreatment.objects.bulk_create(priors, batch_size=batch_size)
        made += n
        if callable(progress):
            progress(made, count)
    return made


def _staff(
    practice: Practice,
    username: str,
    first: str,
    last: str,
    role: str,
    clinic: Clinic | None,
    password: str,
) -> User:
    user = User(
        username=username,
        first_name=first,
        last_name=last,
        email=f"{username}@demo.bontrack.local",
        practice=practice,
    )
    user.set_password(password)
    user.save()
    Membership.objects.create(user=user, practice=practice, clinic=clinic, role=role)
    return user


@transaction.atomic(durable=True)
def seed_demo(*, today: date, patients: int = 200, seed: int = 2026) -> SeedResult:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    rng = random.Random(seed)
    practice = Practice.objects.create(name="Lakeside Neurology Associates", slug="demo")
    north = Clinic.objects.create(
        practice=practice,
        name="Lakeside Neurology — Northside",
        slug="northside",
        address="120 Maple Ave, Springfield",
        phone="+1-555-201-1000",
        contact_email="northside.clinical@lakeside-neuro.example",
    )
    river = Clinic.objects.create(
        practice=practice,
        name="Lakeside Neurology — Riverside",
        slug="riverside",
        address="88 Riverside Dr, Springfield",
        phone="+1-555-201-2000",
        contact_email="riverside.clinical@lakeside-neuro.example",
    )
    result = SeedResult(practice=practice, clinics=[north, river])
    staff = [
        ("dr.lee", "Grace", "Lee", Role.PHYSICIAN, north, "TOTP required"),
        ("nurse.kim", "Daniel", "Kim", Role.NURSE, north, ""),
        ("desk.ortiz", "Maria", "Ortiz", Role.FRONT_DESK, north, ""),
        ("billing.wu", "Henry", "Wu", Role.BILLING, None, "all clinics"),
        ("admin.patel", "Priya", "Patel", Role.CLINIC_ADMIN, None, "all clinics; TOTP required"),
        ("dr.okafor", "Kofi", "Okafor", Role.PHYSICIAN, river, "TOTP required"),
        ("desk.silva", "Ana", "Silva", Role.FRONT_DESK, river, ""),
        ("nurse.reyes", "Lucia", "Reyes", Role.NURSE, river, ""),
    ]
    for username, first, last, role, clinic, note in staff:
        user = _staff(practice, username, first, last, role, clinic, DEMO_PASSWORD)
        if user.requires_mfa():
            TOTPDevice.objects.create(
                user=user, name="Demo authenticator", key=DEMO_TOTP_HEX, confirmed=True
            )
        result.logins.append(
            (username, Role(role).label + (f" — {clinic.name}" if clinic else ""), note)
        )
    result.patients = build_patients(
        practice=practice,
        clinics=[north, river],
        count=patients,
        rng=rng,
        today=today,
        mrn_prefix="LN",
    )
    for mrn, username in (("LN0000001", "patient.demo"), ("LN0000002", "patient.two")):
        patient = Patient.objects.get(practice=practice, mrn=mrn)
        user = User(
            username=username,
            first_name=patient.first_name,
            last_name=patient.last_name,
            email=patient.email,
        )
        user.set_password(DEMO_PASSWORD)
        user.save()
        PortalAccount.objects.create(user=user, patient=patient)
        result.logins.append((username, f"Patient portal — {patient.full_name}", "/portal/"))
    from bontrack.ops.demo.diaries import seed_demo_diaries

    seed_demo_diaries(practice=practice, rng=random.Random(seed + 4), today=today)
    from bontrack.ops.demo.treatments import seed_demo_treatments

    seed_demo_treatments(practice=practice, rng=random.Random(seed + 5), today=today)
    from bontrack.ops.demo.inventory import seed_demo_inventory

    seed_demo_inventory(practice=practice, today=today)
    from bontrack.ops.demo.consultations import seed_demo_consultations
    from bontrack.ops.demo.diaries import DEMO_STAGES

    consulted = seed_demo_consultations(
        practice=practice,
        rng=random.Random(seed + 7),
        today=today,
        exclude=set(DEMO_STAGES.values()),
    )
    result.logins.extend(consulted["logins"])
    from bontrack.ops.demo.scales import seed_demo_scales

    scale_demo = seed_demo_scales(practice=practice, today=today, password=DEMO_PASSWORD)
    if scale_demo.get("portal") is not None:
        result.logins.append(
            (
                "patient.three",
                f"Patient portal — {scale_demo['portal'].full_name} (cervical dystonia)",
                "/portal/scales/",
            )
        )
    from bontrack.ops.demo.scheduling import seed_demo_scheduling

    seed_demo_scheduling(practice=practice, rng=random.Random(seed + 6), today=today)
    from bontrack.ops.demo.authorizations import seed_demo_authorizations

    seed_demo_authorizations(practice=practice, rng=random.Random(seed + 7), today=today)
    from bontrack.ops.demo.access import seed_demo_access

    duplicate_pair = seed_demo_access(practice=practice, rng=random.Random(seed + 7), today=today)
    from bontrack.ops.demo.claims import seed_demo_claims

    seed_demo_claims(practice=practice, rng=random.Random(seed + 7), today=today)
    from bontrack.ops.demo.access import session_on_duplicate

    session_on_duplicate(duplicate_pair)
    from bontrack.ops.dashboard.refresh import backfill

    # The program dashboard's rollup (the worker keeps it current from here on).
    backfill(
        list(Patient.objects.filter(practice=practice).values_list("pk", flat=True)), today=today
    )
    audit.record(
        actor=None,
        action="seed",
        object_type="core.practice",
        object_id=str(practice.pk),
        practice_id=practice.pk,
        summary=f"Demo practice seeded with {result.patients} patients",
    )
    return result
