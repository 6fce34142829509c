"""Codes of the treatments app. Clinical codes (indication, product, muscle, side) are clinic_rules'."""

from django.db import models


class SessionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"
    # Signed by a nurse injector but off the physician's order (or with a warning the nurse
    # acknowledged, or without an order): the treatment was given; a physician must co-sign.
    AWAITING_COSIGN = "awaiting", "Awaiting co-signature"
    # A signed session whose correction (an amendment row) has been signed: kept, no longer current.
    AMENDED = "amended", "Amended (superseded by a signed amendment)"


# A treatment was given: dose windows, recall, check-ins and response reviews count these.
# Only SIGNED is final (claimable); AWAITING_COSIGN waits for a physician's co-signature.
GIVEN_STATUSES = (SessionStatus.SIGNED, SessionStatus.AWAITING_COSIGN)


class Side(models.TextChoices):
    LEFT = "left", "Left"
    RIGHT = "right", "Right"
    MIDLINE = "midline", "Midline"
    BILATERAL = "bilateral", "Bilateral"


class Guidance(models.TextChoices):
    """How the needle was placed at a site (what billing's guidance add-on codes need)."""

    EMG = "emg", "Needle EMG"
    ESTIM = "estim", "Electrical stimulation"
    ULTRASOUND = "ultrasound", "Ultrasound"
    LANDMARKS = "landmarks", "Anatomical landmarks (no instrument)"


class InjectionStatus(models.TextChoices):
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped"


class Diluent(models.TextChoices):
    SALINE_PF = "saline_pf", "Preservative-free 0.9% sodium chloride"


class DecisionKind(models.TextChoices):
    OVERRIDE = "override", "Physician override (block)"
    ACKNOWLEDGE = "acknowledge", "Acknowledged (warning)"


class AdverseEffectKind(models.TextChoices):
    PTOSIS = "ptosis", "Drooping eyelid (ptosis)"
    NECK_PAIN = "neck_pain", "Neck pain"
    NECK_WEAKNESS = "neck_weakness", "Neck weakness"
    DYSPHAGIA = "dysphagia", "Trouble swallowing"
    # The boxed warning's distant spread of toxin effect (with dysphagia): urgent when reported,
    # as clinic_rules' BTX-SPREAD-URGENT-SYMPTOMS lists them.
    SPEECH_DIFFICULTY = "speech_difficulty", "Trouble speaking or a changed voice"
    BREATHING_DIFFICULTY = "breathing_difficulty", "Trouble breathing"
    GENERALIZED_WEAKNESS = "generalized_weakness", "Weakness all over the body"
    OTHER = "other", "Something else"


class AdverseEffectStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class Reporter(models.TextChoices):
    PATIENT = "patient", "Patient (portal)"
    STAFF = "staff", "Staff"


class ReviewDecision(models.TextChoices):
    CONTINUE = "continue", "Continue"
    ADJUST = "adjust", "Adjust the plan"
    STOP = "stop", "Stop treatment"
