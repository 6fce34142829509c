"""A clinic's starting configuration: the four appointment types and the program pages.

The program pages are plain-language text written for BoNTrack; clinic administrators edit
them. They carry no dose or clinical number beyond the 12-week rhythm the program is built on.
"""

from __future__ import annotations

from bontrack.accounts.roles import Role
from bontrack.core.models import Clinic
from bontrack.scheduling.models import (
    DEFAULT_REMINDER_OFFSETS,
    AppointmentType,
    Kind,
    Modality,
    ProgramPage,
    SchedulingSettings,
)

CLINICIANS = [Role.PHYSICIAN, Role.NURSE]

DEFAULT_TYPES = [
    {
        "code": "free-video-consult",
        "name": "Free video consultation",
        "kind": Kind.CONSULTATION,
        "modality": Modality.VIDEO,
        "duration_minutes": 15,
        "buffer_after_minutes": 5,
        "delivered_by": [Role.PHYSICIAN, Role.NURSE],
        "self_bookable": True,
        "free_of_charge": True,
        "min_notice_minutes": 120,
        "horizon_days": 42,
        "description": "A free 15-minute video call to talk about whether the treatment could help you.",
    },
    {
        "code": "consult",
        "name": "In-person consultation",
        "kind": Kind.CONSULTATION,
        "modality": Modality.IN_PERSON,
        "duration_minutes": 30,
        "buffer_after_minutes": 5,
        "delivered_by": [Role.PHYSICIAN],
        "self_bookable": True,
        "min_notice_minutes": 24 * 60,
        "horizon_days": 60,
        "description": "A 30-minute visit with a physician: history, examination and a plan.",
    },
    {
        "code": "treatment",
        "name": "Treatment session",
        "kind": Kind.TREATMENT,
        "modality": Modality.IN_PERSON,
        "duration_minutes": 30,
        "buffer_before_minutes": 5,
        "buffer_after_minutes": 10,
        "delivered_by": CLINICIANS,
        "self_bookable": False,
        "min_notice_minutes": 24 * 60,
        "horizon_days": 180,
        "description": "The injection session itself (booked by the clinic).",
    },
    {
        "code": "follow-up",
        "name": "Follow-up (in person)",
        "kind": Kind.FOLLOW_UP,
        "modality": Modality.IN_PERSON,
        "duration_minutes": 15,
        "delivered_by": CLINICIANS,
        "self_bookable": False,
        "min_notice_minutes": 24 * 60,
        "horizon_days": 120,
        "description": "A short check on how the last treatment worked.",
    },
    {
        "code": "follow-up-video",
        "name": "Follow-up (video)",
        "kind": Kind.FOLLOW_UP,
        "modality": Modality.VIDEO,
        "duration_minutes": 15,
        "delivered_by": CLINICIANS,
        "self_bookable": False,
        "min_notice_minutes": 120,
        "horizon_days": 120,
        "description": "A short video check on how the last treatment worked.",
    },
]

_STEPS = """## The four steps
1. A free video call. You tell us about your symptoms and what you have tried; we explain the treatment and whether it might suit you.
2. A consultation in the clinic. A physician takes your history, examines you and, with you, decides whether to start.
3. The treatment sessions. Small injections into the muscles involved, in a short visit. You can go home straight after.
4. Ongoing care. We review how you respond, adjust the plan when needed and book the next session with you.

## The 12-week rhythm
The effect of each treatment builds up over days to weeks and then slowly wears off. That is why treatment is repeated on a regular rhythm, usually every 12 weeks. We remind you when your next session is due, and you can book it at the end of each visit.
"""

PROGRAMS = [
    (
        "chronic_migraine",
        "Chronic migraine",
        "If you have headaches on most days of the month, a preventive treatment given every 12 weeks may reduce how often they come.",
        """## What the treatment is
Botulinum toxin is a medicine that relaxes muscles and calms pain signals. For chronic migraine it is given as a set of small injections around the head and neck. It is a preventive treatment: it aims to give you fewer headache days, not to stop a headache that has already started.

## How it works
The medicine acts on nerve endings and reduces the release of substances involved in migraine pain. Most people notice the effect after the second or third session, so we ask you to keep a short headache diary: it shows both of us whether the treatment is working.

"""
        + _STEPS
        + """
## What to expect
A session takes about 15 to 20 minutes. The injections feel like quick pinpricks. Some people have a stiff neck or a mild headache for a day or two. Tell us about anything that worries you.
""",
    ),
    (
        "cervical_dystonia",
        "Cervical dystonia",
        "When neck muscles pull the head into a twisted or tilted position, targeted injections can relax them and ease the pain.",
        """## What the treatment is
Cervical dystonia makes neck muscles contract on their own. Botulinum toxin, injected into the muscles that are overactive, relaxes them for several weeks.

## How it works
The medicine blocks the signal from nerve to muscle in the treated muscles only. We choose the muscles by examining the way your head moves, sometimes with ultrasound or muscle recordings.

"""
        + _STEPS
        + """
## What to expect
The visit is short. The effect starts within a week or two. Some people notice mild swallowing difficulty or neck weakness for a while; call us if that happens.
""",
    ),
    (
        "blepharospasm",
        "Blepharospasm",
        "When the eyelids close or blink on their own, small injections around the eyes can relax the muscles so you can keep your eyes open.",
        """## What the treatment is
Blepharospasm is a condition in which the muscles around the eyes squeeze shut involuntarily. Small injections of botulinum toxin relax these muscles.

## How it works
The medicine reduces the signal from the nerves to the eyelid muscles. The effect lasts for several weeks and the treatment is then repeated.

"""
        + _STEPS
        + """
## What to expect
The injections are very small and quick. Some people have dry eyes or a slightly droopy eyelid for a short time.
""",
    ),
    (
        "upper_limb_spasticity",
        "Spasticity (arm and hand)",
        "After a stroke, brain injury or with multiple sclerosis, stiff arm and hand muscles can be relaxed with injections, together with therapy.",
        """## What the treatment is
Spasticity means that muscles are stiff and tight. Injections of botulinum toxin into the tight muscles can make the arm and hand easier to move, dress and clean.

## How it works
The medicine relaxes the injected muscles for several weeks. It works best together with stretching and therapy, which we plan with you.

"""
        + _STEPS
        + """
## What to expect
We agree goals with you before the first session and check them afterwards. The treated muscles may feel weaker for a while.
""",
    ),
    (
        "lower_limb_spasticity",
        "Spasticity (leg and foot)",
        "Stiff leg and foot muscles, in adults or in children with cerebral palsy, can be relaxed with injections alongside physiotherapy.",
        """## What the treatment is
Injections of botulinum toxin relax tight leg and foot muscles, which can make walking, standing and using a brace easier.

## How it works
The medicine acts only on the injected muscles and wears off over weeks. For children, we work closely with the family and the physiotherapist, and we weigh your child before each session.

"""
        + _STEPS
        + """
## What to expect
Most children and adults go home straight after the session. Physiotherapy in the weeks after each session helps make the most of it.
""",
    ),
]


def ensure_clinic_defaults(clinic: Clinic) -> None:
    """Create the clinic's settings, appointment types and program pages if missing (idempotent)."""
    SchedulingSettings.objects.get_or_create(
        clinic=clinic, defaults={"reminder_offsets_minutes": list(DEFAULT_REMINDER_OFFSETS)}
    )
    existing = set(AppointmentType.objects.filter(clinic=clinic).values_list("code", flat=True))
    AppointmentType.objects.bulk_create(
        [AppointmentType(clinic=clinic, **t) for t in DEFAULT_TYPES if t["code"] not in existing]
    )
    have = set(ProgramPage.objects.filter(clinic=clinic).values_list("indication", flat=True))
    ProgramPage.objects.bulk_create(
        [
            ProgramPage(clinic=clinic, indication=ind, title=title, summary=summary, body=body)
            for ind, title, summary, body in PROGRAMS
            if ind not in have
        ]
    )
